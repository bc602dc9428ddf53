"""App-wide costs of an answer: compression of the big ones, and per-request CPU timing for
``portal bench --load`` (``Server-Timing``). Figures and callback answers are serialised by orjson
(Plotly and Dash pick it up when it is installed; it is a pinned dependency)."""
from __future__ import annotations

import time

import orjson
from flask import Flask, g
from flask_compress import Compress

COMPRESSED = ["text/html", "text/css", "text/plain", "text/csv", "application/json", "application/javascript",
              "text/javascript", "image/svg+xml"]


_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(obj):
    """What orjson cannot write itself: a Dash component or a Plotly figure (their JSON form, whose
    nested components come back here), else whatever Plotly's cleaning makes of it."""
    to_plotly = getattr(obj, "to_plotly_json", None)
    if to_plotly is not None:
        return to_plotly()
    from plotly.io._json import clean_to_json_compatible, get_module

    cleaned = clean_to_json_compatible(obj, numpy_allowed=True, datetime_allowed=True, modules={
        "sage_all": None, "np": get_module("numpy", should_load=False), "pd": get_module("pandas", should_load=False),
        "image": get_module("PIL.Image", should_load=False)})
    if cleaned is obj:
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
    return cleaned


def to_json(value) -> str:
    """Dash's ``to_json`` (``plotly.io.json.to_json_plotly``) without its slow path: Plotly tries orjson,
    and when an answer holds one component it cleans the whole answer in Python, element by element
    (every coordinate of a map). Here orjson calls back only for the objects it cannot write, so the
    same text comes out (a test compares them) for a fraction of the CPU."""
    from plotly.io._json import _safe, _swap_orjson

    to_plotly = getattr(value, "to_plotly_json", None)
    return _safe(orjson.dumps(to_plotly() if to_plotly else value, default=_default, option=_OPTS).decode("utf8"),
                 _swap_orjson)


def use_fast_json() -> None:
    """Dash serialises callback answers and the layout with this module's ``to_json``."""
    import dash._callback
    import dash.dash

    for module in (dash._callback, dash.dash):
        if getattr(module, "to_json", None) is not None:
            module.to_json = to_json


def init_perf(server: Flask, cfg) -> None:
    use_fast_json()
    if cfg.server_timing:
        @server.before_request
        def _cpu_start():
            g.cpu_started = time.process_time()  # a sync gunicorn worker serves one request at a time

        @server.after_request
        def _cpu_header(response):
            started = g.get("cpu_started")
            if started is not None:
                response.headers["Server-Timing"] = f"cpu;dur={(time.process_time() - started) * 1000:.1f}"
            return response

    # gzip (level 5: most of level 9's gain for a third of its CPU) for answers over 1 kB a browser
    # accepts compressed: a /warnings view's answers shrink ~5x, the page layouts ~8x
    server.config.update(COMPRESS_ALGORITHM=["gzip"], COMPRESS_LEVEL=5, COMPRESS_MIN_SIZE=1024,
                         COMPRESS_MIMETYPES=COMPRESSED, COMPRESS_STREAMS=False)
    Compress(server)
