"""The PDF certificate in every script: names set in the Noto font for their script, shaped
(Arabic joined and right to left), embedded as subsets, and U+FFFD only where no font draws.

The tests that need the Noto fonts skip where ``scripts/system-deps.sh`` has not installed them.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from microcred.wallet import fallback_fonts
from microcred.wallet.fallback_fonts import installed, search_dirs
from tests.credentials.factories import unsigned_credential
from tests.wallet.test_certificate import KEY, certificate

ARABIC_NAME = "محمد عبد الله"
JOINED_MUHAMMAD = {"uniFEE3", "uniFEA4", "uniFEE4", "uniFEAA"}
"""محمد shaped: meem initial, hah medial, meem medial, dal final (Arabic Presentation Forms-B)."""


def _script_font(script: str, directories: tuple[Path, ...] | None = None) -> Path:
    """The regular file of ``script``'s font, or skip the test."""
    for font in installed(directories if directories is not None else search_dirs(None)):
        if font.script.name == script:
            return font.paths.get("", next(iter(font.paths.values())))
    pytest.skip(f"no Noto font for {script}: run scripts/system-deps.sh as root")


def _fonts(pdf: bytes) -> dict[str, DictionaryObject]:
    """The page's fonts by name without the subset prefix (``NotoSansArabicBold``)."""
    resources: Any = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]
    return {
        str(font["/BaseFont"]).split("+", 1)[-1]: font
        for font in (entry.get_object() for entry in resources["/Font"].values())
    }


def _drawn_characters(pdf: bytes) -> str:
    """Every character the page's fonts map their glyphs to (their ToUnicode CMaps)."""
    drawn = []
    for font in _fonts(pdf).values():
        cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
        for target in re.findall(r"<[0-9A-F]+> <([0-9A-F]+)>", cmap):
            drawn.append(bytes.fromhex(target).decode("utf-16-be"))
    return "".join(drawn)


def _glyph_names(font: DictionaryObject) -> set[str]:
    """The glyph names of an embedded TrueType subset (named after the code points they draw)."""
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    data = descriptor["/FontFile2"].get_object().get_data()
    return set(TTFont(io.BytesIO(data)).getGlyphOrder())


def _text(pdf: bytes) -> str:
    """The page's text; pypdf puts a NUL before each character of a CID-keyed CFF font."""
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\x00", "")
    return " ".join(text.split())


def _named(name: str, achievement: str | None = None, **options: Any) -> bytes:
    document = unsigned_credential(KEY)
    if achievement is not None:
        document["credentialSubject"]["achievement"]["name"] = achievement
    return certificate(document, recipient_name=name, **options)


@pytest.mark.parametrize(
    ("script", "name", "font"),
    [
        ("Chinese", "王小明", "NotoSansCJKSCBold"),
        ("Japanese", "田中さくら", "NotoSansCJKJPBold"),
        ("Korean", "김민준", "NotoSansCJKKRBold"),
        ("Devanagari", "राहुल शर्मा", "NotoSansDevanagariBold"),
        ("Thai", "สมชาย ใจดี", "NotoSansThaiBold"),
    ],
)
def test_a_name_in_a_script_dejavu_lacks_is_set_in_its_noto_font(
    script: str, name: str, font: str
) -> None:
    _script_font(script)
    pdf = _named(name)
    assert font in _fonts(pdf)
    assert name in _text(pdf)
    assert "\ufffd" not in _drawn_characters(pdf)


@pytest.mark.parametrize(
    ("script", "name", "font"),
    [
        ("Arabic", ARABIC_NAME, "NotoSansArabicBold"),
        ("Hebrew", "עברית מימין", "NotoSansHebrewBold"),
    ],
)
def test_a_right_to_left_name_is_set_in_its_noto_font_right_to_left(
    script: str, name: str, font: str
) -> None:
    _script_font(script)
    pdf = _named(name)
    assert font in _fonts(pdf)
    text = _text(pdf)
    # Extraction follows the page, right to left: each word reads whole, the words reversed.
    assert " ".join(reversed(name.split())) in text
    assert "\ufffd" not in _drawn_characters(pdf)


