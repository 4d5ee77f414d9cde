from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.market.locations import REMOTE_REGION, UNKNOWN_REGION, normalise_location


@pytest.mark.parametrize(
    ("text", "region", "country"),
    [
        ("Hamburg, Germany", "Hamburg", "DE"),
        ("Munich", "Bayern", "DE"),
        ("Columbus, OH", "Ohio", "US"),
        ("Austin, Texas", "Texas", "US"),
        ("London, UK", "England", "GB"),
        ("Southwark, London", "England", "GB"),
        ("Glasgow, Scotland", "Scotland", "GB"),
        ("Dublin 2, Ireland", "Leinster", "IE"),
        ("Toronto, ON, Canada", "Ontario", "CA"),
        ("Lyon, France", "Auvergne-Rhône-Alpes", "FR"),
        ("Cardiff, Wales", "Wales", "GB"),
        # Codes and names that read two ways: a known city decides, else "City, ST" is a state.
        ("Denver, CO", "Colorado", "US"),
        ("Chicago, IL", "Illinois", "US"),
        ("Atlanta, GA", "Georgia", "US"),
        ("Atlanta, Georgia", "Georgia", "US"),
        ("Springfield, IL", "Illinois", "US"),
        ("Wilmington, DE", "Delaware", "US"),
        ("Leipzig, DE", "Sachsen", "DE"),
        ("Bangalore, IN", "Karnātaka", "IN"),
        ("Sacramento, CA", "California", "US"),
        ("Vancouver, BC", "British Columbia", "CA"),
    ],
)
def test_places_resolve_to_first_level_region_and_country(
    text: str, region: str, country: str
) -> None:
    location = normalise_location(text)
    assert (location.region, location.country) == (region, country)
    assert location.resolved


@pytest.mark.parametrize(
    ("text", "country"), [("Tbilisi, Georgia", "GE"), ("Bogotá, Colombia", "CO"), ("Israel", "IL")]
)
def test_country_names_stay_countries(text: str, country: str) -> None:
    assert normalise_location(text).country == country


def test_remote_postings_keep_their_country() -> None:
    location = normalise_location("Remote - US")
    assert (location.region, location.country, location.remote) == (REMOTE_REGION, "US", True)


@pytest.mark.parametrize("text", [None, "", "   ", "Narnia", "???"])
def test_unknown_places_fall_back_to_unknown_region(text: str | None) -> None:
    location = normalise_location(text)
    assert location.region == UNKNOWN_REGION and location.country is None
    assert not location.resolved


@given(st.text(max_size=80))
def test_never_raises_and_always_names_a_region(text: str) -> None:
    location = normalise_location(text)
    assert location.region
    assert location.country is None or len(location.country) == 2
