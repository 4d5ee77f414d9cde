"""Free-text locations ("Hamburg, Germany", "Columbus, OH", "Remote - US") to region + country.

Countries and their first-level subdivisions (US states, German Länder, UK nations, Irish
counties, …) come from ISO 3166 via ``pycountry``, offline. A small list of large cities maps
city-only locations. Anything else falls back to region ``Unknown`` (country kept when known),
so a posting is never dropped for its location.

Two-letter codes and some names read two ways: "CO" is Colorado and Colombia, "DE" Delaware and
Germany, "Georgia" a state and a country. A known city among the parts decides ("Denver, CO",
"Leipzig, DE", "Atlanta, Georgia"); without one, an upper-case code that is a US state or a
Canadian province is read as one — the "City, ST" convention of North American postings — and a
full name as the country.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pycountry

UNKNOWN_REGION = "Unknown"
REMOTE_REGION = "Remote"

_REMOTE = re.compile(r"\b(remote|anywhere|home[- ]based|work from home|wfh|telecommute)\b", re.I)
_SEPARATORS = re.compile(r"\s*(?:,|;|/|\||\s-\s|\s–\s|\(|\))\s*")

COUNTRY_ALIASES = {
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "usa": "US",
    "u s a": "US",
    "us": "US",
    "u s": "US",
    "united states of america": "US",
    "america": "US",
    "deutschland": "DE",
    "the netherlands": "NL",
    "holland": "NL",
    "eire": "IE",
    "republic of ireland": "IE",
    "south korea": "KR",
    "russia": "RU",
    "czech republic": "CZ",
}
UK_NATIONS = {
    "england": "GB-ENG",
    "scotland": "GB-SCT",
    "wales": "GB-WLS",
    "northern ireland": "GB-NIR",
}
SUBDIVISION_COUNTRIES = (
    "US",
    "CA",
    "DE",
    "GB",
    "IE",
    "FR",
    "ES",
    "IT",
    "NL",
    "AU",
    "AT",
    "CH",
    "BE",
    "IN",
    "PL",
    "PT",
    "SE",
)
CITIES: dict[str, str] = {
    "new york": "US-NY",
    "nyc": "US-NY",
    "los angeles": "US-CA",
    "san francisco": "US-CA",
    "san jose": "US-CA",
    "san diego": "US-CA",
    "seattle": "US-WA",
    "chicago": "US-IL",
    "boston": "US-MA",
    "austin": "US-TX",
    "dallas": "US-TX",
    "houston": "US-TX",
    "atlanta": "US-GA",
    "denver": "US-CO",
    "miami": "US-FL",
    "phoenix": "US-AZ",
    "philadelphia": "US-PA",
    "pittsburgh": "US-PA",
    "columbus": "US-OH",
    "detroit": "US-MI",
    "minneapolis": "US-MN",
    "portland": "US-OR",
    "washington dc": "US-DC",
    "munich": "DE-BY",
    "münchen": "DE-BY",
    "berlin": "DE-BE",
    "hamburg": "DE-HH",
    "frankfurt": "DE-HE",
    "cologne": "DE-NW",
    "köln": "DE-NW",
    "düsseldorf": "DE-NW",
    "stuttgart": "DE-BW",
    "leipzig": "DE-SN",
    "dresden": "DE-SN",
    "hannover": "DE-NI",
    "london": "GB-ENG",
    "manchester": "GB-ENG",
    "birmingham": "GB-ENG",
    "leeds": "GB-ENG",
    "bristol": "GB-ENG",
    "liverpool": "GB-ENG",
    "newcastle": "GB-ENG",
    "edinburgh": "GB-SCT",
    "glasgow": "GB-SCT",
    "aberdeen": "GB-SCT",
    "cardiff": "GB-WLS",
    "swansea": "GB-WLS",
    "belfast": "GB-NIR",
    "dublin": "IE-D",
    "cork": "IE-CO",
    "galway": "IE-G",
    "limerick": "IE-LK",
    "paris": "FR-IDF",
    "lyon": "FR-ARA",
    "marseille": "FR-PAC",
    "toulouse": "FR-OCC",
    "madrid": "ES-MD",
    "barcelona": "ES-CT",
    "milan": "IT-25",
    "rome": "IT-62",
    "amsterdam": "NL-NH",
    "rotterdam": "NL-ZH",
    "vienna": "AT-9",
    "zurich": "CH-ZH",
    "brussels": "BE-BRU",
    "toronto": "CA-ON",
    "vancouver": "CA-BC",
    "montreal": "CA-QC",
    "sydney": "AU-NSW",
    "melbourne": "AU-VIC",
    "bangalore": "IN-KA",
    "warsaw": "PL-14",
    "lisbon": "PT-11",
    "stockholm": "SE-AB",
}


_STATE_CODE_COUNTRIES = ("US", "CA")
"""Countries whose postings write "City, ST" with a two-letter subdivision code."""


def _subdivision_by_code(code: str) -> Any:
    return pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Location:
    region: str
    country: str | None
    country_name: str | None = None
    region_code: str | None = None
    remote: bool = False
    resolved: bool = False


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


def _top_level(code: str) -> tuple[str, str]:
    """The first-level subdivision above ``code`` (a London borough → England)."""
    subdivision = _subdivision_by_code(code)
    while subdivision is not None and subdivision.parent_code:
        subdivision = _subdivision_by_code(subdivision.parent_code)
    if subdivision is None:
        return code, code
    return subdivision.code, _plain_name(subdivision.name)


def _plain_name(name: str) -> str:
    """ISO 3166-2 names carry local forms and codes: "Wales [Cymru GB-CYM]" → "Wales"."""
    return re.split(r"\s*[\[;]", name, maxsplit=1)[0].strip() or name


@lru_cache(maxsize=1)
def _subdivision_names() -> dict[str, list[str]]:
    """Normalised subdivision name → ISO 3166-2 codes (UK nations added by hand)."""
    names: dict[str, list[str]] = {}
    for country in SUBDIVISION_COUNTRIES:
        found = pycountry.subdivisions.get(country_code=country)  # type: ignore[no-untyped-call]
        for subdivision in found or []:
            for name in {subdivision.name, subdivision.name.split(",")[0]}:
                names.setdefault(_key(name), []).append(subdivision.code)
    for name, code in UK_NATIONS.items():
        names[name] = [code]
    return names


@lru_cache(maxsize=4096)
def _country(part: str, hint: str | None = None) -> str | None:
    """The country ``part`` names, or None. ``hint``: the country of a known city among the
    location's parts; a part that names one of its subdivisions is not read as a country."""
    key = _key(part)
    if not key:
        return None
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    if key in UK_NATIONS:
        return "GB"
    stripped = part.strip()
    if len(key) == 2 and stripped.isupper():
        code = key.upper()
        if code == hint:
            return code
        subdivision_of = (hint,) if hint is not None else _STATE_CODE_COUNTRIES
        if any(_subdivision_by_code(f"{owner}-{code}") for owner in subdivision_of):
            return None  # "Denver, CO", "Columbus, OH": a state, not Colombia or Ohio's twin
        country = pycountry.countries.get(alpha_2=code)
        return country.alpha_2 if country else None
    if hint is not None and any(
        code.startswith(hint + "-") for code in _subdivision_names().get(key, [])
    ):
        return None  # "Atlanta, Georgia": the state
    try:
        return str(pycountry.countries.lookup(stripped).alpha_2)
    except LookupError:
        return None


