"""The hub's HTTP JSON API (OpenAPI at /api/v1/openapi.json) and its dashboard page.

:func:`hub.api.app.create_app` builds the app from what it is given; :mod:`hub.api.serve`
builds it from hub.toml and runs it under uvicorn (`tps-hub serve`, `tps-hub run --serve`).
"""
