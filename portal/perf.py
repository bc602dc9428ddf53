"""App-wide costs of an answer: compression of the big ones, and per-request CPU timing for
``portal bench --load`` (``Server-Timing``). Figures and callback answers are serialised by orjson
(Plotly and Dash pick it up when it is installed; it is a pinned dependency)."""
from __future__ import annotations

import time

from flask import Flask, g
from flask_compress import Compress

COMPRESSED = ["text/html", "text/css", "text/plain", "text/csv", "application/json", "application/javascript",
              "text/javascript", "image/svg+xml"]


def init_perf(server: Flask, cfg) -> None:
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
