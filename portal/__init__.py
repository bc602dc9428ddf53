"""警康 Portal: app factory, config, auth, access scopes, i18n, CLI and the app shell."""
from portal.app import create_app

__all__ = ["create_app"]
