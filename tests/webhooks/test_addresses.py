"""The SSRF guard: only https:// on public addresses, unless private addresses are allowed."""

from __future__ import annotations

import pytest

from microcred.webhooks.addresses import Destination, check_url, destination
from microcred.webhooks.errors import WebhookError


def public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://10.1.2.3/in",
        "https://192.168.0.10/in",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/in",
        "https://224.0.0.1/in",
        "https://0.0.0.0/in",
        "https://localhost/in",
        "ftp://hooks.example.com/in",
        "https://user:pw@hooks.example.com/in",
    ],
)
def test_refused_without_the_private_setting(url: str) -> None:
    with pytest.raises(WebhookError):
        check_url(url, allow_private=False)


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(WebhookError, match="private"):
        check_url(
            "https://hooks.example.com/in",
            allow_private=False,
            resolver=lambda host, port: ["93.184.215.14", "10.0.0.7"],
        )


def test_a_public_https_url_is_accepted() -> None:
    url = " https://hooks.example.com/in "
    assert check_url(url, allow_private=False, resolver=public) == url.strip()


def test_the_setting_lets_local_http_through() -> None:
    assert check_url("http://127.0.0.1:8123/in", allow_private=True) == "http://127.0.0.1:8123/in"


def test_a_delivery_connects_to_the_address_it_checked() -> None:
    pinned = destination(
        "https://hooks.example.com:8443/in?x=1", allow_private=False, resolver=public
    )
    assert pinned == Destination(
        "https://93.184.215.14:8443/in?x=1", "hooks.example.com:8443", "hooks.example.com"
    )
    name = "hooks.example.com"
    six = destination(
        f"https://{name}/in", allow_private=False, resolver=lambda host, port: ["2606:2800:220:1::"]
    )
    assert six == Destination("https://[2606:2800:220:1::]/in", name, name)


def test_with_private_addresses_allowed_nothing_is_pinned() -> None:
    url = "http://127.0.0.1:8123/in"
    assert destination(url, allow_private=True) == Destination(url)
