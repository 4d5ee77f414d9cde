"""Share links of one credential: LinkedIn's Add to profile and post links, e-mail, embed code."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from microcred.wallet.sharing import linkedin_add_to_profile, share_links

PAGE = "https://creds.example.org/credentials/abc123"
IMAGE = PAGE + "/badge.png"


def _document(**overrides: object) -> dict[str, object]:
    document: dict[str, object] = {
        "id": "urn:uuid:6f1c0d1e-1111-4222-8333-944455556666",
        "issuer": {"id": "did:web:creds.example.org:issuers:north", "name": "North College"},
        "validFrom": "2026-03-14T09:00:00Z",
        "validUntil": "2029-02-28T00:00:00Z",
        "credentialSubject": {"achievement": {"name": "SQL essentials & joins"}},
    }
    document.update(overrides)
    return document


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_linkedin_add_to_profile_carries_the_certification_fields() -> None:
    links = share_links(_document(), PAGE, IMAGE)
    assert links.linkedin_add.startswith("https://www.linkedin.com/profile/add?")
    assert _query(links.linkedin_add) == {
        "startTask": "CERTIFICATION_NAME",
        "name": "SQL essentials & joins",
        "organizationName": "North College",
        "certUrl": PAGE,
        "certId": "urn:uuid:6f1c0d1e-1111-4222-8333-944455556666",
        "issueYear": "2026",
        "issueMonth": "3",
        "expirationYear": "2029",
        "expirationMonth": "2",
    }


def test_no_expiry_and_a_malformed_date_leave_the_dates_out() -> None:
    url = share_links(_document(validUntil=None, validFrom="not a date"), PAGE, IMAGE).linkedin_add
    query = _query(url)
    assert not {"issueYear", "issueMonth", "expirationYear", "expirationMonth"} & set(query)
    assert query["name"] == "SQL essentials & joins"


def test_post_and_email_links_point_at_the_public_page() -> None:
    links = share_links(_document(), PAGE, IMAGE)
    assert _query(links.linkedin_post) == {"url": PAGE}
    assert urlsplit(links.linkedin_post).netloc == "www.linkedin.com"
    email = _query(links.email)
    assert links.email.startswith("mailto:?")
    assert email["subject"] == "SQL essentials & joins — North College"
    assert PAGE in email["body"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@given(name=st.text(max_size=300), issuer=st.text(max_size=300))
def test_embed_code_is_one_link_around_one_image_whatever_the_names(name: str, issuer: str) -> None:
    document = _document(issuer={"name": issuer}, credentialSubject={"achievement": {"name": name}})
    links = share_links(document, PAGE, IMAGE)
    parser = _Tags()
    parser.feed(links.embed_html)
    assert [tag for tag, _ in parser.tags] == ["a", "img"]
    assert parser.tags[0][1]["href"] == PAGE
    assert parser.tags[1][1]["src"] == IMAGE
    shown = _query(links.linkedin_add)
    assert shown["name"] == (" ".join(name.split()) or "Badge")[:200]
    assert shown["organizationName"] == (" ".join(issuer.split()) or "Issuer")[:200]


def test_a_document_missing_its_parts_still_gives_links() -> None:
    links = share_links({}, PAGE, IMAGE)
    assert _query(links.linkedin_add)["name"] == "Badge"
    assert _query(links.linkedin_add)["certId"] == PAGE


def test_linkedin_link_encodes_spaces_as_percent_20() -> None:
    url = linkedin_add_to_profile(
        name="Data analysis", organisation_name="A B", issued=None, expires=None,
        page_url=PAGE, credential_id="x",
    )  # fmt: skip
    assert "name=Data%20analysis" in url and "+" not in url
