"""Batch verification (:mod:`microcred.credentials.batch`): input walking, ZIP safety, rows,
duplicates, applicants, limits, the time budget and the CSV, on real issued credentials."""

from __future__ import annotations

import csv
import io
import json
import threading
import time

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import batch, service
from microcred.credentials.dids import http_json_fetcher
from microcred.settings import Settings
from microcred.wallet.certificate import certificate_pdf
from microcred.wallet.presentations import create_presentation
from tests.conftest import World
from tests.credentials.batch_helpers import (
    UNREACHABLE,
    Issued,
    issued,
    make_zip,
    unreachable_fetcher,
)
from tests.credentials.service.conftest import definition_id, principal_of, skills

__all__ = ["definition_id", "issued", "skills"]


def _by_name(result: batch.BatchResult) -> dict[str, batch.BatchRow]:
    return {row.name: row for row in result.rows}


@pytest.mark.both_databases
def test_a_mixed_batch_gives_one_row_per_item_in_order_with_verdicts_and_reasons(
    sessions: sessionmaker[Session], settings: Settings, issued: Issued
) -> None:
    certificate = certificate_pdf(
        json.loads(issued.valid_json), recipient_name="Lee Learner", badge_png=None,
        page_url=f"{settings.base_url}/credentials/{issued.valid_id}",
    )  # fmt: skip
    inputs = batch.BatchInput()
    inputs.add_file("alice.json", issued.valid_json.encode())
    inputs.add_file("bob.jwt", issued.valid_jwt.encode())
    inputs.add_file("carol.png", issued.baked_png)
    inputs.add_file("revoked.json", issued.revoked_json.encode())
    inputs.add_file("tampered.json", issued.tampered_json.encode())
    inputs.add_file("expired.json", issued.expired_json.encode())
    inputs.add_file("cv.pdf", b"%PDF-1.4 not really a certificate")
    inputs.add_file("certificate.pdf", certificate)
    inputs.add_file("notes.txt", b"I am a curriculum vitae")
    inputs.add_references(
        f"# links from the applications\n{settings.base_url}/credentials/{issued.valid_id}\n\n"
        f"{UNREACHABLE}\nhttps://issuer.unreachable.example/other.json\nftp://nope\n"
    )
    calls: list[str] = []
    started = time.monotonic()
    with sessions() as session:
        result = batch.verify_batch(
            session, inputs.items, settings, fetch=unreachable_fetcher(calls)
        )
    assert time.monotonic() - started < 10
    rows = _by_name(result)
    assert [row.index for row in result.rows] == list(range(1, 14))
    assert [row.name for row in result.rows][:3] == ["alice.json", "bob.jwt", "carol.png"]
    for name in ("alice.json", "bob.jwt", "carol.png", "certificate.pdf"):
        row = rows[name]
        assert row.verdict == "valid", row.problems
        assert row.achievement and row.issuer_name == "North College"
        assert row.issuer_id and row.issuer_id.startswith("did:web:")
        assert row.recipient and row.recipient.startswith("hashed e-mail sha256$")
        assert row.status == "active" and row.valid_from
    assert rows["bob.jwt"].source == "jwt" and rows["carol.png"].source == "png+json"
    revoked = rows["revoked.json"]
    assert (revoked.verdict, revoked.status) == ("invalid", "revoked")
    assert any(c.name == "status" and c.status == "fail" for c in revoked.problems)
    assert rows["tampered.json"].verdict == "invalid"
    assert any(c.name == "proof" and c.status == "fail" for c in rows["tampered.json"].problems)
    expired = rows["expired.json"]
    assert expired.verdict == "invalid" and expired.valid_until
    assert any(c.name == "validity" and "Expired" in c.reason for c in expired.problems)
    for name in ("cv.pdf", "notes.txt"):
        assert rows[name].verdict == "unreadable" and rows[name].problems[0].reason
    page = rows[f"{settings.base_url}/credentials/{issued.valid_id}"]
    assert page.verdict == "valid" and page.duplicate_of == "alice.json"
    assert rows["bob.jwt"].duplicate_of == "alice.json"  # the same credential as a JWT
    assert rows["carol.png"].duplicate_of == "alice.json"
    assert rows["certificate.pdf"].source.startswith("pdf+")
    unreachable = rows[UNREACHABLE]
    assert unreachable.verdict == "unreadable"
    assert "did not answer within" in unreachable.problems[0].reason
    later = rows["https://issuer.unreachable.example/other.json"]
    assert "failed earlier in this batch" in later.problems[0].reason
    assert calls == [
        "issuer.unreachable.example/credentials/abc/credential.json"
    ]  # the host that timed out was not asked again
    assert rows["ftp://nope"].problems[0].reason == "Not a reference: expected an http(s) URL"
    assert result.totals == {"valid": 5, "invalid": 3, "unreadable": 5, "not checked": 0,
                             "duplicates": 4, "not issued to applicant": 0,
                             "total": 13}  # fmt: skip
    assert result.exit_code == 2


