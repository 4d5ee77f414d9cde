"""A credential template's JCS bytes: checking only per-credential parts still gives RFC 8785."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.documents import CredentialTemplate, Recipient
from microcred.credentials.keys import Ed25519Key
from microcred.credentials.status.bitstring import status_entry
from tests.credentials.factories import VALID_FROM, achievement, issuer_for

KEY = Ed25519Key.generate()
scalars = (
    st.text(max_size=12)
    | st.sampled_from(['say "hi"', "a\\b", "x.5e3", "null", "\U0001f600", "\ufb33", "é"])
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.none()
)
objects = st.dictionaries(st.text(max_size=6), scalars, max_size=4)


def _template(**achievement_extra: Any) -> CredentialTemplate:
    return CredentialTemplate.create(
        issuer=issuer_for(KEY), achievement={**achievement(), **achievement_extra}
    )


PLAIN = _template()
WITH_FLOAT = _template(creditsAvailable=2.5, name='Zoë \U0001f600 "Data"')


@settings(max_examples=300, deadline=None)
@given(
    results=st.lists(objects, max_size=3),
    evidence=st.lists(objects.map(lambda o: {**o, "id": "https://e.example/1"}), max_size=2),
    email=st.emails(),
    days=st.integers(1, 4000),
    floaty=st.booleans(),
)
def test_template_bytes_match_the_reference(
    results: list[dict[str, Any]],
    evidence: list[dict[str, Any]],
    email: str,
    days: int,
    floaty: bool,
) -> None:
    template = WITH_FLOAT if floaty else PLAIN
    credential = template.build(
        credential_id="https://north.example/credentials/1",
        recipient=Recipient(email=email),
        valid_from=VALID_FROM,
        valid_until=VALID_FROM + timedelta(days=days),
        results=results,
        evidence=evidence,
        credential_status=status_entry("https://north.example/status/1", days, "revocation"),
        awarded_date=VALID_FROM,
    )
    assert template.canonical_bytes(credential) == rfc8785.dumps(credential)


def test_shared_parts_are_checked_once_and_only_when_safe() -> None:
    assert PLAIN.shared_have_fast_form
    assert not WITH_FLOAT.shared_have_fast_form  # a float: every credential takes the exact path


def test_a_credential_whose_shared_parts_were_replaced_is_canonicalised_in_full() -> None:
    credential = PLAIN.build(
        credential_id="https://north.example/credentials/2",
        recipient=Recipient(email="a@example.org"),
        valid_from=VALID_FROM,
    )
    credential["credentialSubject"]["achievement"] = {**PLAIN.achievement, "credits": 1.5}
    assert PLAIN.canonical_bytes(credential) == rfc8785.dumps(credential)
