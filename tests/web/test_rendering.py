"""A page's context cannot hide the globals every template relies on."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from microcred import __version__
from microcred.web.rendering import render


def test_a_page_cannot_pass_a_value_named_like_a_template_global(app: FastAPI) -> None:
    @app.get("/test-shadowing")
    def shadowing(request: Request):  # type: ignore[no-untyped-def]
        return render(request, "skills/about.html", None, version="a page's own version")

    @app.get("/test-plain")
    def plain(request: Request):  # type: ignore[no-untyped-def]
        return render(request, "skills/about.html", None, taxonomy=None)

    with TestClient(app, raise_server_exceptions=True) as client:
        assert f"microcred {__version__} ·" in client.get("/test-plain").text
        with pytest.raises(ValueError, match="template globals: version"):
            client.get("/test-shadowing")
