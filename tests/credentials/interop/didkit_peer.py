"""The independent side of the interoperability test: SpruceID's DIDKit (Rust ``ssi``).

Run as a child process (DIDKit's runtime can abort at interpreter exit, which must not take the
test session with it). Reads a JSON request on stdin, writes a JSON answer on stdout. It imports
nothing from microcred: it only sees what we produced, and produces its own credentials.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import didkit  # type: ignore[import-not-found]

ASSERTION = {"proofPurpose": "assertionMethod"}


async def _verify(credential: str, options: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        await didkit.verify_credential(credential, json.dumps(options))
    )
    return result


async def _issue(credential: dict[str, Any], options: dict[str, Any], jwk: str) -> str:
    issued: str = await didkit.issue_credential(json.dumps(credential), json.dumps(options), jwk)
    return issued


async def main(request: dict[str, Any]) -> dict[str, Any]:
    jwk, method = request["jwk"], request["verification_method"]
    signing = {**ASSERTION, "verificationMethod": method}
    unsigned = request["unsigned"]
    return {
        "verify_ed25519_2020": await _verify(json.dumps(request["ours_ed25519_2020"]), ASSERTION),
        "verify_jwt": await _verify(request["ours_jwt"], {**ASSERTION, "proofFormat": "jwt"}),
        "issued_ed25519_2020": await _issue(
            {**unsigned, "@context": request["ed25519_2020_contexts"]},
            {**signing, "type": "Ed25519Signature2020"},
            jwk,
        ),
        "issued_eddsa_2022": await _issue(
            {**unsigned, "@context": request["data_integrity_contexts"]},
            {**signing, "type": "DataIntegrityProof", "cryptosuite": "eddsa-2022"},
            jwk,
        ),
        "issued_jwt": await _issue(unsigned, {**signing, "proofFormat": "jwt"}, jwk),
        "did": didkit.key_to_did("key", jwk),
    }


if __name__ == "__main__":
    answer = asyncio.run(main(json.load(sys.stdin)))
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    os._exit(0)
