"""RDF Dataset Canonicalization (RDFC-1.0, formerly URDNA2015) with a fast path for credentials.

JSON-LD goes to RDF through :mod:`microcred.credentials.jsonld` (cached contexts), then the full
RDFC-1.0 algorithm runs over quads whose terms are already N-Quads text. Credentials have few
blank nodes, so first-degree hashes usually settle every label; the N-degree step is implemented
in full for the rest, with a work limit so a hostile "poison" graph fails instead of hanging.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from itertools import permutations
from typing import Any

from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.expansion import expand
from microcred.credentials.jsonld.rdf import Quad, to_quads

MAX_N_DEGREE_STEPS = 20_000
"""Hash N-Degree Quads calls allowed for one dataset; beyond it the input is rejected."""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def serialize_quad(quad: Quad) -> str:
    subject, predicate, obj, graph = quad
    if graph:
        return f"{subject} {predicate} {obj} {graph} .\n"
    return f"{subject} {predicate} {obj} .\n"


class _IdentifierIssuer:
    __slots__ = ("issued", "prefix")

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = dict(issued) if issued else {}

    def issue(self, blank: str) -> str:
        known = self.issued.get(blank)
        if known is None:
            known = self.issued[blank] = f"{self.prefix}{len(self.issued)}"
        return known

    def copy(self) -> _IdentifierIssuer:
        return _IdentifierIssuer(self.prefix, self.issued)


class _Canonicalizer:
    def __init__(self, quads: Iterable[Quad]) -> None:
        self.quads = list(dict.fromkeys(quads))
        self.blank_quads: dict[str, list[Quad]] = {}
        for quad in self.quads:
            subject, _, obj, graph = quad
            for term in (subject, obj, graph):
                if term.startswith("_:"):
                    mentions = self.blank_quads.setdefault(term, [])
                    if not mentions or mentions[-1] is not quad:
                        mentions.append(quad)
        self.canonical = _IdentifierIssuer("_:c14n")
        self.first_degree: dict[str, str] = {}
        self.steps = 0

    def hash_first_degree(self, blank: str) -> str:
        known = self.first_degree.get(blank)
        if known is not None:
            return known
        lines = []
        for quad in self.blank_quads[blank]:
            lines.append(
                serialize_quad(
                    tuple(  # type: ignore[arg-type]
                        ("_:a" if term == blank else "_:z") if term.startswith("_:") else term
                        for term in quad
                    )
                )
            )
        lines.sort()
        digest = self.first_degree[blank] = _sha256("".join(lines))
        return digest

    def hash_related(
        self, related: str, quad: Quad, issuer: _IdentifierIssuer, position: str
    ) -> str:
        identifier = self.canonical.issued.get(related) or issuer.issued.get(related)
        if identifier is None:
            identifier = self.hash_first_degree(related)
        predicate = "" if position == "g" else quad[1]
        return _sha256(position + predicate + identifier)

    def hash_n_degree(
        self, identifier: str, issuer: _IdentifierIssuer
    ) -> tuple[str, _IdentifierIssuer]:
        self.steps += 1
        if self.steps > MAX_N_DEGREE_STEPS:
            raise CredentialError(
                "The document's blank nodes are too interlinked to canonicalise (RDFC-1.0 work "
                "limit reached)"
            )
        related_by_hash: dict[str, list[str]] = {}
        for quad in self.blank_quads[identifier]:
            subject, _, obj, graph = quad
            for position, term in (("s", subject), ("o", obj), ("g", graph)):
                if term.startswith("_:") and term != identifier:
                    digest = self.hash_related(term, quad, issuer, position)
                    related_by_hash.setdefault(digest, []).append(term)
        data_to_hash = []
        for related_hash in sorted(related_by_hash):
            data_to_hash.append(related_hash)
            chosen_path = ""
            chosen_issuer: _IdentifierIssuer | None = None
            for permutation in permutations(related_by_hash[related_hash]):
                issuer_copy = issuer.copy()
                path = ""
                recursion: list[str] = []
                skip = False
                for related in permutation:
                    canonical = self.canonical.issued.get(related)
                    if canonical is not None:
                        path += canonical
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += issuer_copy.issue(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, result_issuer = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy.issue(related) + f"<{result_hash}>"
                    issuer_copy = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data_to_hash.append(chosen_path)
            if chosen_issuer is not None:
                issuer = chosen_issuer
        return _sha256("".join(data_to_hash)), issuer

    def run(self) -> list[str]:
        by_hash: dict[str, list[str]] = {}
        for blank in self.blank_quads:
            by_hash.setdefault(self.hash_first_degree(blank), []).append(blank)
        shared: list[list[str]] = []
        for digest in sorted(by_hash):
            blanks = by_hash[digest]
            if len(blanks) == 1:
                self.canonical.issue(blanks[0])
            else:
                shared.append(blanks)
        for blanks in shared:
            results = []
            for blank in blanks:
                if blank in self.canonical.issued:
                    continue
                temporary = _IdentifierIssuer("_:b")
                temporary.issue(blank)
                results.append(self.hash_n_degree(blank, temporary))
            results.sort(key=lambda result: result[0])
            for _, issuer in results:
                for blank in issuer.issued:
                    self.canonical.issue(blank)
        relabel = self.canonical.issued
        lines = [
            serialize_quad(
                tuple(relabel.get(term, term) for term in quad)  # type: ignore[arg-type]
            )
            for quad in self.quads
        ]
        lines.sort()
        return lines


def canonicalize_quads(quads: Iterable[Quad]) -> str:
    """Canonical N-Quads (sorted lines, ``_:c14nN`` labels) of an RDF dataset."""
    return "".join(_Canonicalizer(quads).run())


def canonicalize(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of a JSON-LD document, contexts loaded locally."""
    return canonicalize_quads(to_quads(expand(document)))
