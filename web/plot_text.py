"""Names in figures: plotly reads a subset of HTML in text, labels and hover text (<a href>,
<b>, <br>, …), so a unit or officer name such as ``<a href=…>`` would become a live link. Every
name placed in a figure goes through :func:`plot_text`, which escapes it; plotly shows the
escaped characters as the plain text they stand for."""
from __future__ import annotations

import html


def plot_text(name) -> str:
    """A name as plain text inside plotly text, labels, legend names and hover labels."""
    return html.escape("" if name is None else str(name), quote=True)
