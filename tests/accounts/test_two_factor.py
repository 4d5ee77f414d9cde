"""Two-factor authentication: RFC 4226/6238 codes, setting it up, signing in with it, recovery
codes, an organisation's rule, resetting a member's, and who may do what."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts import service as accounts
from microcred.accounts import twofactor
from microcred.accounts.models import AuditEvent, Membership, RecoveryCode, TwoFactorSecret, User
from microcred.accounts.service import Principal, SignInThrottled
from microcred.cli.main import app as cli
from microcred.errors import PermissionDenied
from microcred.i18n import gettext, using_locale
from microcred.notifications.models import Notification
from microcred.settings import Settings
from tests.accounts.test_recovery import invited_learner
from tests.conftest import PASSWORD, World, sign_in_client

RFC_SECRET = b"12345678901234567890"


# --- the codes (pure) -------------------------------------------------------------------------


def test_hotp_matches_rfc_4226_appendix_d() -> None:
    expected = ["755224", "287082", "359152", "969429", "338314",
                "254676", "287922", "162583", "399871", "520489"]  # fmt: skip
    assert [twofactor.hotp(RFC_SECRET, counter) for counter in range(10)] == expected


@pytest.mark.parametrize(
    ("unix_time", "code"),
    [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
     (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130")],
)  # fmt: skip
def test_totp_matches_rfc_6238_appendix_b_for_sha1(unix_time: int, code: str) -> None:
    moment = datetime.fromtimestamp(unix_time, UTC)
    assert twofactor.totp(RFC_SECRET, moment, digits=8) == code


@given(st.binary(min_size=10, max_size=40))
def test_a_secret_survives_base32_as_apps_type_it(secret: bytes) -> None:
    text = twofactor.encode_secret(secret)
    assert "=" not in text
    assert twofactor.decode_secret(text) == secret
    spaced = " ".join(text[i : i + 4] for i in range(0, len(text), 4)).lower()
    assert twofactor.decode_secret(spaced) == secret


@given(
    st.integers(min_value=-5, max_value=5), st.integers(min_value=1_600_000_000, max_value=2**33)
)
def test_codes_of_neighbouring_steps_only_are_accepted(offset: int, unix_time: int) -> None:
    now = datetime.fromtimestamp(unix_time, UTC)
    code = twofactor.totp(RFC_SECRET, now + timedelta(seconds=30 * offset))
    step = twofactor.matching_step(RFC_SECRET, code, now)
    if abs(offset) <= twofactor.DRIFT_STEPS:
        assert step == twofactor.time_step(now) + offset
        assert twofactor.matching_step(RFC_SECRET, code, now, after=step) is None  # no replay
    else:  # another step's code may collide by chance (10⁻⁶): then it is that step's
        assert step is None or twofactor.hotp(RFC_SECRET, step) == code


def test_the_qr_code_address_follows_the_key_uri_format() -> None:
    uri = twofactor.provisioning_uri(RFC_SECRET, "ada@north.example", "microcred")
    assert uri.startswith("otpauth://totp/microcred:ada@north.example?secret=")
    assert "issuer=microcred" in uri and "digits=6" in uri and "period=30" in uri


# --- the account's own second factor ----------------------------------------------------------


def principal_of(session: Session, user_id: str) -> Principal:
    user = session.get(User, user_id)
    assert user is not None
    return accounts.principal_for(session, user)


def turn_on(
    sessions: sessionmaker[Session], settings: Settings, user_id: str
) -> tuple[bytes, list[str]]:
    """Set up and confirm a second factor; its secret and recovery codes."""
    with sessions.begin() as session:
        setup = twofactor.start_setup(session, settings, principal_of(session, user_id))
        secret = twofactor.decode_secret(setup.secret)
        codes = twofactor.confirm_setup(
            session, settings, principal_of(session, user_id),
            twofactor.totp(secret, datetime.now(UTC) - timedelta(seconds=30)),
        )  # fmt: skip
    return secret, codes


def code_now(secret: bytes, later: int = 0) -> str:
    return twofactor.totp(secret, datetime.now(UTC) + timedelta(seconds=30 * later))


@pytest.mark.both_databases
def test_setting_up_needs_a_code_of_the_new_secret_and_keeps_it_encrypted(
    sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with sessions.begin() as session:
        me = principal_of(session, world.staff.id)
        setup = twofactor.start_setup(session, settings, me)
        with pytest.raises(twofactor.TwoFactorError, match="does not match") as wrong:
            twofactor.confirm_setup(session, settings, me, "000000")
        assert wrong.value.field == "code"
        stored = session.get(TwoFactorSecret, world.staff.id)
        assert stored is not None and stored.confirmed_at is None
        assert setup.secret not in stored.secret_sealed  # sealed with the master key
        assert not session.get(User, world.staff.id).two_factor_enabled  # type: ignore[union-attr]
        again = twofactor.pending_setup(session, settings, me)
        assert again == setup  # a reload shows the same QR code
    _, codes = turn_on(sessions, settings, world.staff.id)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    with sessions() as session:
        user = session.get(User, world.staff.id)
        assert user is not None and user.two_factor_enabled
        hashes = set(session.scalars(select(RecoveryCode.code_hash)))
        assert len(hashes) == 10 and not any(c.replace("-", "") in h for c in codes for h in hashes)
        with pytest.raises(twofactor.TwoFactorError, match="already on"):
            twofactor.start_setup(session, settings, principal_of(session, world.staff.id))
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == user.id))
        assert "account.two_factor.enabled" in set(actions)


@pytest.mark.both_databases
def test_a_code_works_once_and_a_recovery_code_once(
    sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    secret, codes = turn_on(sessions, settings, world.staff.id)
    with sessions.begin() as session:
        user = session.get(User, world.staff.id)
        assert user is not None
        fresh = code_now(secret, later=1)
        assert twofactor.check_code(session, settings, user, fresh) == twofactor.SecondFactor(False)
        assert twofactor.check_code(session, settings, user, fresh) is None  # replayed
        assert twofactor.check_code(session, settings, user, code_now(secret)) is None  # older
        assert twofactor.check_code(session, settings, user, "not a code") is None
        used = twofactor.check_code(session, settings, user, "  " + codes[3].upper() + " ")
        assert used == twofactor.SecondFactor(True, codes_left=9)
        assert twofactor.check_code(session, settings, user, codes[3]) is None
        notices = session.scalars(
            select(Notification.title).where(Notification.user_id == user.id)
        ).all()
    assert "A recovery code was used to sign in" in notices


def test_new_recovery_codes_replace_the_old_ones(
    sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    secret, old = turn_on(sessions, settings, world.staff.id)
    with sessions.begin() as session:
        me = principal_of(session, world.staff.id)
        with pytest.raises(twofactor.TwoFactorError, match="does not match"):
            twofactor.regenerate_recovery_codes(session, settings, me, old[0])  # app code only
        new = twofactor.regenerate_recovery_codes(session, settings, me, code_now(secret, 1))
        user = session.get(User, world.staff.id)
        assert user is not None
        assert twofactor.check_code(session, settings, user, old[1]) is None
        assert twofactor.check_code(session, settings, user, new[0]) is not None


@pytest.mark.both_databases
def test_turning_it_off_needs_the_password_and_a_code(
    sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    secret, codes = turn_on(sessions, settings, world.staff.id)
    with sessions.begin() as session:
        me = principal_of(session, world.staff.id)
        with pytest.raises(twofactor.TwoFactorError, match="password") as error:
            twofactor.disable(session, settings, me, password="wrong", code=code_now(secret, 1))
        assert error.value.field == "password"
        with pytest.raises(twofactor.TwoFactorError, match="does not match") as error:
            twofactor.disable(session, settings, me, password=PASSWORD, code="123456")
        assert error.value.field == "code"
        twofactor.disable(session, settings, me, password=PASSWORD, code=codes[0])
    with sessions() as session:
        user = session.get(User, world.staff.id)
        assert user is not None and not user.two_factor_enabled
        assert session.get(TwoFactorSecret, world.staff.id) is None
        assert session.scalars(select(RecoveryCode)).all() == []
        titles = session.scalars(select(Notification.title).where(Notification.user_id == user.id))
        assert "Two-factor authentication was turned off" in set(titles)


def test_a_token_cannot_set_it_up(
    sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    with sessions.begin() as session:
        user = session.get(User, world.staff.id)
        assert user is not None
        token = accounts.principal_for(session, user, scopes=["credentials:read"])
        with pytest.raises(PermissionDenied, match="signed-in session"):
            twofactor.start_setup(session, settings, token)


# --- signing in -------------------------------------------------------------------------------


def csrf_of(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


def password_step(client: TestClient, email: str, next_path: str = "/") -> None:
    response = client.post(
        "/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(client, "/sign-in"),
              "next": next_path},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/sign-in/code"


def code_step(client: TestClient, code: str) -> object:
    return client.post(
        "/sign-in/code",
        data={"code": code, "csrf_token": csrf_of(client, "/sign-in/code")},
        follow_redirects=False,
    )


@pytest.mark.both_databases
def test_signing_in_asks_for_the_code_after_the_password(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    secret, codes = turn_on(sessions, settings, world.staff.id)
    assert client.get("/sign-in/code", follow_redirects=False).headers["location"] == "/sign-in"
    password_step(client, "staff@north.example", "/manage/credentials")
    assert client.get("/api/v1/me").status_code == 401  # not signed in yet
    page = client.get("/sign-in/code")
    assert page.status_code == 200 and 'autocomplete="one-time-code"' in page.text
    wrong = code_step(client, "000000")
    assert wrong.status_code == 400 and "That code is not right" in wrong.text  # type: ignore[attr-defined]
    assert client.get("/api/v1/me").status_code == 401
    done = code_step(client, code_now(secret, 1))
    assert done.status_code == 303 and done.headers["location"] == "/manage/credentials"  # type: ignore[attr-defined]
    me = client.get("/api/v1/me").json()
    assert me["email"] == "staff@north.example" and me["two_factor_enabled"] is True

    other = TestClient(client.app)
    password_step(other, "staff@north.example")
    recovered = code_step(other, codes[0])
    assert recovered.headers["location"] == "/account/two-factor?recovery_used=9"  # type: ignore[attr-defined]
    warned = other.get("/account/two-factor?recovery_used=9").text
    assert "You signed in with a recovery code" in warned and "9 are left" in warned


def test_wrong_codes_stop_after_five_and_the_account_is_told(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    secret, _ = turn_on(sessions, settings, world.staff.id)
    password_step(client, "staff@north.example")
    for _ in range(twofactor.MAX_FAILURES):
        assert code_step(client, "000000").status_code == 400  # type: ignore[attr-defined]
    refused = code_step(client, code_now(secret, 1))  # even the right one, for now
    assert refused.status_code == 429 and "Too many wrong codes" in refused.text  # type: ignore[attr-defined]
    assert client.get("/api/v1/me").status_code == 401
    # A new password step does not reset the count (it is kept per account, not per browser).
    fresh = TestClient(client.app)
    password_step(fresh, "staff@north.example")
    assert code_step(fresh, code_now(secret, 1)).status_code == 429  # type: ignore[attr-defined]
    with sessions() as session:
        titles = session.scalars(
            select(Notification.title).where(Notification.user_id == world.staff.id)
        ).all()
    assert titles.count("Several wrong sign-in codes for your account") == 1


def test_the_code_step_expires_and_ends_with_a_password_change(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    import microcred.web.security as security

    secret, _ = turn_on(sessions, settings, world.staff.id)
    password_step(client, "staff@north.example")
    with sessions.begin() as session:  # the password changes meanwhile (another browser)
        user = session.get(User, world.staff.id)
        assert user is not None
        user.password_hash = user.password_hash + "x"
    assert code_step(client, code_now(secret, 1)).headers["location"] == "/sign-in"  # type: ignore[attr-defined]
    with sessions.begin() as session:
        user = session.get(User, world.staff.id)
        assert user is not None
        user.password_hash = user.password_hash[:-1]
    password_step(client, "staff@north.example")
    real = security.time.time
    monkeypatch.setattr(security.time, "time", lambda: real() + 6 * 60)
    assert code_step(client, code_now(secret, 1)).headers["location"] == "/sign-in"  # type: ignore[attr-defined]


def test_a_password_reset_link_still_asks_for_the_code(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    from microcred.accounts import recovery

    secret, _ = turn_on(sessions, settings, world.staff.id)
    with sessions.begin() as session:
        link = recovery.create_reset_link(session, None, world.staff.id)
    path = f"/password-reset/{link.secret}"
    new = "a new passphrase here"
    response = client.post(
        path, data={"password": new, "repeat_password": new, "csrf_token": csrf_of(client, path)},
        follow_redirects=False,
    )  # fmt: skip
    assert response.headers["location"] == "/sign-in/code"
    assert client.get("/api/v1/me").status_code == 401
    done = code_step(client, code_now(secret, 1))
    assert done.headers["location"] == "/account?done=password-changed"  # type: ignore[attr-defined]
    assert client.get("/api/v1/me").status_code == 200


# --- pages of one's own account ---------------------------------------------------------------


def test_setting_it_up_and_off_on_the_account_page(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    token = sign_in_client(client, "learner@example.org")
    account = client.get("/account").text
    assert 'id="two-factor-state"' in account and "Off: your password alone" in account
    started = client.post("/account/two-factor/start", data={"csrf_token": token})
    key = re.search(r'id="setup-key" class="secret">([A-Z2-7 ]+)<', started.text)
    assert started.status_code == 200 and key and 'id="setup-qr"' in started.text
    secret = twofactor.decode_secret(key.group(1))
    wrong = client.post("/account/two-factor/confirm", data={"csrf_token": token, "code": "1"})
    assert wrong.status_code == 400 and 'id="code-error"' in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    on = client.post(
        "/account/two-factor/confirm", data={"csrf_token": token, "code": code_now(secret)}
    )
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", on.text)
    assert on.status_code == 200 and len(codes) == 10 and 'id="two-factor-on"' in on.text
    assert "You have 10 unused recovery codes" in client.get("/account/two-factor").text
    assert codes[0] not in client.get("/account/two-factor").text  # shown once only
    off = client.post(
        "/account/two-factor/disable",
        data={"csrf_token": token, "password": PASSWORD, "code": codes[5]},
        follow_redirects=False,
    )
    assert off.headers["location"] == "/account/two-factor?done=off"
    assert "Two-factor authentication is off." in client.get(off.headers["location"]).text
    assert client.post(
        "/account/two-factor/start", data={"csrf_token": "forged"}
    ).status_code == 403  # fmt: skip


# --- an organisation's rule -------------------------------------------------------------------


@pytest.mark.both_databases
def test_an_organisation_that_requires_it_sends_its_staff_to_set_it_up(
    app: object, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    admin = TestClient(app)  # type: ignore[arg-type]
    token = sign_in_client(admin, "admin@north.example")
    page = admin.get("/manage/members").text
    assert 'id="require-two-factor"' in page and "assessor@north.example" in page
    assert "Without two-factor authentication: 3 of the admins, staff and assessors" in page
    rule = {"csrf_token": token, "organisation": "north-college", "required": "on"}
    refused = admin.post("/manage/members/two-factor-rule", data=rule)
    assert refused.status_code == 400 and "for your own account first" in refused.text
    turn_on(sessions, settings, world.admin.id)  # so that the rule cannot lock its maker out
    saved = admin.post("/manage/members/two-factor-rule", data=rule)
    assert saved.status_code == 200 and 'id="rule-saved"' in saved.text
    assert re.search(r'id="require-two-factor" name="required" checked', saved.text)

    staff = TestClient(app)  # type: ignore[arg-type]
    sign_in_client_lenient(staff, "staff@north.example")
    sent = staff.get("/manage/credentials", follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/account/two-factor?required=1"
    api = staff.get("/api/v1/me")
    assert api.status_code == 403 and api.json()["error"] == "TwoFactorSetupRequired"
    learner = TestClient(app)  # type: ignore[arg-type]
    sign_in_client(learner, "learner@example.org")
    assert learner.get("/wallet").status_code == 200  # learners are not affected
    other = TestClient(app)  # type: ignore[arg-type]
    sign_in_client(other, "staff@south.example")
    assert other.get("/manage/credentials").status_code == 200  # nor another organisation

    turn_on(sessions, settings, world.staff.id)
    assert staff.get("/manage/credentials").status_code == 200
    with sessions() as session:
        assert twofactor.members_without(session, world.college.id) == ["assessor@north.example"]
        staff_principal = principal_of(session, world.staff.id)
        user = session.get(User, world.staff.id)
        assert user is not None
        with pytest.raises(twofactor.TwoFactorError, match="North College requires"):
            twofactor.disable(session, settings, staff_principal, password=PASSWORD, code="x")
        audit = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "organisation.two_factor_rule")
        ).one()
    assert audit == {"required": True}


def sign_in_client_lenient(client: TestClient, email: str) -> None:
    """Sign in when the account page itself may be out of reach (the rule applies)."""
    response = client.post(
        "/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_of(client, "/sign-in"),
              "next": "/"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_the_rule_by_the_api_for_admins_only(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    token = sign_in_client(client, "staff@north.example")
    headers = {"X-CSRF-Token": token}
    refused = client.put(
        "/api/v1/organisations/north-college/two-factor-rule", json={"required": True},
        headers=headers,
    )  # fmt: skip
    assert refused.status_code == 403
    with sessions.begin() as session:
        _, secret = accounts.create_api_token(
            session, principal_of(session, world.admin.id), name="ops", scopes=["accounts:admin"]
        )
    bearer = {"Authorization": f"Bearer {secret}"}
    other = TestClient(client.app)
    first = other.put(
        "/api/v1/organisations/north-college/two-factor-rule", json={"required": True},
        headers=bearer,
    )  # fmt: skip
    assert first.status_code == 400 and first.json()["error"] == "TwoFactorError"
    turn_on(sessions, settings, world.admin.id)
    done = other.put(
        "/api/v1/organisations/north-college/two-factor-rule", json={"required": True},
        headers=bearer,
    )  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json() == {
        "required": True,
        "members_without": ["assessor@north.example", "staff@north.example"],
    }  # fmt: skip
    assert other.get(
        "/api/v1/organisations/south-academy/two-factor-rule", headers=bearer
    ).status_code == 403  # fmt: skip
    assert other.put(
        "/api/v1/organisations/north-college/two-factor-rule", json={"required": "maybe"},
        headers=bearer,
    ).status_code == 422  # fmt: skip


def test_platform_admins_can_be_required_to_use_it(
    sessions: sessionmaker[Session], settings: Settings, platform_admin: str, world: World
) -> None:
    from microcred.web.app import create_app

    strict = create_app(
        settings.model_copy(update={"require_two_factor_for_platform_admins": True})
    )
    with TestClient(strict) as client:
        sign_in_client_lenient(client, platform_admin)
        assert client.get("/admin/organisations", follow_redirects=False).status_code == 303
        assert "This platform requires" in client.get("/account/two-factor?required=1").text
    strict.state.context.engine.dispose()


# --- resetting someone's second factor --------------------------------------------------------


def test_an_admin_resets_a_members_second_factor_within_the_reset_link_rules(
    app: object, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    own = invited_learner(sessions, world, "ina@example.org")
    turn_on(sessions, settings, own)
    turn_on(sessions, settings, world.learner.id)  # the platform vouches for this one
    admin = TestClient(app)  # type: ignore[arg-type]
    token = sign_in_client(admin, "admin@north.example")
    with sessions() as session:
        membership = session.scalars(select(Membership.id).where(Membership.user_id == own)).one()
        vouched = session.scalars(
            select(Membership.id).where(Membership.user_id == world.learner.id)
        ).one()
    page = admin.get("/manage/members").text
    assert f"/manage/members/{membership}/reset-two-factor" in page
    done = admin.post(
        f"/manage/members/{membership}/reset-two-factor",
        data={"csrf_token": token, "organisation": "north-college"},
    )
    assert done.status_code == 200 and 'id="two-factor-reset"' in done.text
    refused = admin.post(
        f"/manage/members/{vouched}/reset-two-factor",
        data={"csrf_token": token, "organisation": "north-college"},
    )
    assert refused.status_code == 403 and "platform administrator resets its second factor" in (
        refused.text
    )
    turn_on(sessions, settings, world.other_staff.id)
    elsewhere = admin.post(  # a member of another organisation
        f"/manage/members/{_membership_of(sessions, world.other_staff.id)}/reset-two-factor",
        data={"csrf_token": token, "organisation": "south-academy"},
    )
    assert elsewhere.status_code == 404
    with sessions() as session:
        ina = session.get(User, own)
        assert ina is not None and not ina.two_factor_enabled
        assert session.get(User, world.learner.id).two_factor_enabled  # type: ignore[union-attr]
        titles = session.scalars(select(Notification.title).where(Notification.user_id == own))
        assert "An administrator turned off your two-factor authentication" in set(titles)


def _membership_of(sessions: sessionmaker[Session], user_id: str) -> str:
    with sessions() as session:
        return session.scalars(select(Membership.id).where(Membership.user_id == user_id)).one()


def test_the_operator_resets_a_second_factor_on_the_server(
    runner: CliRunner, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    turn_on(sessions, settings, world.learner.id)
    result = runner.invoke(cli, ["accounts", "reset-two-factor", "Learner@Example.org"])
    assert result.exit_code == 0, result.output
    assert "Two-factor authentication is off for learner@example.org" in result.output
    again = runner.invoke(cli, ["accounts", "reset-two-factor", "learner@example.org"])
    assert again.exit_code != 0 and "does not use two-factor" in again.output
    with sessions() as session:
        assert not session.get(User, world.learner.id).two_factor_enabled  # type: ignore[union-attr]


def test_throttling_is_per_account(
    sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    turn_on(sessions, settings, world.staff.id)
    with sessions.begin() as session:
        staff = session.get(User, world.staff.id)
        learner = session.get(User, world.learner.id)
        assert staff is not None and learner is not None
        for _ in range(twofactor.MAX_FAILURES):
            twofactor.record_failure(session, settings, staff)
        with pytest.raises(SignInThrottled):
            twofactor.check_attempts_allowed(session, staff)
        twofactor.check_attempts_allowed(session, learner)
        later = datetime.now(UTC) + twofactor.FAILURE_WINDOW + timedelta(seconds=1)
        twofactor.check_attempts_allowed(session, staff, now=later)


def test_the_code_step_and_the_set_up_page_speak_the_readers_language(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World
) -> None:
    turn_on(sessions, settings, world.staff.id)
    password_step(client, "staff@north.example")

    def said(locale: str, english: str) -> str:
        with using_locale(locale):
            translated = gettext(english)
        assert translated != english  # the catalog has it
        return translated

    page = client.get("/sign-in/code", params={"lang": "de"}).text
    assert '<html lang="de">' in page and f"<h1>{said('de', 'Sign-in code')}</h1>" in page
    learner = TestClient(client.app)
    sign_in_client(learner, "learner@example.org")
    french = learner.get("/account/two-factor", params={"lang": "fr"}).text
    assert said("fr", "Set up two-factor authentication") in french
    spanish = learner.get("/account", params={"lang": "es"}).text
    assert said("es", "Two-factor authentication") in spanish