def _subdivision(part: str, country: str | None) -> str | None:
    key = re.sub(r"(?: \d+)+$", "", _key(part))
    stripped = part.strip()
    if country is not None and re.fullmatch(r"[A-Z0-9]{1,3}", stripped):
        candidate = f"{country}-{stripped}"
        if _subdivision_by_code(candidate) is not None:
            return candidate
    if country is None and re.fullmatch(r"[A-Z]{2}", stripped):
        for guess in ("US", "CA", "AU"):
            if _subdivision_by_code(f"{guess}-{stripped}") is not None:
                return f"{guess}-{stripped}"
    if key in CITIES and (country is None or CITIES[key].startswith(country + "-")):
        return CITIES[key]
    codes = _subdivision_names().get(key, [])
    if country is not None:
        codes = [code for code in codes if code.startswith(country + "-")]
    return codes[0] if codes else None


@lru_cache(maxsize=65536)
def normalise_location(text: str | None) -> Location:
    """Region and country of a free-text location; never raises."""
    if text is None or not text.strip():
        return Location(UNKNOWN_REGION, None)
    remote = bool(_REMOTE.search(text))
    cleaned = _REMOTE.sub(" ", text)
    parts = [part for part in _SEPARATORS.split(cleaned) if part and _key(part)]
    city = next((CITIES[_key(part)] for part in parts if _key(part) in CITIES), None)
    hint = city.split("-")[0] if city else None
    country: str | None = None
    region_code: str | None = None
    for part in reversed(parts):
        if country is None and (found := _country(part, hint)) is not None:
            country = found
            if _key(part) in UK_NATIONS:
                region_code = UK_NATIONS[_key(part)]
            continue
        if region_code is None and (code := _subdivision(part, country)) is not None:
            region_code = code
            country = country or code.split("-")[0]
    country_name = _country_name(country)
    if region_code is not None:
        top_code, top_name = _top_level(region_code)
        return Location(top_name, country, country_name, top_code, remote, True)
    if remote:
        return Location(REMOTE_REGION, country, country_name, None, True, country is not None)
    return Location(UNKNOWN_REGION, country, country_name, None, False, country is not None)


def _country_name(code: str | None) -> str | None:
    if code is None:
        return None
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or country.name) if country else code
