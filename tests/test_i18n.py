"""Translations: the catalogs hold every marked message in every language, their compiled .mo
files are up to date, and the Python helpers translate into the context's locale."""

from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from microcred.i18n import (
    L_,
    LOCALE_DIR,
    LOCALES,
    Day,
    Joined,
    L_plural,
    Number,
    current_locale,
    format_date,
    from_json,
    gettext,
    ngettext,
    pgettext,
    supported,
    to_json,
    translate,
    using_locale,
)

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [locale for locale in LOCALES if locale != "en"]


def _po(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=locale)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The messages marked in the code and templates now, by scripts/i18n.sh's own extraction."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    env = {**os.environ, "PYBABEL": str(Path(sys.executable).parent / "pybabel")}
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "i18n.sh"), "extract", str(pot)],
        check=True, env=env, cwd=ROOT, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as file:
        return read_po(file)


def test_extraction_finds_the_marked_pages_mails_and_certificate(extracted: Catalog) -> None:
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in extracted}
    assert {"Skip to content", "Verify a credential", "This certifies that"} <= ids
    assert "Hello %(name)s," in ids and ("verification check", "proof") in {
        (message.context, message.id) for message in extracted
    }


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_extracted_message_is_translated(extracted: Catalog, locale: str) -> None:
    catalog = _po(locale)
    missing = []
    for message in extracted:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        strings = found.string if found is not None else None
        if isinstance(strings, str):
            strings = (strings,)
        if found is None or found.fuzzy or not strings or not all(strings):
            missing.append(message.id)
    assert not missing, f"untranslated in {locale} (run scripts/i18n.sh): {missing}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_compiled_catalog_matches_its_po_file(locale: str, tmp_path: Path) -> None:
    compiled = tmp_path / "messages.mo"
    with compiled.open("wb") as file:
        write_mo(file, _po(locale))
    committed = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.mo"
    assert committed.read_bytes() == compiled.read_bytes(), "run scripts/i18n.sh compile"


def test_helpers_translate_into_the_context_locale_and_fall_back_to_english() -> None:
    assert current_locale() == "en" and gettext("Verify") == "Verify"
    with using_locale("de-AT") as locale:
        assert locale == "de"
        assert gettext("Verify") == "Prüfen"
        assert gettext("A message nobody marked") == "A message nobody marked"
        assert pgettext("verification status", "pass") == "bestanden"
        with using_locale("fr"):
            assert gettext("Verify") == "Vérifier"
        assert current_locale() == "de"
    with using_locale("xx"):
        assert current_locale() == "en"
    one = "Nothing was saved. Please correct %(count)s problem:"
    many = "Nothing was saved. Please correct %(count)s problems:"
    with using_locale("fr"):
        assert ngettext(one, many, 1) % {"count": 1} == (
            "Rien n’a été enregistré. Veuillez corriger 1 problème :"
        )
        assert ngettext(one, many, 3).endswith("%(count)s problèmes :")


def test_dates_are_written_out_for_the_locale() -> None:
    day = date(2026, 3, 1)
    assert format_date(day, "de") == "1. März 2026"
    assert format_date(day, "fr") == "1 mars 2026"
    assert format_date(day, "es") == "1 de marzo de 2026"
    with using_locale("de"):
        assert format_date("2026-03-01T09:00:00Z") == "1. März 2026"
    assert format_date("not a date") == "not a date" and format_date(None) == ""


def test_supported_reads_language_tags() -> None:
    assert supported("fr_CA") == "fr" and supported("ES") == "es"
    assert supported("pt-BR") is None and supported(None) is None


def test_lazy_messages_are_english_strings_translated_only_where_shown() -> None:
    reason = L_("%(suite)s: %(reason)s", suite="eddsa-rdfc-2022", reason=L_("Signature verified"))
    assert reason == "eddsa-rdfc-2022: Signature verified" and isinstance(reason, str)
    assert json.dumps({"reason": reason}) == '{"reason": "eddsa-rdfc-2022: Signature verified"}'
    copied = copy.deepcopy({"reason": reason})["reason"]
    assert translate(pickle.loads(pickle.dumps(reason))) == reason == copied
    with using_locale("de"):
        assert str(reason) == "eddsa-rdfc-2022: Signature verified"
        assert translate(reason) == "eddsa-rdfc-2022: Signatur geprüft"
        assert translate(copied) == "eddsa-rdfc-2022: Signatur geprüft"
        quoted = L_(
            "Unknown JSON-LD context %(context)s",
            context=repr("https://x.example/Signature verified"),
        )
        assert (
            translate(quoted)
            == "Unbekannter JSON-LD-Kontext 'https://x.example/Signature verified'"
        )
        assert translate("plain text") == "plain text" and translate(None) == ""
    singular, plural = (
        "%(count)s endorsement verified: %(endorsements)s",
        ("%(count)s endorsements verified: %(endorsements)s"),
    )
    two = L_plural(singular, plural, 2, endorsements=Joined("; ", [L_("on the issuer"), "b"]))
    assert two == "2 endorsements verified: on the issuer; b"
    assert L_plural(singular, plural, 1, endorsements="a") == "1 endorsement verified: a"
    with using_locale("fr"):
        assert translate(two) == "2 recommandations vérifiées : sur l’émetteur; b"


def test_lazy_messages_survive_storage_as_json_and_dates_are_written_out() -> None:
    title = L_("Expires %(day)s: %(achievement)s", day=Day(date(2026, 3, 1)), achievement="Kurs")
    body = L_plural(
        "%(count)s endorsement verified: %(endorsements)s",
        "%(count)s endorsements verified: %(endorsements)s",
        2,
        endorsements=Joined("; ", [L_("on the issuer"), "'x'"]),
    )
    stored = json.loads(json.dumps([to_json(title), to_json(body), to_json("plain")]))
    title_back, body_back, plain = (from_json(item) for item in stored)
    assert (title_back, body_back, plain) == (title, body, "plain")
    assert title == "Expires 01 March 2026: Kurs"
    with using_locale("de"):
        assert translate(title_back) == "Läuft am 1. März 2026 ab: Kurs"
        assert translate(body_back) == "2 Befürwortungen geprüft: am Aussteller; 'x'"
    assert from_json({"unexpected": 1}) == "{'unexpected': 1}" and from_json(None) == ""


def test_numbers_are_grouped_for_the_readers_language_and_stay_english_elsewhere() -> None:
    basis = L_("%(total)s job postings %(scope)s", total=Number(12345), scope=L_("for any job"))
    assert basis == "12,345 job postings for any job"
    stored = from_json(json.loads(json.dumps(to_json(basis))))
    with using_locale("de"):
        assert translate(stored) == "12.345 Stellenanzeigen für alle Berufe"
    with using_locale("es"):
        assert translate(basis) == "12.345 ofertas de empleo para cualquier puesto"
