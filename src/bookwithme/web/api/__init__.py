"""The JSON API under /api/v1."""

from fastapi import APIRouter

from bookwithme.web.api import me

router = APIRouter(prefix="/api/v1")
router.include_router(me.router)
