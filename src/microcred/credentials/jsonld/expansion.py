"""JSON-LD expansion with processed contexts cached across documents.

pyld resolves and re-processes every (type- and property-scoped) context for each document it
expands; for an Open Badge that is most of the cost of canonicalisation. The contexts we load are
fixed files, so the active context obtained from (active context, local context) never changes:
we remember it. The cache is bounded and keyed by the local context's value (a URL or a list of
URLs) or, for inline context objects, by identity while the object is kept alive in the cache.
Likewise the expansion of a term or compact IRI against a finished active context (pyld freezes
them and gives each a unique id) is remembered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from pyld import jsonld

from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.loader import document_loader, find_credential_error

_MAX_CACHED_CONTEXTS = 4096
_MAX_CACHED_IRIS = 100_000


class _CachingProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self._processed: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._iris: dict[tuple[Any, ...], Any] = {}

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
            self._processed[key] = (local_ctx, result)
            if len(self._processed) > _MAX_CACHED_CONTEXTS:
                self._processed.popitem(last=False)
        return result

    def _expand_iri(  # type: ignore[no-untyped-def]
        self, active_ctx, value, base=None, vocab=False, local_ctx=None, defined=None
    ):
        """IRI expansion against a finished (frozen, uniquely identified) context is pure."""
        context_id = active_ctx.get("_uuid")
        if local_ctx is not None or defined is not None or context_id is None:
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
