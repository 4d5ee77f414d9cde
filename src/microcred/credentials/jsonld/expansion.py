"""JSON-LD expansion with processed contexts cached across documents.

pyld resolves and re-processes every (type- and property-scoped) context for each document it
expands; for an Open Badge that is most of the cost of canonicalisation. The contexts we load are
fixed files, so the active context obtained from (active context, local context) never changes:
we remember it. The cache is bounded and keyed by the local context's value (a URL or a list of
URLs) or, for inline context objects, by identity while the object is kept alive in the cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from pyld import jsonld

from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.loader import document_loader, find_credential_error

_MAX_CACHED_CONTEXTS = 4096


class _CachingProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self._processed: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

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
        key = (active_ctx.get("_uuid"), local_key, override_protected, propagate, validate_scoped)
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
