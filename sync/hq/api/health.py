"""``GET /healthz``: liveness, for load balancers and the test harness."""

from __future__ import annotations

from fastapi import APIRouter

from fieldkit import __version__

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict[str, object]:
    """Liveness."""
    return {"status": "ok", "version": __version__}
