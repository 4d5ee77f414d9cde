"""Fonts for the scripts the certificate's DejaVu Sans lacks or draws poorly, found on this machine.

DejaVu Sans has no Chinese, Japanese, Korean, Indic or Thai letters, and its Arabic and Hebrew
are plain. The Noto fonts fill in: Debian's ``fonts-noto-core`` and ``fonts-noto-cjk`` (which
``scripts/system-deps.sh`` installs) at their standard paths, or the same files in a directory an
operator names (``MICROCRED_CERTIFICATE_FONTS_DIR``, searched first, subfolders too). Nothing is
fetched at run time; without its font a script DejaVu lacks prints as U+FFFD, logged once.

Chinese, Japanese and Korean share one collection whose faces draw the same characters in each
region's style: the face follows the text (kana: Japanese, hangul: Korean, else Chinese).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

log = logging.getLogger(__name__)

STANDARD_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/opentype/noto"))
FONT_SUFFIXES = {".ttf", ".otf", ".ttc", ".otc"}
STYLES = ("", "B")
ARABIC = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
HEBREW = ((0x0590, 0x05FF), (0xFB1D, 0xFB4F))
KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
HANGUL = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF))


@dataclass(frozen=True)
class Script:
    """A script and the Noto font files (regular, bold) that draw it."""

    name: str
    family: str
    files: tuple[str, str]
    face: int = 0
    """The face's index in a font collection (.ttc)."""
    takes_over: tuple[tuple[int, int], ...] = ()
    """Code point ranges this font draws even where DejaVu Sans has glyphs."""


def _noto(name: str, takes_over: tuple[tuple[int, int], ...] = ()) -> Script:
    family = f"NotoSans{name}"
    return Script(name, family, (f"{family}-Regular.ttf", f"{family}-Bold.ttf"), 0, takes_over)


CJK_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc")
JAPANESE = Script("Japanese", "NotoSansCJKJP", CJK_FILES, 0)
KOREAN = Script("Korean", "NotoSansCJKKR", CJK_FILES, 1)
CHINESE = Script("Chinese", "NotoSansCJKSC", CJK_FILES, 2)
SCRIPTS = (
    _noto("Arabic", ARABIC),
    _noto("Hebrew", HEBREW),
    *map(_noto, ("Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil", "Telugu")),
    *map(_noto, ("Kannada", "Malayalam", "Sinhala", "Thai", "Lao", "Khmer", "Myanmar")),
    _noto("Ethiopic"),
    CHINESE,
    JAPANESE,
    KOREAN,
)


@dataclass(frozen=True)
class Font:
    """A script's font found on this machine: the files by style and the code points it draws."""

    script: Script
    paths: dict[str, Path]
    cmap: frozenset[int]

    def takes_over(self, code_point: int) -> bool:
        return any(low <= code_point <= high for low, high in self.script.takes_over)


def _in(ranges: Iterable[tuple[int, int]], text: str) -> bool:
    return any(low <= ord(char) <= high for char in text for low, high in ranges)


def _files(directories: tuple[Path, ...]) -> dict[str, Path]:
    """Font file name to its path, the first directory that has it winning."""
    found: dict[str, Path] = {}
    for directory in directories:
        try:
            paths = sorted(directory.rglob("*")) if directory.is_dir() else []
        except OSError as error:  # an unreadable folder: its fonts go unused, the page renders
            log.warning("certificate fonts: cannot read %s: %s", directory, error)
            continue
        for path in paths:
            if path.suffix.lower() in FONT_SUFFIXES and path.is_file():
                found.setdefault(path.name, path)
    return found


def _cmap(path: Path, face: int) -> frozenset[int]:
    with TTFont(path, fontNumber=face, lazy=True) as font:
        return frozenset(font.getBestCmap() or ())


def search_dirs(extra_dir: Path | None) -> tuple[Path, ...]:
    """Where fonts are looked for: the operator's directory first, then the standard paths."""
    return ((extra_dir,) if extra_dir else ()) + STANDARD_DIRS


@functools.cache
def installed(directories: tuple[Path, ...]) -> tuple[Font, ...]:
    """The fonts of :data:`SCRIPTS` found in ``directories`` (the first having a file wins); the
    scripts without one are logged, once per ``directories``."""
    files = _files(directories)
    fonts, missing = [], []
    for script in SCRIPTS:
        paths = {
            style: files[name] for style, name in zip(STYLES, script.files, strict=True)
            if name in files
        }  # fmt: skip
        try:
            cmap = _cmap(next(iter(paths.values())), script.face) if paths else frozenset()
        except Exception as error:  # a damaged or foreign file: the script goes without
            log.warning("certificate font for %s unreadable: %s", script.name, error)
            cmap = frozenset()
        if cmap:
            fonts.append(Font(script, paths, cmap))
        else:
            missing.append(script.name)
    if missing:
        log.warning(
            "PDF certificates print %s as U+FFFD: no font for them in %s "
            "(install fonts-noto-core and fonts-noto-cjk, or set MICROCRED_CERTIFICATE_FONTS_DIR)",
            ", ".join(missing),
            ", ".join(map(str, directories)) or "no directory",
        )
    return tuple(fonts)


def _cjk_first(text: str) -> Script:
    if _in(KANA, text):
        return JAPANESE
    if _in(HANGUL, text):
        return KOREAN
    return CHINESE


def fonts_for(
    text: str, primary: Container[int], directories: tuple[Path, ...], page: str = ""
) -> list[Font]:
    """The fonts installed in ``directories`` that ``text`` needs beside the primary font (which
    draws the code points ``primary``), in the order to try them; one CJK face at most, chosen
    by the whole ``page`` (by ``text`` without it) so that all of a page's CJK text shares it."""
    if all(ord(char) in primary for char in text) and not any(
        _in(script.takes_over, text) for script in SCRIPTS
    ):
        return []
    available = installed(directories)
    cjk = _cjk_first(page or text)
    candidates = [
        font for font in available if font.script.files != CJK_FILES or font.script == cjk
    ] + [font for font in available if font.script.files == CJK_FILES and font.script != cjk]
    chosen: list[Font] = []
    for char in set(text):
        code_point = ord(char)
        font = next(
            (
                font
                for font in candidates
                if code_point in font.cmap
                and (code_point not in primary or font.takes_over(code_point))
            ),
            None,
        )
        if font is not None and font not in chosen:
            chosen.append(font)
    return sorted(chosen, key=candidates.index)