def test_a_zip_is_walked_in_order_and_its_unsafe_entries_refused_with_the_reason(
    sessions: sessionmaker[Session], settings: Settings, issued: Issued
) -> None:
    archive = make_zip({
        "applicants/alice/badge.png": issued.baked_png,
        "applicants/bob.jwt": issued.valid_jwt.encode(),
        "../../etc/evil.json": issued.valid_json.encode(),
        "/absolute.json": b"{}",
        "nested.zip": make_zip({"inner.json": b"{}"}),
        "sneaky.dat": make_zip({"inner.json": b"{}"}),
        "__MACOSX/._badge.png": b"resource fork",
        ".DS_Store": b"finder",
        "folder/": b"",
    })  # fmt: skip
    inputs = batch.BatchInput()
    inputs.add_file("export.zip", archive)
    names = [item.name for item in inputs.items]
    assert names == [
        "export.zip/applicants/alice/badge.png", "export.zip/applicants/bob.jwt",
        "export.zip/../../etc/evil.json", "export.zip//absolute.json", "export.zip/nested.zip",
        "export.zip/sneaky.dat",
    ]  # fmt: skip
    with sessions() as session:
        result = batch.verify_batch(session, inputs.items, settings, allow_remote=False)
    rows = result.rows
    assert [row.verdict for row in rows[:2]] == ["valid", "valid"]
    assert rows[1].duplicate_of == "export.zip/applicants/alice/badge.png"
    assert "'..' in its path" in rows[2].problems[0].reason
    assert "an absolute path" in rows[3].problems[0].reason
    assert all("archive inside the archive" in row.problems[0].reason for row in rows[4:])
    assert all(row.verdict == "unreadable" for row in rows[2:])


def test_a_zip_bomb_is_refused_and_the_batch_goes_on(issued: Issued) -> None:
    bomb = make_zip({"huge.json": b" " * 3_000_000})
    assert len(bomb) < 20_000
    inputs = batch.BatchInput(max_bytes=1_000_000)
    inputs.add_file("bomb.zip", bomb)
    inputs.add_file("alice.json", issued.valid_json.encode())
    assert inputs.items[0].name == "bomb.zip"
    assert inputs.items[0].problem == (
        "Refused: the archive would unpack to 3000000 bytes, past the batch's limit of 1000000 "
        "bytes"
    )
    assert inputs.items[1].data == issued.valid_json.encode()
    inputs.add_file("garbage.zip", b"PK\x03\x04 not a zip at all")
    assert (inputs.items[2].problem or "").startswith("Not a readable ZIP archive")


