"""A credential as a one-page PDF certificate that carries the signed credential itself.

The page shows what a person reads (recipient, achievement, issuer, dates, results) and a QR
code of the live verification page. The signed JSON-LD (and any VC-JWT forms) travel inside the
PDF as embedded files, as the EU Digital Credentials PDFs do, so a verifier can check the PDF
itself (:mod:`microcred.credentials.pdf_embedded` reads them back).

A credential that is revoked, suspended or expired is marked across the page: the PDF never
presents it as valid. The creation date is the issuance date and nothing else varies, so the
same credential in the same state gives byte-identical PDFs (in a given language).

The PDF is tagged for screen readers: its language (``/Lang``) and title (shown in place of
the file name), and a structure tree in reading order — the warning, the badge (a figure with
its alternative text), a heading and a paragraph for each text, the QR code (a figure saying
where it leads) — with the frame and the watermark marked as decoration
(``_Certificate.tagged``). It is not checked against PDF/UA.

The fixed texts are in the language of the achievement (its OB 3.0 ``inLanguage``) when we
have a catalog for it, else in the viewer's, else in English (:mod:`microcred.i18n`).

Text is set in the bundled DejaVu Sans (Latin, Greek, Cyrillic, Armenian, Georgian, many
symbols). A page with right-to-left text, combining marks or another script is shaped by
HarfBuzz: right-to-left text is laid out right to left, Arabic letters are joined, Indic
clusters and conjuncts formed. Chinese, Japanese, Korean, Arabic, Hebrew, Indic, Thai and
other scripts come from the Noto fonts installed on the machine
(:mod:`microcred.wallet.fallback_fonts`), only those the page needs, embedded as subsets. What
no font draws prints as U+FFFD; the PDF's metadata keeps the exact text.
"""

from __future__ import annotations

import functools
import io
import json
import unicodedata
from collections.abc import Container, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos
from fpdf.prefs import ViewerPreferences

from microcred.credentials.documents import parse_datetime, result_labels
from microcred.credentials.errors import CredentialError
from microcred.credentials.proofs.jwt import media_type
from microcred.i18n import DEFAULT_LOCALE, format_date, supported, using_locale
from microcred.i18n import gettext as _
from microcred.wallet.fallback_fonts import fonts_for, search_dirs
from microcred.wallet.qr import QUIET_ZONE, qr_code

JSON_ATTACHMENT = "credential.json"
FONT = "DejaVuSans"
FONTS_DIR = Path(__file__).parent / "fonts"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
REPLACEMENT = "\ufffd"
MAX_FIELD_CHARS = 600
"""Longer texts are cut before layout; the full text is in the embedded credential."""

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 297.0, 210.0, 18.0
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
BADGE_SIZE = 24.0
QR_SIZE = 34.0
INK, MUTED, ACCENT, ALERT = (27, 36, 48), (90, 98, 110), (11, 92, 173), (179, 38, 30)
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip


@dataclass(frozen=True)
class _Block:
    text: str
    style: str
    sizes: tuple[float, ...]
    max_lines: int
    colour: tuple[int, int, int] = INK
    gap_after: float = 2.0
    link: str = ""
    tag: str = "P"
    """The block's structure type: ``P`` (a paragraph) or ``H1`` (the heading)."""


