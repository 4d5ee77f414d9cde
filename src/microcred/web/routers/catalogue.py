"""Catalogue pages and API (filled in by the catalogue capability)."""

from __future__ import annotations

from fastapi import APIRouter

routers: list[APIRouter] = []