def test_limits_are_clear_errors_naming_them() -> None:
    inputs = batch.BatchInput(max_items=3, max_bytes=100)
    inputs.add_references("https://a.example/1\nhttps://a.example/2\nhttps://a.example/3")
    with pytest.raises(batch.BatchLimitExceeded, match="at most 3 items") as raised:
        inputs.add_file("one-too-many.json", b"{}")
    assert raised.value.status_code == 413
    small = batch.BatchInput(max_bytes=100)
    with pytest.raises(batch.BatchLimitExceeded, match=r"at most 100 bytes.*'big\.json'"):
        small.add_file("big.json", b"{" + b" " * 200 + b"}")
    with pytest.raises(batch.BatchLimitExceeded, match="holds 4 files: a batch holds at most 3"):
        batch.BatchInput(max_items=3).add_file(
            "many.zip", make_zip({f"{n}.json": b"{}" for n in range(4)})
        )
    json_items = batch.BatchInput()
    with pytest.raises(batch.BatchError, match="exactly one of 'credential', 'jwt' or 'url'"):
        json_items.add_json_item(1, {"name": "x", "credential": {}, "url": "https://a.example"})


def test_the_time_budget_reports_the_rest_as_not_checked(
    sessions: sessionmaker[Session], settings: Settings, issued: Issued
) -> None:
    now = [0.0]

    def slow_item(row: batch.BatchRow) -> None:
        now[0] += 5.0  # each item takes five seconds on this clock

    inputs = batch.BatchInput()
    for name in ("a.json", "b.json", "c.json"):
        inputs.add_file(name, issued.valid_json.encode())
    with sessions() as session:
        result = batch.verify_batch(
            session, inputs.items, settings, allow_remote=False, time_budget=1.0,
            clock=lambda: now[0], progress=slow_item,
        )  # fmt: skip
    assert [row.verdict for row in result.rows] == ["valid", "not checked", "not checked"]
    assert result.rows[1].problems[0].reason == "Not checked: the batch's time budget is spent"
    assert result.exit_code == 2


@pytest.mark.both_databases
def test_applicants_are_matched_to_the_recipient_identity_yes_no_cannot_tell(
    sessions: sessionmaker[Session], settings: Settings, issued: Issued
) -> None:
    applicants = batch.read_applicants(
        "item;email;name\nalice.json;Learner@Example.org;Alice Applicant\n"
        "bob.json;bob@example.org;Bob\ndid.json;dee@example.org;Dee\n"
        f"{settings.base_url}/credentials/{issued.other_id};someone@example.org;\n"
        "notes.txt;nobody@example.org;N\n".encode()
    )
    inputs = batch.BatchInput()
    inputs.add_file("alice.json", issued.valid_json.encode())
    inputs.add_file("bob.json", issued.valid_json.encode())
    inputs.add_file("did.json", issued.did_json.encode())
    inputs.add_file("notes.txt", b"no credential here")
    inputs.add_file("unlisted.json", issued.valid_json.encode())
    inputs.add_references(f"{settings.base_url}/credentials/{issued.other_id}")
    with sessions() as session:
        result = batch.verify_batch(
            session, inputs.items, settings, applicants=applicants, allow_remote=False
        )
    rows = _by_name(result)
    assert (rows["alice.json"].issued_to_applicant, rows["alice.json"].applicant_name) == (
        "yes", "Alice Applicant",
    )  # fmt: skip
    assert rows["bob.json"].issued_to_applicant == "no"
    assert rows["did.json"].issued_to_applicant == "cannot tell"
    assert rows["did.json"].recipient == "did:example:holder"
    assert rows["notes.txt"].issued_to_applicant == "cannot tell"
    assert rows["unlisted.json"].applicant_email is None
    assert rows[f"{settings.base_url}/credentials/{issued.other_id}"].issued_to_applicant == "yes"
    assert result.totals["not issued to applicant"] == 1  # bob.json


def test_the_applicants_file_needs_its_columns_and_real_addresses() -> None:
    with pytest.raises(batch.BatchError, match="'item' column"):
        batch.read_applicants(b"file name,mail address\nx,y@example.org\n")
    with pytest.raises(batch.BatchError, match="line 3: 'not-an-address' is not an e-mail"):
        batch.read_applicants(b"item,email\na.json,a@example.org\nb.json,not-an-address\n")
    with pytest.raises(batch.BatchError, match="not UTF-8"):
        batch.read_applicants("item,email\nä.json,a@example.org\n".encode("latin-1"))
    people = batch.applicants_from_json([{"item": "A.json", "email": "a@example.org"}])
    assert people == {"a.json": batch.Applicant("a@example.org", "")}


