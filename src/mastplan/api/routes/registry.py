"""/api/v1 endpoints of the registry."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["registry"])
