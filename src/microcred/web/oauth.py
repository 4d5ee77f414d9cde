"""What the OAuth 2.0 endpoints of the standards (OpenID4VCI, the Open Badges 3.0 API) share
on the web side: the error body's model and reading a JSON body that may not be JSON."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field


class OAuthErrorOut(BaseModel):
    error: str = Field(description="RFC 6749 / RFC 7591 / OpenID4VCI error code")
    error_description: str


async def json_body(request: Request) -> Any:
    """The request body as JSON, or None when it is not JSON (the endpoint names the fault)."""
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None
