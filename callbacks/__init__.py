"""One module per page: ``register(app)`` binds its callbacks (authorise, call models/, build figures)."""
