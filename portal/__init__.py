"""警康 Portal: app factory, config, auth, access scopes, i18n, CLI and the app shell.

``create_app`` is imported lazily so that commands which do not serve pages (the
device gateway, ingest) start without loading the web stack.
"""

__all__ = ["create_app"]


def __getattr__(name):
    if name == "create_app":
        from portal.app import create_app

        return create_app
    raise AttributeError(name)
