"""QR codes of a credential's page: error correction M, the quiet zone, an accessible SVG."""

from __future__ import annotations

from xml.etree import ElementTree

from microcred.wallet.qr import QUIET_ZONE, qr_code, qr_png, qr_svg

URL = "https://badges.example.org/credentials/0123456789abcdef"
SVG = "{http://www.w3.org/2000/svg}"


def test_the_code_is_a_full_qr_code_with_error_correction_m() -> None:
    code = qr_code(URL)
    assert code.error == "M" and not code.is_micro


def test_svg_is_well_formed_titled_and_keeps_the_quiet_zone() -> None:
    svg = qr_svg(URL + "?a=<b>&c", scale=3)
    root = ElementTree.fromstring(svg)
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == f"QR code: {URL}?a=<b>&c"
    modules = qr_code(URL + "?a=<b>&c").symbol_size(scale=1, border=0)[0]
    assert root.get("width") == str((modules + 2 * QUIET_ZONE) * 3)


def test_png_is_a_png_of_the_expected_size() -> None:
    png = qr_png(URL, scale=5)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    assert width == (qr_code(URL).symbol_size(scale=1, border=0)[0] + 2 * QUIET_ZONE) * 5
