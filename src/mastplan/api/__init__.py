"""The REST API (FastAPI) over the services: /api/v1, roles and operator isolation."""
