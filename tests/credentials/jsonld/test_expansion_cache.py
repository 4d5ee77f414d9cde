"""Shared subtrees (achievement, issuer, credential schema) are expanded once and reused: the
result must equal pyld's own expansion of every document, whatever came before it."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld

from microcred.credentials.jsonld import expansion
from microcred.credentials.jsonld.expansion import expand
from microcred.credentials.jsonld.loader import document_loader
from microcred.credentials.keys import Ed25519Key
from tests.credentials.factories import achievement, unsigned_credential

KEY = Ed25519Key.generate()


def pyld_expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    """pyld alone: a fresh processor, no caches of ours."""
    result: list[dict[str, Any]] = jsonld.JsonLdProcessor().expand(
        copy.deepcopy(document), {"documentLoader": document_loader}
    )
    return result


def test_credentials_sharing_an_achievement_expand_as_pyld_does() -> None:
    documents = [unsigned_credential(KEY, number=number) for number in range(1, 4)]
    for document in documents:
        assert expand(document) == pyld_expand(document)
    keys = [key for key in expansion._PROCESSOR._subtrees if key[2] == "achievement"]
    assert keys, "the achievement's expansion is remembered"


def test_a_cached_result_changed_by_its_user_does_not_leak_into_the_next() -> None:
    document = unsigned_credential(KEY, number=7)
    first = expand(document)
    subject = first[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    subject.clear()  # what a careless caller (or pyld itself) might do
    first[0].clear()
    assert expand(document) == pyld_expand(document)


def test_the_same_subtree_under_another_context_is_expanded_afresh() -> None:
    shared = achievement()
    ob3 = unsigned_credential(KEY, number=8)
    ob3["credentialSubject"]["achievement"] = shared
    expand(ob3)
    other = {
        "@context": [{"@vocab": "https://example.org/vocab#", "name": "https://schema.org/name"}],
        "type": "Thing",
        "achievement": copy.deepcopy(shared),
    }
    assert expand(other) == pyld_expand(other)
    assert expand(ob3) == pyld_expand(ob3)


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(name=TEXT, description=TEXT, repeats=st.integers(1, 3), number=st.integers(1, 10**9))
def test_random_achievements_expand_as_pyld_does(
    name: str, description: str, repeats: int, number: int
) -> None:
    for offset in range(repeats):
        document = unsigned_credential(KEY, number=number + offset)
        document["credentialSubject"]["achievement"].update(name=name, description=description)
        assert expand(document) == pyld_expand(document)


def test_a_large_subtree_is_expanded_afresh_not_kept() -> None:
    document = unsigned_credential(KEY, number=9)
    document["credentialSubject"]["achievement"]["description"] = "x" * 40_000
    before = len(expansion._PROCESSOR._subtrees)
    assert expand(document) == pyld_expand(document)
    kept = [key for key in expansion._PROCESSOR._subtrees if len(key[-1]) > 32_768]
    assert not kept and len(expansion._PROCESSOR._subtrees) <= before + 2


def test_long_iris_are_expanded_afresh_not_kept() -> None:
    document = unsigned_credential(KEY, number=10)
    long_iri = "https://example.org/evidence/" + "e" * 5_000
    document["evidence"] = [{"id": long_iri, "type": ["Evidence"], "name": "Project"}]
    assert expand(document) == pyld_expand(document)
    assert not any(long_iri in key for key in expansion._PROCESSOR._iris)


def test_documents_with_their_own_inline_context_leave_the_caches_as_they_were() -> None:
    processor = expansion._PROCESSOR
    expand(unsigned_credential(KEY, number=11))  # our own contexts: kept
    sizes = (len(processor._processed), len(processor._iris), len(processor._subtrees))
    for number in range(20):
        document = unsigned_credential(KEY, number=100 + number)
        document["@context"] = [*document["@context"], {f"term{number}": "https://example.org/t"}]
        document[f"term{number}"] = "x" * 1_000
        assert expand(document) == pyld_expand(document)
    assert (len(processor._processed), len(processor._iris), len(processor._subtrees)) == sizes