def test_a_japanese_page_sets_its_chinese_characters_in_the_japanese_face_too() -> None:
    _script_font("Japanese")
    document = unsigned_credential(KEY)
    document["credentialSubject"]["achievement"]["description"] = "統計学基礎"  # no kana
    fonts = set(_fonts(certificate(document, recipient_name="田中さくら", badge_png=None)))
    assert {"NotoSansCJKJP", "NotoSansCJKJPBold"} <= fonts
    assert not any(font.startswith("NotoSansCJKSC") for font in fonts)
    # Without kana anywhere the same characters take the Simplified Chinese face.
    assert "NotoSansCJKSCBold" in _fonts(_named("Lee", achievement="数据"))


def test_arabic_letters_are_joined() -> None:
    _script_font("Arabic")
    glyphs = _glyph_names(_fonts(_named(ARABIC_NAME))["NotoSansArabicBold"])
    assert glyphs >= JOINED_MUHAMMAD
    assert "uni0645" not in glyphs  # no isolated meem


def test_without_noto_fonts_arabic_is_still_joined_in_dejavu_sans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fallback_fonts, "STANDARD_DIRS", ())
    fonts = _fonts(_named(ARABIC_NAME))
    assert set(fonts) == {"DejaVuSansBook", "DejaVuSansBold"}
    assert _glyph_names(fonts["DejaVuSansBold"]) >= JOINED_MUHAMMAD


def test_without_noto_fonts_the_certificate_renders_and_the_missing_scripts_are_logged_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(fallback_fonts, "STANDARD_DIRS", ())
    with caplog.at_level(logging.WARNING, logger=fallback_fonts.__name__):
        first = _named("王小明 राहुल", fonts_dir=tmp_path)
        _named("김민준", fonts_dir=tmp_path)
    assert "\ufffd\ufffd\ufffd \ufffd\ufffd\ufffd\ufffd" in _text(first)  # the vowel sign dropped
    assert set(_fonts(first)) == {"DejaVuSansBook", "DejaVuSansBold"}
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1
    assert "Chinese" in warnings[0] and "Devanagari" in warnings[0] and str(tmp_path) in warnings[0]


def test_a_latin_certificate_needs_no_fallback_font() -> None:
    assert set(_fonts(_named("Lee Learner"))) == {"DejaVuSansBook", "DejaVuSansBold"}


def test_the_fonts_directory_setting_is_searched_first_subfolders_too(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    thai = _script_font("Thai")
    (tmp_path / "noto").mkdir()
    shutil.copy(thai, tmp_path / "noto" / thai.name)
    monkeypatch.setattr(fallback_fonts, "STANDARD_DIRS", ())
    pdf = _named("สมชาย ใจดี", fonts_dir=tmp_path)
    assert "NotoSansThai" in _fonts(pdf)  # the regular file draws the bold name
    assert "สมชาย ใจดี" in _text(pdf)


def test_a_chinese_name_adds_a_few_kilobytes_not_the_whole_font() -> None:
    cjk = _script_font("Chinese")
    latin, chinese = _named("Lee Learner"), _named("王小明", achievement="数据素养")
    assert "NotoSansCJKSCBold" in _fonts(chinese)
    assert len(chinese) - len(latin) < 20_000 < cjk.stat().st_size


def test_a_cjk_and_arabic_credential_gives_the_same_bytes() -> None:
    _script_font("Chinese")
    _script_font("Arabic")
    pdf = _named("王小明 محمد", achievement="数据素养 — محمد")
    assert {"NotoSansCJKSCBold", "NotoSansArabicBold"} <= set(_fonts(pdf))
    assert pdf == _named("王小明 محمد", achievement="数据素养 — محمد")
