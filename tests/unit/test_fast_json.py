"""Callback answers go out as the same text Plotly's serialiser writes, without its per-element
cleaning (issue 22)."""
from __future__ import annotations

import datetime as dt
import decimal
import math

import dash_bootstrap_components as dbc
import numpy as np
import plotly.graph_objects as go
import pytest
from dash import dcc, html
from plotly.io.json import to_json_plotly

from portal.perf import to_json


def test_cap102_answers_serialise_exactly_as_plotly_would():
    fig = go.Figure(go.Scatter(x=[1, 2, None, 3.5], y=np.array([1.0, float("nan"), 2.0]),
                               text=["<b>a</b>", "</script>", "\u2028 \u2029"]))
    answer = {"multi": True, "response": {
        "a": {"children": [html.Div(["x", dbc.Badge("y", id={"t": "q", "i": 1}), None, 3, ("t", 2)], **{"data-x": "1"}),
                           dcc.Graph(figure=fig)]},
        "b": {"figure": fig, "data": {"d": dt.date(2026, 1, 2), "t": dt.datetime(2026, 1, 2, 3, 4),
                                      "n": decimal.Decimal("1.5"), "inf": math.inf, "nan": float("nan")}},
        "c": {"figure": {"data": [{"x": np.arange(3), "y": [1, 2, None]}], "layout": {}}},
        "d": {"children": "</script><script>alert(1)</script>"}}}
    text = to_json(answer)
    assert text == to_json_plotly(answer)
    assert "</script>" not in text and "\\u003c\\u002fscript\\u003e" in text  # still safe inside HTML


def test_cap103_what_cannot_be_serialised_still_fails():
    with pytest.raises(TypeError):
        to_json({"x": object()})
