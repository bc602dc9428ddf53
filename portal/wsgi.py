"""WSGI entry for gunicorn: ``gunicorn 'portal.wsgi:server'``."""
from portal.app import create_app

app = create_app()
server = app.server
