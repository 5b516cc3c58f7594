"""Which paths are not pages (the API, feeds, static files): the error handlers and the language
middleware both ask. On its own so neither imports the other (tests/test_import_cycles.py)."""

from __future__ import annotations

NOT_PAGES = ("/api/", "/ogc", "/health", "/openapi.json", "/static/")
