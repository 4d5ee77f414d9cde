"""Standard Webhooks signatures: the spec's formula, checked independently, and a property."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microcred.webhooks import signing

SECRET = signing.new_secret()


def spec_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The spec's formula written out: v1, base64(HMAC-SHA256(base64-decoded secret,
    "{msg_id}.{timestamp}.{payload}"))."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def test_a_new_secret_is_whsec_and_base64_of_32_random_bytes() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"), validate=True)) == 32


def test_the_reference_libraries_vector_verifies() -> None:
    """The vector of the standard-webhooks reference libraries' tests."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def test_headers_carry_id_timestamp_and_signature() -> None:
    headers = signing.headers(SECRET, "msg_1", 1700000000, b"{}")
    assert headers == {
        "webhook-id": "msg_1",
        "webhook-timestamp": "1700000000",
        "webhook-signature": spec_signature(SECRET, "msg_1", 1700000000, b"{}"),
    }


def test_a_short_or_malformed_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        signing.secret_key("whsec_" + base64.b64encode(b"x" * 23).decode())
    with pytest.raises(ValueError):
        signing.secret_key("whsec_not base64!")


def test_verify_accepts_any_of_several_signatures() -> None:
    old = signing.new_secret()
    header = " ".join(
        [signing.signature(old, "msg_1", 1, b"x"), signing.signature(SECRET, "msg_1", 1, b"x")]
    )
    assert signing.verify(SECRET, "msg_1", 1, b"x", header)
    assert not signing.verify(signing.new_secret(), "msg_1", 1, b"x", header)


ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=40)


@given(body=st.binary(max_size=2000), msg_id=ids, timestamp=st.integers(0, 2**40))
def test_any_message_verifies_and_matches_the_spec_formula(
    body: bytes, msg_id: str, timestamp: int
) -> None:
    header = signing.signature(SECRET, msg_id, timestamp, body)
    assert header == spec_signature(SECRET, msg_id, timestamp, body)
    assert signing.verify(SECRET, msg_id, timestamp, body, header)


@given(
    body=st.binary(min_size=1, max_size=500),
    msg_id=ids,
    timestamp=st.integers(0, 2**40),
    position=st.integers(min_value=0),
    flip=st.integers(1, 255),
)
def test_any_changed_byte_fails(
    body: bytes, msg_id: str, timestamp: int, position: int, flip: int
) -> None:
    header = signing.signature(SECRET, msg_id, timestamp, body)
    changed = bytearray(body)
    changed[position % len(body)] ^= flip
    assert not signing.verify(SECRET, msg_id, timestamp, bytes(changed), header)
    assert not signing.verify(SECRET, msg_id + "x", timestamp, body, header)
    assert not signing.verify(SECRET, msg_id, timestamp + 1, body, header)
