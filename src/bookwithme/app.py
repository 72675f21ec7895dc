"""The application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.responses import JSONResponse

from bookwithme import __version__
from bookwithme.config import Settings
from bookwithme.db import REQUEST_CONNECTIONS, make_engine, make_session_factory
from bookwithme.errors import DatabaseUnavailable
from bookwithme.paths import STATIC_DIR
from bookwithme.scheduling.service import Availability
from bookwithme.web import (
    pages_accounts,
    pages_admin,
    pages_invitee,
    pages_meeting_types,
    pages_organizer,
    pages_public,
    pages_webhooks,
)
from bookwithme.web.admission import Admission
from bookwithme.web.answer_cache import AnswerCache, ResponseCache
from bookwithme.web.api import router as api_router
from bookwithme.web.embedding import allow_embedding
from bookwithme.web.errors import install_error_handlers
from bookwithme.web.hot_paths import HotPaths
from bookwithme.web.middleware import CSRFProtection, Edge
from bookwithme.web.openapi import install_openapi, raises
from bookwithme.worker import Worker

log = logging.getLogger("bookwithme")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url)

    answer_cache = AnswerCache() if settings.cache_answers else None

    session_factory = make_session_factory(engine)
    worker = Worker(session_factory, settings) if settings.embedded_worker else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Threads for sync routes and dependencies: more than the requests the database
        # gate admits at once, so an admitted request always finds one to finish on.
        limiter = to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, REQUEST_CONNECTIONS + 16)
        if worker is not None:
            worker.start()
        # What starting made (modules, templates, translations, routes) lives as long as
        # the process: set it aside, so the collector's full passes, which stop every
        # request while they walk the heap, only walk what requests make.
        gc.collect()
        gc.freeze()
        yield
        if worker is not None:
            worker.stop()
        app.state.admission.close()
        engine.dispose()

    app = FastAPI(
        title="bookwithme",
        version=__version__,
        summary="A self-hostable personal booking page.",
        lifespan=lifespan,
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN (blank offline);
        # web.openapi serves /docs from our static files instead.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory
    app.state.set_up = False
    app.state.answer_cache = answer_cache
    app.state.availability = Availability()
    app.state.admission = Admission(engine, session_factory, REQUEST_CONNECTIONS)

    install_error_handlers(app)
    install_openapi(app)

    @app.get("/healthz", tags=["health"], responses=raises(DatabaseUnavailable))
    def healthz(request: Request) -> JSONResponse:
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check: the database does not answer")
            down = DatabaseUnavailable()
            return JSONResponse(
                {"error": {"code": down.code, "message": down.message}},
                status_code=down.status_code,
            )
        return JSONResponse({"status": "ok"})

    # Routes are matched one by one, in this order: the invitee's pages, opened most,
    # come first (no two routers share a path).
    # (The booking pages say which sites may frame them route by route: see pages_invitee.)
    app.include_router(pages_invitee.router)
    # The invitee's other pages may be framed by the sites their organizer lists.
    app.include_router(pages_public.router, dependencies=[Depends(allow_embedding)])
    app.include_router(api_router)
    app.include_router(pages_accounts.router)
    app.include_router(pages_organizer.router)
    app.include_router(pages_meeting_types.router)
    app.include_router(pages_webhooks.router)
    app.include_router(pages_admin.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    # Innermost: the invitee's most opened addresses, answered past FastAPI's routing.
    app.add_middleware(HotPaths)
    app.add_middleware(
        CSRFProtection, secret=settings.resolved_secret_key, secure=settings.secure_cookies
    )
    if answer_cache is not None:
        app.add_middleware(ResponseCache, cache=answer_cache)
    # Size limit, security headers, HEAD as GET and unstorable input, in one layer.
    app.add_middleware(Edge)
    return app
