"""Showing an organizer's pages inside an ``<iframe>`` on the sites they list (SPEC 2.10).

Every page refuses framing (``SecurityHeaders``), except the invitee's pages of an
organizer whose booking page lists ``embed_origins``: those answer
``Content-Security-Policy: frame-ancestors 'self' <origins>`` instead, so the booking page,
a private link and the confirmation that follows a booking all work inside the frame."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from bookwithme.bookings import service as bookings
from bookwithme.models import Page
from bookwithme.web.admission import Admission
from bookwithme.web.middleware import FRAME_ANCESTORS_KEY


def origins_for(session: Session, path_params: dict[str, Any]) -> list[str]:
    """The embedding sites of the organizer an invitee address belongs to."""
    if "page_key" in path_params:
        query = select(Page.embed_origins).where(Page.key == str(path_params["page_key"]))
        return list(session.scalar(query) or [])
    token = str(path_params.get("token") or "")
    if not token:
        return []
    organizer = bookings.organizer_of_link(session, token) or bookings.organizer_of_manage_token(
        session, token
    )
    if organizer is None:
        return []
    return list(session.scalar(select(Page.embed_origins).where(Page.user_id == organizer)) or [])


def allow_framing(request: Request, origins: Sequence[str]) -> None:
    """Let the sites ``origins`` frame this answer (what a route that already knows its
    organizer's sites calls, instead of the ``Embeddable`` read)."""
    if origins:
        request.scope.setdefault("state", {})[FRAME_ANCESTORS_KEY] = list(origins)


async def allow_embedding(request: Request) -> None:
    """A dependency for the invitee's pages: note which sites may frame the answer (one
    indexed read, admitted at the database gate like the request itself). The booking
    pages themselves learn the sites with their meeting type (``Bookable.embed_origins``)."""
    admission: Admission = request.app.state.admission
    params = dict(request.path_params)
    origins = await admission.read(
        lambda session: origins_for(session, params), admission.deadline()
    )
    allow_framing(request, origins)


Embeddable = Depends(allow_embedding)