def _line_height(size: float) -> float:
    return size * 0.3528 * 1.25  # points to millimetres, with some leading


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _plain(value: Any) -> str:
    """One line of text: whitespace and control characters collapsed, cut to a bound."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return ""
    text = "".join(
        " " if unicodedata.category(char) in {"Cc", "Zl", "Zp"} else char for char in str(value)
    )
    text = " ".join(text.split())
    return text if len(text) <= MAX_FIELD_CHARS else text[: MAX_FIELD_CHARS - 1] + "…"


def _font_path(style: str) -> Path:
    return FONTS_DIR / FONT_FILES[style]


@functools.cache
def _primary_cmap(style: str) -> frozenset[int]:
    with TTFont(_font_path(style), lazy=True) as font:
        return frozenset(font.getBestCmap())


def _needs_shaping(char: str) -> bool:
    """Right-to-left letters and combining marks; the rest of what DejaVu Sans draws (Latin,
    Greek, Cyrillic…) is set glyph by glyph, which keeps its content stream compact."""
    return unicodedata.bidirectional(char) in {"R", "AL"} or unicodedata.category(char) in {
        "Mn", "Mc", "Me",
    }  # fmt: skip


def _printable(text: str, covered: Container[int]) -> str:
    """``text`` with characters the font cannot draw replaced (invisible ones dropped)."""
    out = []
    for char in text:
        if ord(char) in covered:
            out.append(char)
        elif unicodedata.category(char) not in {"Cf", "Mn", "Me"}:
            out.append(REPLACEMENT)
    return "".join(out)


def _date(value: Any, field: str) -> datetime | None:
    try:
        return parse_datetime(value, field)
    except CredentialError:
        return None


def _day(moment: datetime, language: str) -> str:
    if language == DEFAULT_LOCALE:
        return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
    return format_date(moment.date(), language)


def certificate_language(document: Mapping[str, Any], viewer: str | None = None) -> str:
    """The achievement's language when we have a catalog for it, else the viewer's, else
    English."""
    subject = _mapping(_first(document.get("credentialSubject")))
    stated = _first(_mapping(subject.get("achievement")).get("inLanguage"))
    if not isinstance(stated, str):
        stated = _first(document.get("inLanguage"))
    return (
        supported(stated if isinstance(stated, str) else None)
        or supported(viewer)
        or DEFAULT_LOCALE
    )


def expired(document: Mapping[str, Any], now: datetime) -> bool:
    """Whether the certificate of ``document`` at ``now`` says it has expired (the same
    credential's certificate changes at that moment, whatever else stays the same)."""
    valid_until = _date(document.get("validUntil") or document.get("expirationDate"), "validUntil")
    return valid_until is not None and valid_until < now


def _warning(state: str, valid_until: datetime | None, now: datetime, language: str) -> str | None:
    if state == "revoked":
        return _("REVOKED — the issuer has revoked this credential. It is not valid.")
    if state == "suspended":
        return _("SUSPENDED — the issuer has suspended this credential. It is not valid now.")
    if valid_until is not None and valid_until < now:
        return _("EXPIRED on %(day)s — this credential is no longer valid.") % {
            "day": _day(valid_until, language)
        }
    return None


class _Certificate(FPDF):
    def __init__(self, texts: Mapping[str, str], font_dirs: tuple[Path, ...]) -> None:
        """A page whose fonts draw ``texts`` (all the text to set, by style): DejaVu Sans and the
        fallback fonts these texts need, shaped by HarfBuzz where they need it (joined Arabic,
        right-to-left runs, Indic clusters, combining marks)."""
        super().__init__(orientation="L", unit="mm", format="A4")
        self.covered: dict[str, set[int]] = {}
        fallbacks: list[str] = []
        page = "".join(texts.values())
        drawn = set(map(ord, page))
        for style in FONT_FILES:
            primary = _primary_cmap(style)
            text = texts.get(style, "")
            fonts = fonts_for(text, primary, font_dirs, page)
            taken = {point for font in fonts for point in primary if font.takes_over(point)}
            self.add_font(
                FONT, style, fname=_font_path(style),
                unicode_range=sorted(primary - taken) if taken else None,
            )  # fmt: skip
            self.covered[style] = set(primary - taken).union(*(font.cmap for font in fonts))
            for font in fonts:
                own_style = style if style in font.paths else ""
                if font.script.family.lower() + own_style not in self.fonts:
                    self.add_font(  # only the code points drawn: a CJK font loads in half the time
                        font.script.family, own_style, fname=font.paths[own_style],
                        unicode_range=sorted(drawn & font.cmap),
                        collection_font_number=font.script.face,
                    )  # fmt: skip
                if font.script.family not in fallbacks:
                    fallbacks.append(font.script.family)
        if fallbacks:
            self.set_fallback_fonts(fallbacks, exact_match=False)
        if fallbacks or any(map(_needs_shaping, page)):
            self.set_text_shaping(True)
        self.set_auto_page_break(False)
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.c_margin = 0

    def fit(self, block: _Block, width: float) -> tuple[float, list[str]]:
        """The largest of ``block``'s sizes at which it fits its lines, and those lines (cut with
        "…" if even the smallest size does not fit)."""
        text = _printable(block.text, self.covered[block.style])
        for size in block.sizes:
            self.set_font(FONT, block.style, size)
            lines: list[str] = self.multi_cell(
                width, text=text, dry_run=True, output=MethodReturnValue.LINES
            )  # type: ignore[assignment]
            if len(lines) <= block.max_lines:
                return size, lines
        lines = lines[: block.max_lines]
        last = lines[-1].rstrip()
        while last and self.get_string_width(last + "…") > width:
            last = last[:-1]
        return size, [*lines[:-1], last + "…"]

    def height(self, blocks: list[_Block], width: float) -> float:
        total = 0.0
        for block in blocks:
            size, lines = self.fit(block, width)
            total += len(lines) * _line_height(size) + block.gap_after
        return total

    @contextmanager
    def tagged(self, struct_type: str, alt_text: str | None = None) -> Iterator[None]:
        """What is drawn inside becomes the next element of the structure tree (``P``, ``H1``,
        ``Figure`` with ``alt_text``), or decoration for ``Artifact``. fpdf2's public API tags
        only images and links; this uses the same structure-tree builder for text."""
        if struct_type == "Artifact":
            self._out("/Artifact BMC")
        else:
            mcid = self.struct_builder.next_mcid_for_page(self.page)
            self._add_marked_content(struct_type=f"/{struct_type}", mcid=mcid, alt_text=alt_text)
            self._out(f"/{struct_type} <</MCID {mcid}>> BDC")
        yield
        self._out("EMC")

    def write_blocks(self, blocks: list[_Block], x: float, width: float, align: Align) -> None:
        for block in blocks:
            size, lines = self.fit(block, width)
            self.set_text_color(*block.colour)
            with self.tagged(block.tag):
                for line in lines:
                    self.set_x(x)
                    self.cell(
                        width, _line_height(size), line, align=align, link=block.link,
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                    )  # fmt: skip
            self.set_y(self.get_y() + block.gap_after)

    def qr(self, url: str, x: float, y: float, size: float, alt_text: str) -> None:
        """The QR code as filled squares: sharp at any zoom, no image decoding; one figure."""
        code = qr_code(url)
        matrix = [list(row) for row in code.matrix_iter(scale=1, border=QUIET_ZONE)]
        module = size / len(matrix)
        with self.tagged("Figure", alt_text):
            self.set_fill_color(255, 255, 255)
            self.rect(x, y, size, size, style="F")
            self.set_fill_color(0, 0, 0)
            for row, bits in enumerate(matrix):
                column = 0
                while column < len(bits):
                    if not bits[column]:
                        column += 1
                        continue
                    start = column
                    while column < len(bits) and bits[column]:
                        column += 1
                    self.rect(
                        x + start * module, y + row * module, (column - start) * module, module,
                        "F",
                    )  # fmt: skip
        self.link(x, y, size, size, url)

    def frame(self) -> None:
        with self.tagged("Artifact"):
            self.set_draw_color(*ACCENT)
            self.set_line_width(0.8)
            self.rect(8, 8, PAGE_WIDTH - 16, PAGE_HEIGHT - 16)
            self.set_line_width(0.2)
            self.rect(10, 10, PAGE_WIDTH - 20, PAGE_HEIGHT - 20)

    def warning(self, text: str, top: float) -> None:
        """A red banner with ``text`` and its first word across the page."""
        self.watermark(text.split(" ", 1)[0])
        self.set_fill_color(*ALERT)
        self.set_text_color(255, 255, 255)
        self.set_font(FONT, "B", 13)
        self.set_xy(MARGIN, top - 4)
        with self.tagged("P"):
            self.cell(TEXT_WIDTH, 10, text, align=Align.C, fill=True)

    def watermark(self, word: str) -> None:
        """The warning's first word across the page: decoration, the banner says it."""
        self.set_font(FONT, "B", 110)
        self.set_text_color(*ALERT)
        with (
            self.tagged("Artifact"),
            self.local_context(fill_opacity=0.12),
            self.rotation(28, PAGE_WIDTH / 2, PAGE_HEIGHT / 2),
        ):
            width = self.get_string_width(word)
            self.text(PAGE_WIDTH / 2 - width / 2, PAGE_HEIGHT / 2 + 15, word)


def _middle_blocks(
    achievement: Mapping[str, Any], subject: Mapping[str, Any], achievement_name: str, name: str
) -> list[_Block]:
    blocks = [_Block(_("CERTIFICATE OF ACHIEVEMENT"), "B", (10,), 1, MUTED, 3, tag="H1")]
    if name:
        blocks += [
            _Block(_("This certifies that"), "", (11,), 1, MUTED, 1),
            _Block(name, "B", (26, 20, 15), 2, INK, 1),
            _Block(_("has earned"), "", (11,), 1, MUTED, 1),
        ]
    criteria = _plain(_mapping(achievement.get("criteria")).get("narrative"))
    results = " · ".join(
        f"{_plain(label['name'])}: {_plain(label['value'])}" for label in result_labels(subject)
    )
    blocks += [
        _Block(achievement_name, "B", (24, 19, 15, 12), 3, ACCENT, 2),
        _Block(_plain(achievement.get("description")), "", (10, 9), 3, INK, 1.5),
        _Block(
            _("Criteria: %(criteria)s") % {"criteria": criteria} if criteria else "",
            "",
            (9, 8),
            2,
            MUTED,
            1.5,
        ),
        _Block(results, "B", (10, 9), 2, INK, 0),
    ]
    return [block for block in blocks if block.text]


def _footer_blocks(
    document: Mapping[str, Any],
    issuer_name: str,
    issued: datetime | None,
    valid_until: datetime | None,
    page_url: str,
    language: str,
) -> list[_Block]:
    if issued:
        dates = _("Issued on %(day)s") % {"day": _day(issued, language)}
    else:
        dates = _("Issue date not stated")
    if valid_until is not None:
        dates += " · " + _("valid until %(day)s") % {"day": _day(valid_until, language)}
    note = _(
        "This PDF carries the signed credential (%(file)s): upload the PDF to any "
        "Open Badges 3.0 verifier to check it."
    ) % {"file": JSON_ATTACHMENT}
    return [
        _Block(_("Issued by %(issuer)s") % {"issuer": issuer_name}, "B", (12, 10), 2, INK, 0.5),
        _Block(dates, "", (10,), 1, INK, 0.5),
        _Block(_("Verify at %(url)s") % {"url": page_url}, "B", (9, 7), 2, ACCENT, 0.5, page_url),
        _Block(
            _("Credential %(id)s") % {"id": _plain(document.get("id"))}, "", (7,), 1, MUTED, 0.5
        ),
        _Block(note, "", (7,), 2, MUTED, 0),
    ]


def _embed(
    pdf: FPDF, document: Mapping[str, Any], jwts: Mapping[str, str], moment: datetime
) -> None:
    pdf.embed_file(
        bytes=json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8"),
        basename=JSON_ATTACHMENT, mime_type="application/ld+json",
        modification_date=moment, creation_date=moment,
        desc="The signed Open Badges 3.0 credential (JSON-LD)", compress=True,
    )  # fmt: skip
    for fmt, token in sorted(jwts.items()):
        pdf.embed_file(
            bytes=token.encode("ascii"), basename=f"credential-{fmt}.jwt",
            mime_type=media_type(fmt),
            modification_date=moment, creation_date=moment,
            desc=f"The same credential as a compact {fmt}",
        )  # fmt: skip


def certificate_pdf(
    document: Mapping[str, Any],
    *,
    recipient_name: str | None,
    badge_png: bytes | None,
    page_url: str,
    state: str = "active",
    jwts: Mapping[str, str] | None = None,
    now: datetime | None = None,
    fonts_dir: Path | None = None,
    viewer_locale: str | None = None,
) -> bytes:
    """The certificate of the signed OB 3.0 credential ``document`` (see the module docstring).

    ``state`` is the issuer's status of the credential (active, suspended, revoked);
    ``recipient_name`` None leaves the name out (the e-mail address is never printed);
    ``jwts`` maps a format name to that format's compact VC-JWT, each embedded too;
    ``fonts_dir`` is searched for fallback fonts before the standard paths;
    ``viewer_locale`` is the language of the texts when the achievement states none we have.
    """
    language = certificate_language(document, viewer_locale)
    with using_locale(language):
        return _certificate_pdf(
            document, recipient_name=recipient_name, badge_png=badge_png, page_url=page_url,
            state=state, jwts=jwts, now=now, fonts_dir=fonts_dir, language=language,
        )  # fmt: skip


def _certificate_pdf(
    document: Mapping[str, Any],
    *,
    recipient_name: str | None,
    badge_png: bytes | None,
    page_url: str,
    state: str,
    jwts: Mapping[str, str] | None,
    now: datetime | None,
    fonts_dir: Path | None,
    language: str,
) -> bytes:
    subject = _mapping(_first(document.get("credentialSubject")))
    achievement = _mapping(subject.get("achievement"))
    issuer = _mapping(document.get("issuer"))
    achievement_name = _plain(achievement.get("name")) or _("Achievement")
    issuer_name = _plain(issuer.get("name")) or _plain(issuer.get("id")) or _("Unnamed issuer")
    name = _plain(recipient_name)
    issued = _date(document.get("validFrom") or document.get("issuanceDate"), "validFrom")
    valid_until = _date(document.get("validUntil") or document.get("expirationDate"), "validUntil")
    created = issued or now or datetime.now(UTC)
    warning = _warning(state, valid_until, now or datetime.now(UTC), language)

    footer = _footer_blocks(document, issuer_name, issued, valid_until, page_url, language)
    blocks = _middle_blocks(achievement, subject, achievement_name, name)
    texts = {style: "" for style in FONT_FILES}
    for block in (*footer, *blocks, _Block(warning or "", "B", (13,), 1)):
        texts[block.style] += block.text

    pdf = _Certificate(texts, search_dirs(fonts_dir))
    pdf.set_creation_date(created)
    title = f"{achievement_name} — {name}" if name else achievement_name
    pdf.set_title(f"{warning.split(' ', 1)[0]}: {title}" if warning else title)
    pdf.set_author(issuer_name)
    pdf.set_subject(_("Open Badges 3.0 credential issued by %(issuer)s") % {"issuer": issuer_name})
    pdf.set_creator("microcred")
    pdf.set_lang(language.replace("_", "-"))
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.add_page()
    pdf.frame()
    top = MARGIN
    if warning is not None:
        pdf.warning(warning, top)
        top += 9

    # Drawn in reading order, which the structure tree follows: badge, texts, footer, QR code.
    footer_width = TEXT_WIDTH - QR_SIZE - 8
    footer_top = PAGE_HEIGHT - MARGIN - pdf.height(footer, footer_width)
    badge_height = BADGE_SIZE + 2 if badge_png else 0
    spare = footer_top - 4 - top - badge_height - pdf.height(blocks, TEXT_WIDTH)
    top += max(spare, 0) / 2
    if badge_png:
        pdf.image(
            io.BytesIO(badge_png), x=(PAGE_WIDTH - BADGE_SIZE) / 2, y=top, w=BADGE_SIZE,
            h=BADGE_SIZE, alt_text=_("Badge: %(name)s") % {"name": achievement_name},
        )  # fmt: skip
    pdf.set_y(top + badge_height)
    pdf.write_blocks(blocks, MARGIN, TEXT_WIDTH, Align.C)

    pdf.set_y(footer_top)
    pdf.write_blocks(footer, MARGIN, footer_width, Align.L)
    qr_alt = _("QR code: a link to this credential's verification page, %(url)s") % {
        "url": page_url
    }
    pdf.qr(page_url, PAGE_WIDTH - MARGIN - QR_SIZE, PAGE_HEIGHT - MARGIN - QR_SIZE, QR_SIZE, qr_alt)

    _embed(pdf, document, jwts or {}, created)
    return bytes(pdf.output())
