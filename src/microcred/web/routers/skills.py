"""Skills taxonomy pages and API."""

from __future__ import annotations

from fastapi import APIRouter

routers: list[APIRouter] = []
