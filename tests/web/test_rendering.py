"""A page's context cannot hide the globals every template relies on."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from microcred import __version__
from microcred.settings import Settings
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


def test_the_help_link_is_in_the_same_place_on_every_page_when_configured(
    client: TestClient, settings: Settings
) -> None:
    from microcred.web.app import create_app

    assert 'id="help-link"' not in client.get("/").text  # none configured: no link
    helped = create_app(settings.model_copy(update={"help_url": "mailto:help@north.example"}))
    with TestClient(helped) as other:
        for path in ("/", "/sign-in", "/verify", "/catalogue", "/credentials/does-not-exist"):
            footer = other.get(path).text.split('<footer class="site-footer container">', 1)[1]
            assert footer.lstrip().startswith(
                '<p><a href="mailto:help@north.example" id="help-link">Help</a> · microcred'
            ), path
    helped.state.context.engine.dispose()
