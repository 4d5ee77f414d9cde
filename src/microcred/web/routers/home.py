"""Home page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from microcred.web.deps import DbSession, OptionalPrincipal
from microcred.web.rendering import render

pages = APIRouter(include_in_schema=False)


@pages.get("/", response_class=HTMLResponse)
def home(request: Request, session: DbSession, principal: OptionalPrincipal) -> HTMLResponse:
    from microcred.catalogue import service as catalogue

    stats = catalogue.catalogue_stats(session)
    featured = catalogue.featured_definitions(session, limit=6)
    return render(request, "home.html", principal, stats=stats, featured=featured)


routers = [pages]
