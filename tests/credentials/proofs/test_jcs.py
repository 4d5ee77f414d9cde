from __future__ import annotations

import json
import math
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.credentials.errors import CredentialError
from microcred.credentials.proofs.jcs import canonicalize, serialize_number

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_matches_the_rfc8785_reference_implementation(value: Any) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip_to_the_same_double(number: float) -> None:
    text = serialize_number(number)
    assert float(text) == number or (number == 0 and text == "0")


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (5e-324, "5e-324"),
        (-1.7976931348623157e308, "-1.7976931348623157e+308"),
        (333333333.3333333, "333333333.3333333"),
        (2**60, "1152921504606847000"),
    ],
)
def test_numbers_follow_ecmascript_formatting(number: float, expected: str) -> None:
    assert serialize_number(number) == expected


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    value = {"\U0001f600": 1, "\ufb33": 2, "a": 3}
    assert canonicalize(value) == '{"a":3,"\U0001f600":1,"\ufb33":2}'.encode()


def test_rfc8785_sample_object() -> None:
    value = json.loads(
        '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],'
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        '"literals":[null,true,false]}'
    )
    assert (
        canonicalize(value)
        == (
            '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
            '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        ).encode()
    )


@pytest.mark.parametrize("bad", [math.nan, math.inf, "\ud800", {1: "x"}, object()])
def test_values_without_a_canonical_form_are_rejected(bad: Any) -> None:
    with pytest.raises(CredentialError):
        canonicalize(bad if not isinstance(bad, float | str) else [bad])


# Objects take the orjson fast path; what it cannot write as JCS must fall back, never leak.
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=6)
tricky_text = st.sampled_from(
    ['a"b', "back\\slash", "e.E", "null", "true", "x\u2028y", "\U0001f600", "\ufb33", "é", "1e5"]
)


@settings(max_examples=500, deadline=None)
@given(json_objects)
def test_objects_match_the_reference_implementation(value: dict[str, Any]) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        tricky_text | st.text(max_size=4),
        tricky_text
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.integers(-(2**53) + 1, 2**53 - 1)
        | st.booleans()
        | st.none(),
        max_size=6,
    )
)
def test_objects_with_quotes_numbers_and_literals_match(value: dict[str, Any]) -> None:
    assert canonicalize(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "bad",
    [{"a": math.nan}, {"a": [1, math.inf]}, {"a": {"b": -math.inf}}, {"a": 2**60}, {"a": object()}],
)
def test_objects_without_a_canonical_form_are_rejected(bad: dict[str, Any]) -> None:
    if bad["a"] == 2**60:
        assert canonicalize(bad) == b'{"a":1152921504606847000}'  # as an IEEE double, like JS
        return
    with pytest.raises(CredentialError):
        canonicalize(bad)


def test_an_object_holding_a_datetime_is_refused_not_silently_formatted() -> None:
    from datetime import UTC, datetime

    with pytest.raises(CredentialError):
        canonicalize({"when": datetime(2026, 1, 1, tzinfo=UTC)})
