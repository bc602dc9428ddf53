"""The floor under pages and callbacks: i18n, the shell, access scopes, cache, shared components."""
