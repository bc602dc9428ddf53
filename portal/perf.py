"""App-wide costs of an answer: per-request CPU timing for ``portal bench --load`` (``Server-Timing``)."""
from __future__ import annotations

import time

from flask import Flask, g


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
