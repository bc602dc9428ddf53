"""Figures as plain dicts, for answers on every page view (issue 22): ``go.Figure`` validates every
property on the way in and deep-copies everything on the way out, which for a map of many polygons
costs more than the query behind it. A dict figure carries the default template itself, so it looks
exactly like the ``go.Figure`` it replaces."""
from __future__ import annotations

import functools


@functools.cache
def default_template() -> dict:
    """The template ``go.Figure()`` puts in every layout (Plotly's default), as plain JSON data."""
    import plotly.graph_objects as go

    return go.Figure().to_plotly_json()["layout"]["template"]


def figure(traces: list[dict], layout: dict) -> dict:
    """``{"data": traces, "layout": layout + the default template}``: every trace names its ``type``."""
    return {"data": traces, "layout": {**layout, "template": default_template()}}
