"""Per-application state: settings, engine, session factory, templates."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings

WEB_DIR = Path(__file__).resolve().parent


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    templates: Jinja2Templates
