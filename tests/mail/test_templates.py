"""Rendering messages and reading the SMTP URL: pure functions, no database."""

from __future__ import annotations

import pytest

from microcred.mail import service
from microcred.settings import Settings


def test_html_is_escaped_and_text_is_not() -> None:
    text, html = service.render_mail("test", base_url="https://x.example/?a=1&b=<2>")
    assert "https://x.example/?a=1&b=<2>" in text
    assert "a=1&amp;b=&lt;2&gt;" in html and "<2>" not in html
    assert "microcred" in html and "microcred mail test" in text


def test_links_are_absolute_on_the_base_url() -> None:
    settings = Settings(base_url="https://badges.example/")
    assert service.absolute_link(settings, "/reset/abc") == "https://badges.example/reset/abc"


@pytest.mark.parametrize(
    ("url", "host", "port", "tls", "starttls", "user", "password"),
    [
        ("smtp://mail.example", "mail.example", 25, False, False, None, None),
        ("smtp://u%40x:p%3Aw@mail.example:587?starttls=true", "mail.example", 587, False, True,
         "u@x", "p:w"),
        ("smtps://u:pw@mail.example", "mail.example", 465, True, False, "u", "pw"),
    ],
)  # fmt: skip
def test_smtp_urls_are_read(
    url: str,
    host: str,
    port: int,
    tls: bool,
    starttls: bool,
    user: str | None,
    password: str | None,
) -> None:
    target = service.parse_smtp_url(url)
    assert (target.host, target.port, target.implicit_tls, target.starttls) == (
        host, port, tls, starttls,
    )  # fmt: skip
    assert (target.username, target.password) == (user, password)


def test_an_smtp_url_is_never_shown_with_its_password() -> None:
    assert service.masked_url("smtps://me:s3cret@mail.example:465") == (
        "smtps://me:***@mail.example:465"
    )
    settings = Settings(smtp_url="smtps://me:s3cret@mail.example")
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings)


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(service.MailError):
        service.parse_smtp_url("http://mail.example")
