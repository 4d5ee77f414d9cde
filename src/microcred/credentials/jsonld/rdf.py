"""Expanded JSON-LD to an RDF dataset, terms kept as their N-Quads text.

Keeping each term as the string it will be written as (``<iri>``, ``_:b0``, ``"lit"^^<dt>``)
makes canonicalisation a matter of string work. Follows the JSON-LD 1.1 "Deserialize JSON-LD to
RDF" algorithm as pyld implements it (relative IRIs dropped, ``@direction`` ignored).
"""

from __future__ import annotations

import re
from typing import Any

from microcred.credentials.proofs.jcs import canonicalize as jcs_canonicalize

Quad = tuple[str, str, str, str]
"""(subject, predicate, object, graph) in N-Quads syntax; graph is "" for the default graph."""

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = f"<{RDF}type>"
RDF_FIRST = f"<{RDF}first>"
RDF_REST = f"<{RDF}rest>"
RDF_NIL = f"<{RDF}nil>"
XSD_STRING = f"{XSD}string"
XSD_DOUBLE = f"{XSD}double"
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:")
_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def escape_literal(value: str) -> str:
    """Canonical N-Quads string escaping (RDFC-1.0 / RDF 1.2 canonical N-Triples)."""
    if not _NEEDS_ESCAPE.search(value):
        return value
    return _NEEDS_ESCAPE.sub(
        lambda match: _ESCAPES.get(match.group(), f"\\u{ord(match.group()):04X}"), value
    )


def canonical_double(value: float) -> str:
    mantissa, exponent = f"{value:1.15E}".split("E")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"


class _Converter:
    def __init__(self) -> None:
        self.quads: dict[Quad, None] = {}
        self._labels: dict[str, str] = {}
        self._counter = 0

    def fresh(self) -> str:
        label = f"_:b{self._counter}"
        self._counter += 1
        return label

    def blank(self, label: str) -> str:
        known = self._labels.get(label)
        if known is None:
            known = self._labels[label] = self.fresh()
        return known

    def iri_or_blank(self, value: str) -> str | None:
        if value.startswith("_:"):
            return self.blank(value)
        if _ABSOLUTE_IRI.match(value):
            return f"<{value}>"
        return None

    def node(self, node: dict[str, Any], graph: str) -> str | None:
        """Emit the node's quads into ``graph``; return its subject term (None if relative)."""
        node_id = node.get("@id")
        subject = self.fresh() if node_id is None else self.iri_or_blank(node_id)
        for key, values in node.items():
            if key == "@type":
                for type_iri in values:
                    term = self.iri_or_blank(type_iri)
                    if subject is not None and term is not None:
                        self.quads[(subject, RDF_TYPE, term, graph)] = None
            elif key == "@graph":
                name = subject if subject is not None else self.fresh()
                for member in values:
                    if isinstance(member, dict) and "@value" not in member:
                        self.node(member, name)
            elif key == "@included":
                for member in values:
                    self.node(member, graph)
            elif key == "@reverse":
                for predicate, reverse_values in values.items():
                    predicate_term = self.iri_or_blank(predicate)
                    for member in reverse_values:
                        other = self.node(member, graph)
                        if subject and other and predicate_term and not predicate.startswith("_:"):
                            self.quads[(other, predicate_term, subject, graph)] = None
            elif key.startswith("@") or key.startswith("_:"):
                continue
            else:
                predicate_term = f"<{key}>" if _ABSOLUTE_IRI.match(key) else None
                for item in values:
                    term = self.object(item, graph)
                    if subject is not None and predicate_term is not None and term is not None:
                        self.quads[(subject, predicate_term, term, graph)] = None
        return subject

    def object(self, item: Any, graph: str) -> str | None:
        if "@value" in item:
            return self.literal(item)
        if "@list" in item:
            return self.rdf_list(item["@list"], graph)
        if len(item) == 1 and "@id" in item:
            return self.iri_or_blank(item["@id"])
        return self.node(item, graph)

    def rdf_list(self, items: list[Any], graph: str) -> str:
        if not items:
            return RDF_NIL
        head = self.fresh()
        subject = head
        for position, item in enumerate(items):
            term = self.object(item, graph)
            if term is not None:
                self.quads[(subject, RDF_FIRST, term, graph)] = None
            rest = self.fresh() if position < len(items) - 1 else RDF_NIL
            self.quads[(subject, RDF_REST, rest, graph)] = None
            subject = rest
        return head

    def literal(self, item: dict[str, Any]) -> str | None:
        value = item["@value"]
        datatype = item.get("@type")
        if datatype == "@json":
            text, datatype = jcs_canonicalize(value).decode(), f"{RDF}JSON"
        elif isinstance(value, bool):
            text, datatype = ("true" if value else "false"), datatype or f"{XSD}boolean"
        elif isinstance(value, float) and not value.is_integer():
            text, datatype = canonical_double(value), datatype or XSD_DOUBLE
        elif datatype == XSD_DOUBLE and isinstance(value, int | float):
            text = canonical_double(float(value))
        elif isinstance(value, int | float) and abs(value) >= 1e21:
            text, datatype = canonical_double(float(value)), datatype or XSD_DOUBLE
        elif isinstance(value, int | float):
            text, datatype = str(int(value)), datatype or f"{XSD}integer"
        elif "@language" in item:
            return f'"{escape_literal(value)}"@{item["@language"]}'
        else:
            text, datatype = value, datatype or XSD_STRING
        if datatype == XSD_STRING:
            return f'"{escape_literal(text)}"'
        if not _ABSOLUTE_IRI.match(datatype):
            return None
        return f'"{escape_literal(text)}"^^<{datatype}>'


def to_quads(expanded: list[dict[str, Any]]) -> list[Quad]:
    """The RDF dataset of an expanded JSON-LD document, duplicates removed."""
    converter = _Converter()
    for node in expanded:
        if isinstance(node, dict) and "@value" not in node and "@list" not in node:
            converter.node(node, "")
    return list(converter.quads)
