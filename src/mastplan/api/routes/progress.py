"""/api/v1 endpoints of the progress."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["progress"])
