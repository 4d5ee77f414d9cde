"""The independent side of the presentation interoperability test: SpruceID's DIDKit.

Run as a child process, like ``tests/credentials/interop/didkit_peer.py``: reads a JSON request on
stdin, writes a JSON answer on stdout, and imports nothing from microcred.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import didkit  # type: ignore[import-not-found]


async def main(request: dict[str, Any]) -> dict[str, Any]:
    options = {"proofPurpose": "authentication", **request["expected"]}
    verified = await didkit.verify_presentation(json.dumps(request["ours"]), json.dumps(options))
    jwk = request["jwk"]
    did = didkit.key_to_did("key", jwk)
    method = f"{did}#{did.removeprefix('did:key:')}"
    issued = {}
    for name, proof in request["proofs"].items():
        signing = {**options, **proof, "verificationMethod": method}
        unsigned = {**request["unsigned"], "holder": did}
        issued[name] = json.loads(
            await didkit.issue_presentation(json.dumps(unsigned), json.dumps(signing), jwk)
        )
    return {"verified": json.loads(verified), "issued": issued}


if __name__ == "__main__":
    answer = asyncio.run(main(json.load(sys.stdin)))
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    os._exit(0)
