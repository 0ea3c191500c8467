"""/api/v1 endpoints of the jobs."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["jobs"])
