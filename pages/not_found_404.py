"""Shown for any path no page claims."""
import dash

from web.shell import not_found


def layout(**_):
    return not_found()


dash.register_page(__name__, path="/404", title="警康 · 404", layout=layout)
