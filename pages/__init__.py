"""One module per page: ``dash.register_page`` and ``layout()`` only (no data access)."""
