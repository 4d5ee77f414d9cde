"""JSON-LD expansion with processed contexts cached across documents.

pyld resolves and re-processes every (type- and property-scoped) context for each document it
expands; for an Open Badge that is most of the cost of canonicalisation. The contexts we load are
fixed files, so the active context obtained from (active context, local context) never changes:
we remember it. The cache is bounded and keyed by the local context's value (a URL or a list of
URLs) or, for inline context objects, by identity while the object is kept alive in the cache.
Likewise the expansion of a term or compact IRI against a finished active context (pyld freezes
them and gives each a unique id) is remembered.

Credentials built from one definition repeat whole subtrees: the achievement (most of an Open
Badge), the issuer profile, the credential schema, the image. Expansion is a pure function of the
element, the active property, the (frozen) active and type-scoped contexts and the options, so
the expanded form of those subtrees is remembered too, keyed by exactly these and the element's
JSON text, and handed out as a fresh copy each time (pyld may change what it is given).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import orjson
from pyld import jsonld

from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.loader import document_loader, find_credential_error

_MAX_CACHED_CONTEXTS = 4096
_MAX_CACHED_IRIS = 100_000
_MAX_CACHED_IRI_LENGTH = 512
"""Longer terms and IRIs are expanded afresh: posted documents must not fill memory."""
_MAX_CACHED_SUBTREES = 256
_MAX_SUBTREE_BYTES = 32_768
"""Larger subtrees are expanded afresh each time: what anyone may post for verification must not
fill memory (at most ~256 x 32 KiB of keys and their expanded forms are kept)."""
_REPEATED_SUBTREES = frozenset({"achievement", "issuer", "credentialSchema", "image"})
"""Properties whose values credentials of one definition share, byte for byte."""


class _CachingProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self._processed: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._iris: dict[tuple[Any, ...], Any] = {}
        self._subtrees: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._trusted: set[str] = set()
        """Ids of active contexts built only from shipped contexts (and the scoped contexts they
        define): the only ones whose results are kept. A document's own inline context makes a
        new active context on every call; keeping those would let posted documents fill memory."""
        self._scoped: dict[int, Any] = {}
        """The scoped contexts (a term's ``@context``) of trusted active contexts, by identity."""

    def _get_initial_context(self, options):  # type: ignore[no-untyped-def]
        initial = super()._get_initial_context(options)
        self._trusted.add(initial["_uuid"])
        return initial

    def _trust(self, local_ctx: Any, local_key: Any, result: Any) -> bool:
        """Record ``result`` as trusted if its local context is shipped: a URL (list), or a scoped
        context a trusted active context defines. Under the lock."""
        if isinstance(local_key, int) and self._scoped.get(local_key) is not local_ctx:
            return False
        if len(self._trusted) > _MAX_CACHED_CONTEXTS * 4:  # recomputed after evictions: reset
            self._trusted.clear()
            self._scoped.clear()
            self._processed.clear()
            self._iris.clear()
            self._subtrees.clear()
            return False
        result_id = result.get("_uuid") if isinstance(result, dict) else None
        if result_id is None:
            return False
        self._trusted.add(result_id)
        for definition in result.get("mappings", {}).values():
            scoped = definition.get("@context") if isinstance(definition, dict) else None
            if isinstance(scoped, (dict, list)):
                self._scoped[id(scoped)] = scoped
        return True

    def _expand(  # type: ignore[no-untyped-def]
        self,
        active_ctx,
        active_property,
        element,
        options,
        inside_list=False,
        inside_index=False,
        type_scoped_ctx=None,
    ):
        """A shared subtree's expansion is computed once (see the module docstring)."""
        key = None
        if active_property in _REPEATED_SUBTREES and isinstance(element, dict):
            key = self._subtree_key(
                active_ctx, active_property, element, options, inside_list, inside_index,
                type_scoped_ctx,
            )  # fmt: skip
        if key is not None:
            with self._lock:
                hit = self._subtrees.get(key)
                if hit is not None:
                    self._subtrees.move_to_end(key)
            if hit is not None:
                return orjson.loads(hit)
        result = super()._expand(
            active_ctx, active_property, element, options, inside_list, inside_index,
            type_scoped_ctx,
        )  # fmt: skip
        if key is not None:
            try:
                frozen = orjson.dumps(result)
            except (TypeError, orjson.JSONEncodeError):
                return result
            with self._lock:
                self._subtrees[key] = frozen
                if len(self._subtrees) > _MAX_CACHED_SUBTREES:
                    self._subtrees.popitem(last=False)
        return result

    def _subtree_key(  # type: ignore[no-untyped-def]
        self, active_ctx, active_property, element, options, inside_list, inside_index,
        type_scoped_ctx,
    ) -> tuple[Any, ...] | None:  # fmt: skip
        """What the expansion of ``element`` depends on, or None where a part is not pinned down
        (a context not trusted, a value orjson cannot write exactly, a subtree too large)."""
        context_id = active_ctx.get("_uuid")
        scoped_id = None if type_scoped_ctx is None else type_scoped_ctx.get("_uuid")
        if context_id not in self._trusted or (
            type_scoped_ctx is not None and scoped_id not in self._trusted
        ):
            return None
        settings = tuple(sorted((name, repr(value)) for name, value in options.items()
                                if name not in ("documentLoader", "contextResolver")))  # fmt: skip
        try:
            text = orjson.dumps(element)
        except (TypeError, orjson.JSONEncodeError):
            return None
        if len(text) > _MAX_SUBTREE_BYTES:
            return None
        return (context_id, scoped_id, active_property, inside_list, inside_index, settings, text)

    def _process_context(  # type: ignore[no-untyped-def]
        self,
        active_ctx,
        local_ctx,
        options,
        override_protected=False,
        propagate=True,
        validate_scoped=True,
        cycles=None,
    ):
        if isinstance(local_ctx, str):
            local_key: Any = local_ctx
        elif isinstance(local_ctx, list) and all(isinstance(item, str) for item in local_ctx):
            local_key = tuple(local_ctx)
        else:
            local_key = id(local_ctx)
        context_id = active_ctx.get("_uuid")
        if context_id is None:
            return super()._process_context(
                active_ctx,
                local_ctx,
                options,
                override_protected,
                propagate,
                validate_scoped,
                cycles,
            )
        key = (context_id, local_key, override_protected, propagate, validate_scoped)
        with self._lock:
            hit = self._processed.get(key)
        if hit is not None:
            return hit[1]
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        with self._lock:
            if context_id in self._trusted and self._trust(local_ctx, local_key, result):
                self._processed[key] = (local_ctx, result)
                if len(self._processed) > _MAX_CACHED_CONTEXTS:
                    self._processed.popitem(last=False)
        return result

    def _expand_iri(  # type: ignore[no-untyped-def]
        self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None
    ):
        """IRI expansion against a finished (frozen, uniquely identified) context is pure."""
        context_id = active_ctx.get("_uuid")
        if (
            local_ctx is not None
            or defined is not None
            or context_id not in self._trusted
            or not isinstance(value, str)
            or len(value) > _MAX_CACHED_IRI_LENGTH
        ):
            return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)
        key = (context_id, value, base, vocab)
        known = self._iris.get(key)
        if known is None:
            known = super()._expand_iri(active_ctx, value, base, vocab)
            if len(self._iris) >= _MAX_CACHED_IRIS:
                self._iris.clear()
            self._iris[key] = known
        return known


_PROCESSOR = _CachingProcessor()
_OPTIONS = {"documentLoader": document_loader}


def expand(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Expanded form of ``document``; :class:`CredentialError` if it is not valid JSON-LD."""
    try:
        expanded: list[dict[str, Any]] = _PROCESSOR.expand(document, dict(_OPTIONS))
    except jsonld.JsonLdError as error:
        cause = find_credential_error(error)
        if cause is not None:
            raise cause from error
        raise CredentialError(f"Invalid JSON-LD: {error}", field="@context") from error
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as error:
        raise CredentialError(f"Invalid JSON-LD: {error}") from error
    return expanded