def test_the_csv_has_a_row_per_item_and_defused_cells(
    sessions: sessionmaker[Session], settings: Settings, issued: Issued
) -> None:
    inputs = batch.BatchInput()
    inputs.add_file('=HYPERLINK("https://evil.example","x").json', issued.valid_json.encode())
    inputs.add_file("+cmd.txt", b"@SUM(1)")
    with sessions() as session:
        result = batch.verify_batch(session, inputs.items, settings, allow_remote=False)
    rows = list(csv.reader(io.StringIO(batch.result_csv(result))))
    assert rows[0][:3] == ["#", "item", "verdict"]
    assert rows[1][1].startswith("'=HYPERLINK") and rows[1][2] == "valid"
    assert rows[2][1] == "'+cmd.txt" and rows[2][2] == "unreadable"
    assert rows[3][1] == "totals" and "valid: 1" in rows[3]


def test_a_local_reference_that_names_no_credential_is_unreadable(
    sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    inputs = batch.BatchInput()
    inputs.add_references(f"{settings.base_url}/credentials/{'0' * 32}\n{settings.base_url}/about")
    with sessions() as session:
        result = batch.verify_batch(session, inputs.items, settings, allow_remote=False)
    assert [row.verdict for row in result.rows] == ["unreadable", "unreadable"]
    assert "No credential" in result.rows[0].problems[0].reason
    assert result.rows[1].problems[0].reason == "This server publishes no credential at /about"


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_are_never_valid_and_never_raise(
    session: Session, settings: Settings, data: bytes
) -> None:
    inputs = batch.BatchInput()
    inputs.add_file("item", data)
    result = batch.verify_batch(session, inputs.items, settings, allow_remote=False)
    (row,) = result.rows
    assert row.verdict in ("unreadable", "invalid")
    assert any(check.status == "fail" and check.reason for check in row.problems)
    if not data.strip().lstrip(b"\xef\xbb\xbf").startswith((b"{", b"PK")):
        assert row.verdict == "unreadable"


def test_a_credential_on_another_server_is_fetched_once_a_page_url_read_as_its_json(
    sessions: sessionmaker[Session], settings: Settings, issued: Issued
) -> None:
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/credentials/abc/credential.json":
            return httpx.Response(200, content=issued.valid_json.encode())
        return httpx.Response(404)

    fetch = http_json_fetcher(
        timeout=1.0, transport=httpx.MockTransport(answer), resolve=lambda h, p: ["93.184.216.34"]
    )
    inputs = batch.BatchInput()
    inputs.add_references(
        "https://badges.other.example/credentials/abc\n"
        "https://badges.other.example/credentials/abc/credential.json\n"
        "https://badges.other.example/missing.json\n"
        "https://badges.other.example/credentials/abc/\n"
        "http://10.0.0.7/credentials/abc\n"
    )
    with sessions() as session:
        result = batch.verify_batch(session, inputs.items, settings, fetch=fetch)
    verdicts = [row.verdict for row in result.rows]
    assert verdicts == ["valid", "valid", "unreadable", "valid", "unreadable"]
    assert result.rows[1].duplicate_of == "https://badges.other.example/credentials/abc"
    assert "answered HTTP 404" in result.rows[2].problems[0].reason
    assert "non-public address" in result.rows[4].problems[0].reason  # the SSRF guard
    # each URL once; a 404 does not stop the host being asked for the next one
    assert asked == ["/credentials/abc/credential.json", "/missing.json"]


@hypothesis_settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=600), name=st.text(max_size=40))
def test_arbitrary_bytes_as_a_zip_become_rows_or_a_named_limit_never_an_exception(
    data: bytes, name: str
) -> None:
    inputs = batch.BatchInput(max_items=5, max_bytes=10_000)
    try:
        inputs.add_file(f"{name}.zip", b"PK\x03\x04" + data)
    except batch.BatchLimitExceeded as error:
        assert "at most" in error.message
        return
    assert all(item.problem or item.data is not None for item in inputs.items)
    assert all(item.name.startswith(f"{name}.zip") for item in inputs.items)


