"""QR codes of a credential's public page, for print and screens.

Error correction M (15 % of the code may be damaged or covered) and the quiet zone of four
modules that ISO/IEC 18004 requires, so phone cameras read it from paper. The SVG carries a
``<title>`` naming the address, which screen readers announce.
"""

from __future__ import annotations

import io

import segno

ERROR_CORRECTION = "m"
QUIET_ZONE = 4
"""Modules of light border on each side (the standard's minimum)."""


def qr_code(url: str) -> segno.QRCode:
    """The (never micro) QR code of ``url``."""
    return segno.make_qr(url, error=ERROR_CORRECTION, boost_error=False)


def qr_svg(url: str, *, scale: int = 4) -> str:
    """A standalone SVG; ``scale`` is the size of one module in pixels."""
    output = io.BytesIO()
    qr_code(url).save(
        output,
        kind="svg",
        scale=scale,
        border=QUIET_ZONE,
        title=f"QR code: {url}",
        light="#fff",
        svgclass=None,
        lineclass=None,
        xmldecl=False,
        nl=False,
    )
    return output.getvalue().decode("utf-8")


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """A PNG, black on white, ``scale`` pixels per module."""
    output = io.BytesIO()
    qr_code(url).save(output, kind="png", scale=scale, border=QUIET_ZONE)
    return output.getvalue()
