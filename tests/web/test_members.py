"""Members, invitations and organisations through the real app: pages, forms, API, access."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import Membership, User
from tests.conftest import World, sign_in_client


def _link(page: str) -> str:
    found = re.search(r'id="invitation-link"[^>]*>[^<]*(/invitations/inv_[^<\s]+)<', page)
    assert found is not None, page
    return found.group(1)


def test_an_admin_invites_and_the_invitee_joins_through_the_link(
    client: TestClient, world: World
) -> None:
    csrf = sign_in_client(client, world.admin.email)
    page = client.get("/manage/members")
    assert page.status_code == 200 and world.staff.email in page.text
    forged = client.post(
        "/manage/members/invite",
        data={"organisation": "north-college", "email": "nia@example.org", "role": "assessor"},
    )
    assert forged.status_code == 403
    bad = client.post(
        "/manage/members/invite",
        data={"csrf_token": csrf, "organisation": "north-college", "email": "nope",
              "role": "assessor"},
    )  # fmt: skip
    assert bad.status_code == 400 and "not a valid e-mail address" in bad.text
    invited = client.post(
        "/manage/members/invite",
        data={"csrf_token": csrf, "organisation": "north-college", "email": "nia@example.org",
              "role": "assessor"},
    )  # fmt: skip
    assert invited.status_code == 200
    link = _link(invited.text)
    assert "nia@example.org" in client.get("/manage/members").text  # listed as open

    invitee = TestClient(client.app)
    form = invitee.get(link)
    assert form.status_code == 200 and "North College" in form.text and "assessor" in form.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    differ = invitee.post(
        link, data={"csrf_token": token.group(1), "name": "Nia New", "password": "a-long-password",
                    "password_again": "another-password"},
    )  # fmt: skip
    assert differ.status_code == 400 and "The two passwords differ" in differ.text
    joined = invitee.post(
        link, data={"csrf_token": token.group(1), "name": "Nia New", "password": "a-long-password",
                    "password_again": "a-long-password"},
        follow_redirects=False,
    )  # fmt: skip
    assert joined.status_code == 303 and joined.headers["location"] == "/account?welcome=1"
    account = invitee.get("/account?welcome=1")
    assert "Welcome" in account.text and "assessor of North College" in account.text
    assert invitee.get("/review").status_code == 200  # the assessor's page
    assert TestClient(client.app).get(link).status_code == 404  # used once
    fresh = TestClient(client.app)
    sign_in_client(fresh, "nia@example.org", "a-long-password")
    assert "Nia New" in fresh.get("/account").text


def test_members_are_removed_but_never_the_last_admin_and_only_by_admins(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    staff = TestClient(client.app)
    sign_in_client(staff, world.staff.email)
    assert staff.get("/manage/members").status_code == 403
    csrf = sign_in_client(client, world.admin.email)
    page = client.get("/manage/members").text
    removal = r'action="(/manage/members/[0-9a-f]{32}/remove)".*?aria-label="Remove ([^ ]+)'
    by_email = {email: action for action, email in re.findall(removal, page, flags=re.S)}
    form = {"csrf_token": csrf, "organisation": "north-college"}
    last = client.post(by_email[world.admin.email], data=form)
    assert last.status_code == 409 and "last admin" in last.text
    removed = client.post(
        by_email[world.staff.email], data={"csrf_token": csrf, "organisation": "north-college"},
        follow_redirects=False,
    )  # fmt: skip
    assert removed.status_code == 303
    assert world.staff.email not in client.get("/manage/members").text
    with sessions() as session:
        user = session.get(User, world.staff.id)
        assert user is not None and accounts.principal_for(session, user).roles == {}


def test_platform_admins_add_organisations_and_others_cannot(
    client: TestClient, world: World, platform_admin: str
) -> None:
    other = TestClient(client.app)
    other_csrf = sign_in_client(other, world.admin.email)
    assert other.get("/admin/organisations").status_code == 403
    refused = other.post(
        "/admin/organisations",
        data={"csrf_token": other_csrf, "slug": "west", "name": "West", "kind": "issuer"},
    )
    assert refused.status_code == 403
    csrf = sign_in_client(client, platform_admin)
    bad = client.post(
        "/admin/organisations",
        data={"csrf_token": csrf, "slug": "No Spaces", "name": "West", "kind": "issuer"},
    )
    assert bad.status_code == 400 and "slug must be" in bad.text and 'value="West"' in bad.text
    made = client.post(
        "/admin/organisations",
        data={"csrf_token": csrf, "slug": "west-institute", "name": "West Institute",
              "kind": "institution", "country": "de", "region": "Bavaria"},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    assert made.headers["location"] == "/manage/members?organisation=west-institute"
    members = client.get(made.headers["location"])
    assert members.status_code == 200 and "Members of West Institute" in members.text
    assert "West Institute" in client.get("/admin/organisations").text


def test_the_members_api_with_an_admin_token(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    with sessions.begin() as session:
        user = session.get(User, world.admin.id)
        assert user is not None
        principal = accounts.principal_for(session, user)
        _, admin_token = accounts.create_api_token(
            session, principal, name="t", scopes=["accounts:admin"]
        )
        _, issue_token = accounts.create_api_token(
            session, principal, name="t2", scopes=["credentials:issue"]
        )
    headers = {"Authorization": f"Bearer {admin_token}"}
    url = "/api/v1/organisations/north-college"
    members = client.get(f"{url}/members", headers=headers).json()
    assert {m["email"] for m in members["members"]} >= {world.admin.email, world.staff.email}
    only_staff = client.get(f"{url}/members", params={"role": "issuer_staff", "limit": 5},
                            headers=headers).json()  # fmt: skip
    assert [m["email"] for m in only_staff["members"]] == [world.staff.email]
    refused = client.get(f"{url}/members", headers={"Authorization": f"Bearer {issue_token}"})
    assert refused.status_code == 403  # the scope matters, not only the role
    invited = client.post(
        f"{url}/invitations", json={"email": "api@example.org", "role": "learner"}, headers=headers
    )
    assert invited.status_code == 201 and invited.json()["membership_added"] is False
    assert "/invitations/inv_" in invited.json()["invitation_url"]
    existing = client.post(
        f"{url}/invitations", json={"email": world.employer.email, "role": "learner"},
        headers=headers,
    )  # fmt: skip
    assert existing.json() == {"email": world.employer.email, "role": "learner",
                               "membership_added": True, "invitation_url": None}  # fmt: skip
    staff_membership = next(
        m["membership_id"] for m in members["members"] if m["email"] == world.staff.email
    )
    gone = client.delete(f"{url}/members/{staff_membership}", headers=headers)
    assert gone.status_code == 204
    again = client.delete(f"{url}/members/{staff_membership}", headers=headers)
    assert again.status_code == 404
    south = client.get("/api/v1/organisations/south-academy/members", headers=headers)
    assert south.status_code == 403
    with sessions() as session:
        elsewhere = session.scalars(
            select(Membership.id).where(Membership.organisation_id == world.academy.id)
        ).first()
    assert elsewhere is not None  # South's membership, addressed through North: absent
    assert client.delete(f"{url}/members/{elsewhere}", headers=headers).status_code == 404


def test_an_existing_account_joins_through_a_link_only_when_signed_in_as_its_address(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    from microcred.accounts import admin

    with sessions.begin() as session:
        invited = admin.invite(session, None, "north-college", email=world.employer.email,
                               role="learner", link_for_existing=True)  # fmt: skip
    link = f"/invitations/{invited.secret}"
    anonymous = client.get(link)
    assert 'id="sign-in-to-join"' in anonymous.text and "Create my account" not in anonymous.text
    csrf = sign_in_client(client, world.staff.email)  # someone else
    other = client.post(link, data={"csrf_token": csrf})
    assert other.status_code == 403
    csrf = sign_in_client(client, world.employer.email)
    page = client.get(link)
    assert 'id="join-form"' in page.text
    joined = client.post(link, data={"csrf_token": csrf}, follow_redirects=False)
    assert joined.status_code == 303 and joined.headers["location"] == "/account?welcome=1"
    assert "North College" in client.get("/account").text
    assert client.get(link).status_code == 404  # used


def test_the_members_list_filters_by_role_and_name_and_shows_a_bounded_page(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from microcred.web.routers import members

    sign_in_client(client, world.admin.email)
    learners = client.get("/manage/members", params={"role": "learner"}).text
    assert world.learner.email in learners and world.staff.email not in learners
    assert "1 member." in learners
    named = client.get("/manage/members", params={"q": "ASHA"}).text
    assert world.assessor.email in named and world.learner.email not in named
    assert client.get("/manage/members", params={"role": "owner"}).status_code == 400
    monkeypatch.setattr(members, "MEMBERS_SHOWN", 2)
    capped = client.get("/manage/members").text
    assert "4 members; the first 2 by name are shown" in capped
    assert capped.count('aria-label="Remove ') == 2
