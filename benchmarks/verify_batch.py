"""Batch verification against single verification, and the single paths themselves.

Run: ``.venv/bin/python benchmarks/verify_batch.py [--count 300] [--single-only]``. Issues
``count`` eddsa-jcs-2022 credentials into a fresh SQLite file, then prints, per CPU second of
this process (the best of three passes):

* ``resolvers.verify`` per credential (the service the page, the API and the CLI call);
* ``POST /api/v1/verify`` per credential through the app (ASGI, in process), which crosses the
  request body limit the batch changed;
* with the batch module present (not ``--single-only``): ``batch.verify_batch`` over the same
  credentials as one batch of files, and its ratio to the single service.

``--single-only`` runs on a checkout without batch verification, to compare the single paths.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from microcred.credentials import service
from microcred.credentials.resolvers import verify

sys.path.insert(0, str(Path(__file__).parent))
from issuance import Rate, Stopwatch, issue_batched, setup


def best(run: Callable[[], int], rounds: int = 3) -> Rate:
    passes = []
    for _ in range(rounds):
        watch = Stopwatch()
        passes.append(watch.rate(run()))
    return max(passes, key=lambda item: item.cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--single-only", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sessions, settings, definition_id = setup(Path(folder))
        _, ids = issue_batched(sessions, settings, definition_id, "eddsa-jcs-2022", options.count)
        with sessions() as session:
            texts = [service.credential_text(service.get_credential(session, i)) for i in ids]

        def single() -> int:
            with sessions() as session:
                for text in texts:
                    assert verify(session, text, settings, allow_remote=False).valid
            return len(texts)

        from microcred.web.app import create_app

        app = create_app(settings)
        with TestClient(app) as client:

            def api() -> int:
                for text in texts:
                    answer = client.post("/api/v1/verify", content=text.encode())
                    assert json.loads(answer.content)["valid"]
                return len(texts)

            single_rate, api_rate = best(single), best(api)
        print(f"resolvers.verify: {single_rate.cpu:,.0f} / CPU s ({single_rate.wall:,.0f} / s)")
        print(f"POST /api/v1/verify: {api_rate.cpu:,.0f} / CPU s ({api_rate.wall:,.0f} / s)")
        if options.single_only or importlib.util.find_spec("microcred.credentials.batch") is None:
            return
        from microcred.credentials import batch

        def batched() -> int:
            inputs = batch.BatchInput(max_items=len(texts))
            for number, text in enumerate(texts):
                inputs.add_file(f"{number}.json", text.encode())
            with sessions() as session:
                result = batch.verify_batch(session, inputs.items, settings, allow_remote=False)
            assert result.totals["valid"] == len(texts), result.totals
            return len(texts)

        batch_rate = best(batched)
        ratio = batch_rate.cpu / single_rate.cpu
        print(
            f"verify_batch ({len(texts)} items): {batch_rate.cpu:,.0f} / CPU s "
            f"({batch_rate.wall:,.0f} / s), {ratio:.2f} of resolvers.verify"
        )


if __name__ == "__main__":
    main()
