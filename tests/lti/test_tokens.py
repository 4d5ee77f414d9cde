"""The id_token checks, pure: each refusal names what is wrong; tampering never verifies."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.proofs.jwt import JoseKey
from microcred.lti import tokens
from microcred.lti.errors import LaunchRejected
from tests.lti.platform import b64, jwk_of, sign_jwt, unb64, verify_rs256

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEYS = tokens.KeySet.from_jwks({"keys": [jwk_of(KEY.public_key(), "k1")]})
ISSUER, CLIENT = "https://lms.example", "client-1"
NOW = time.time()


def claims(**changes: Any) -> dict[str, Any]:
    base = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "u1",
        "iat": int(NOW),
        "exp": int(NOW) + 300,
        "nonce": "n",
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


def check(token: str, now: float = NOW) -> dict[str, Any]:
    return tokens.verify(tokens.parse(token), KEYS, issuer=ISSUER, client_id=CLIENT, now=now)


def test_a_good_token_verifies() -> None:
    assert check(sign_jwt(claims(), KEY, "k1"))["sub"] == "u1"
    assert check(sign_jwt(claims(aud=["other", CLIENT], azp=CLIENT), KEY, "k1"))["sub"] == "u1"


@pytest.mark.parametrize(
    ("token", "words"),
    [
        (sign_jwt(claims(aud="someone-else"), KEY, "k1"), "audience"),
        (sign_jwt(claims(aud=["x", CLIENT]), KEY, "k1"), "azp"),
        (sign_jwt(claims(aud=[CLIENT], azp="x"), KEY, "k1"), "azp"),
        (sign_jwt(claims(iss="https://evil.example"), KEY, "k1"), "issuer"),
        (sign_jwt(claims(exp=int(NOW) - 3600), KEY, "k1"), "expired"),
        (sign_jwt(claims(iat=int(NOW) + 3600), KEY, "k1"), "future"),
        (sign_jwt(claims(exp=None), KEY, "k1"), "'exp'"),
        (sign_jwt(claims(sub=None), KEY, "k1"), "subject"),
        (sign_jwt(claims(), KEY, "unknown-kid"), "no RSA key with kid 'unknown-kid'"),
        (sign_jwt(claims(), OTHER, "k1"), "signature does not verify"),
        (sign_jwt(claims(), KEY, "k1", alg="none"), "'none'"),
        ("not-a-jwt", "not a signed JWT"),
    ],
)
def test_bad_tokens_are_refused_naming_the_check(token: str, words: str) -> None:
    with pytest.raises(LaunchRejected) as refused:
        check(token)
    assert words in refused.value.message


def test_the_audience_refusal_says_it_in_words() -> None:
    with pytest.raises(LaunchRejected, match="is not this tool's client id 'client-1'"):
        check(sign_jwt(claims(aud="someone-else"), KEY, "k1"))


def test_an_hmac_token_signed_with_the_public_key_is_refused() -> None:
    header = b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}.{b64(b'x' * 32)}"
    with pytest.raises(LaunchRejected, match="RS256"):
        check(token)


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["sub", "nonce", "aud", "iss", "name"]), st.text(max_size=20), min_size=1
    )
)
def test_a_tampered_payload_never_verifies(changes: dict[str, str]) -> None:
    token = sign_jwt(claims(), KEY, "k1")
    head, body, signature = token.split(".")
    payload = json.loads(unb64(body)) | changes
    forged = f"{head}.{b64(json.dumps(payload).encode())}.{signature}"
    if forged.split(".")[1] == body:
        return
    with pytest.raises(LaunchRejected):
        check(forged)


def test_the_tool_signs_what_a_platform_verifies_with_its_jwks() -> None:
    key = JoseKey.generate("RS256")
    token = tokens.sign({"iss": "c", "aud": "t"}, key, "tool-1")
    jwks = {"keys": [{**key.public_jwk, "kid": "tool-1"}]}
    assert verify_rs256(token, jwks) == {"iss": "c", "aud": "t"}
    assert verify_rs256(token, {"keys": [{**key.public_jwk, "kid": "other"}]}) is None


def test_a_key_set_keeps_rsa_signing_keys_with_a_kid() -> None:
    jwks = {
        "keys": [
            jwk_of(KEY.public_key(), "a"),
            {**jwk_of(KEY.public_key(), "b"), "use": "enc"},
            {"kty": "EC", "kid": "c"},
            {k: v for k, v in jwk_of(KEY.public_key(), "d").items() if k != "kid"},
        ]
    }
    assert set(tokens.KeySet.from_jwks(jwks).keys) == {"a"}
    with pytest.raises(LaunchRejected, match="'keys' list"):
        tokens.KeySet.from_jwks({"nope": []})


def test_the_jwks_cache_keeps_a_set_until_it_expires_or_lacks_the_kid() -> None:
    from microcred.lti.jwks import JwksCache
    from tests.lti.platform import TestPlatform, start

    moment = [0.0]
    cache = JwksCache(ttl=60, clock=lambda: moment[0])
    server = start(TestPlatform())
    lms = next(server)
    try:
        url = f"{lms.url}/jwks"
        assert set(cache.keys(url).keys) == {lms.kid}
        cache.keys(url, kid=lms.kid)
        assert lms.hits["/jwks"] == 1
        cache.keys(url, kid="new-kid")
        assert lms.hits["/jwks"] == 2
        moment[0] = 61
        cache.keys(url, kid=lms.kid)
        assert lms.hits["/jwks"] == 3
    finally:
        server.close()
