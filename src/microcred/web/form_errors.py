"""Showing a service error on the form that caused it: which errors are the user's input, and
which input each one names (rendered by templates/_form_errors.html)."""

from __future__ import annotations

from collections.abc import Mapping

from microcred.errors import MicrocredError

FieldErrors = dict[str, list[str]]

BAD_INPUT_STATUSES = frozenset({400, 413, 422})


def is_bad_input(error: MicrocredError) -> bool:
    """Bad input goes back to its form; refusals (401, 403, 404, 409) keep their error page."""
    return error.status_code in BAD_INPUT_STATUSES


def errors_on_inputs(error: MicrocredError, inputs: Mapping[str, str]) -> FieldErrors:
    """The error's message under the id of the input its field names.

    ``inputs`` maps a service field to an input id, or a field prefix ending in "." to an id
    prefix (``{"levels.": "level-"}`` puts ``levels.analysis`` on ``level-analysis``). A field
    the form has no input for goes under "form", shown in the summary only.
    """
    field = error.field or ""
    prefix, dot, rest = field.partition(".")
    if field in inputs:
        key = inputs[field]
    elif dot and rest and f"{prefix}." in inputs:
        key = inputs[f"{prefix}."] + rest
    else:
        key = "form"
    return {key: [error.message]}