def test_remote_hosts_are_asked_at_once_and_each_url_only_once(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    lock, in_flight, most, asked = threading.Lock(), [0], [0], []

    def answer(request: httpx.Request) -> httpx.Response:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
            asked.append(request.headers["host"])
        time.sleep(0.2)
        with lock:
            in_flight[0] -= 1
        return httpx.Response(404)

    fetch = http_json_fetcher(
        timeout=2.0, transport=httpx.MockTransport(answer), resolve=lambda h, p: ["93.184.216.34"]
    )
    inputs = batch.BatchInput()
    inputs.add_references("\n".join(f"https://issuer{n}.example/c.json" for n in range(6)))
    with sessions() as session:
        result = batch.verify_batch(session, inputs.items, settings, fetch=fetch)
    assert all("answered HTTP 404" in row.problems[0].reason for row in result.rows)
    assert sorted(asked) == [f"issuer{n}.example" for n in range(6)]  # once each, remembered
    assert most[0] > 1


def test_the_look_ups_of_a_credential_are_its_remote_did_keys_and_status_lists(
    settings: Settings,
) -> None:
    own = settings.base_url.split("//", 1)[1]
    document = {
        "issuer": {"id": "did:web:badges.other.example:issuers:x"},
        "proof": [
            {"verificationMethod": "did:web:badges.other.example:issuers:x#key-1"},
            {"verificationMethod": "https://keys.other.example/k.json#k"},
            {"verificationMethod": "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH#z"},
        ],
        "credentialStatus": [
            {"statusListCredential": "https://badges.other.example/status/1"},
            {"statusListCredential": f"http://{own}/status/{'a' * 32}"},
        ],
    }
    assert batch.look_ups(json.dumps(document).encode(), own) == [
        "https://badges.other.example/issuers/x/did.json",
        "https://badges.other.example/issuers/x/did.json",
        "https://keys.other.example/k.json",
        "https://badges.other.example/status/1",
    ]
    assert batch.look_ups(b"\x89PNG not json", own) == []
    assert batch.look_ups("{" * 500, own) == []


def test_a_presentation_is_one_row_with_its_credential_details(
    sessions: sessionmaker[Session], settings: Settings, world: World, definition_id: str
) -> None:
    with sessions.begin() as session:
        credential = service.issue_credential(
            session, None, definition_id=definition_id, recipient_user_id=world.learner.id,
            results=[{"level": "Competent"}], settings=settings,
        )  # fmt: skip
        learner = principal_of(session, world.learner)
        presentation = create_presentation(
            session, learner, [credential.id], challenge="job-42", domain=None,
            cryptosuite="vp-jose", settings=settings,
        )  # fmt: skip
    assert isinstance(presentation, str)
    inputs = batch.BatchInput()
    inputs.add_file("lee.vp.jwt", presentation.encode())
    with sessions() as session:
        (row,) = batch.verify_batch(session, inputs.items, settings, allow_remote=False).rows
    assert (row.kind, row.verdict, row.source) == ("presentation", "valid", "jwt")
    assert row.achievement == credential.achievement_name and row.issuer_name == "North College"
    assert any(c.name == "challenge" and c.status == "warning" for c in row.problems)


@hypothesis_settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode()))
def test_any_applicants_file_is_read_or_refused_with_a_reason(data: bytes) -> None:
    try:
        applicants = batch.read_applicants(b"item,email,name\n" + data)
    except batch.BatchError as error:
        assert error.message.startswith("The applicants") and error.field == "applicants"
        return
    assert all("@" in applicant.email for applicant in applicants.values())


def test_an_applicants_field_past_the_csv_limit_is_refused_clearly() -> None:
    limit = csv.field_size_limit(1000)
    try:
        with pytest.raises(batch.BatchError, match="not a readable CSV: field larger"):
            batch.read_applicants(b'item,email\n"' + b"x" * 2000 + b'",a@example.org\n')
    finally:
        csv.field_size_limit(limit)
