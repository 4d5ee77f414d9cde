"""Turn loose input (API JSON, form fields, CSV cells) into a checked :class:`DefinitionData`.

Pure: no database. Every problem is collected (not just the first) and named by field, so a form
can mark each input and an import can list each bad cell. Skill URIs are only checked for shape
here; the service checks that they exist in the taxonomy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from microcred.catalogue.errors import FieldProblem, InvalidFields
from microcred.catalogue.vocabularies import (
    ACHIEVEMENT_TYPES,
    ASSESSMENT_TYPES,
    EQF_LEVELS,
    ISO_4217,
    PARTICIPATION_FORMS,
    is_achievement_type,
    is_language_tag,
)

URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
HUMAN_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,59}$")
TRUE_WORDS = {"true", "yes", "y", "1", "on"}
FALSE_WORDS = {"false", "no", "n", "0", "off", ""}
MAX_DURATION_WEEKS = 520.0
MAX_WORKLOAD_HOURS = 20_000.0
MAX_ECTS = 600.0
MAX_LIST_ITEMS = 100

T = TypeVar("T")


@dataclass
class RubricLevel:
    """One OB 3.0 ``RubricCriterionLevel``: a named performance level of the result."""

    name: str
    description: str = ""
    points: str | None = None


@dataclass
class DefinitionData:
    """A complete, valid definition as plain data; what the service stores."""

    name: str
    description: str
    criteria_narrative: str
    learning_outcomes: list[str]
    workload_hours: float
    eqf_level: int | None = None
    ects_credits: float | None = None
    achievement_type: str = "MicroCredential"
    criteria_url: str | None = None
    image_url: str | None = None
    tags: list[str] = field(default_factory=list)
    field_of_study: str | None = None
    human_code: str | None = None
    in_language: str = "en"
    credits_available: float | None = None
    version_label: str | None = None
    result_name: str | None = None
    rubric_levels: list[RubricLevel] = field(default_factory=list)
    required_level: str | None = None
    skills: list[str] = field(default_factory=list)
    assessment_types: list[str] = field(default_factory=list)
    assessment_description: str | None = None
    participation_form: str = "online"
    location: str | None = None
    quality_assurance: str | None = None
    quality_assurance_url: str | None = None
    prerequisites: str | None = None
    prerequisite_definition_ids: list[str] = field(default_factory=list)
    price_amount: float = 0.0
    price_currency: str | None = None
    duration_weeks: float | None = None
    identity_checked: bool = False
    stackable: bool = False
    stackable_notes: str | None = None

    def as_input(self) -> dict[str, Any]:
        """The data as input again, e.g. to merge a partial update over it."""
        return asdict(self)


#: Every field an input may carry; anything else is refused (catches typos in imports).
FIELDS = tuple(DefinitionData.__dataclass_fields__)
REQUIRED = ("name", "description", "criteria_narrative", "learning_outcomes", "workload_hours")
LIST_FIELDS = (
    "tags", "learning_outcomes", "skills", "assessment_types", "prerequisite_definition_ids",
    "rubric_levels",
)  # fmt: skip


def split_list(value: str) -> list[str]:
    """A list typed into one cell or text area: one item per line, or ``;``-separated."""
    separator = "\n" if "\n" in value else ";"
    return [item.strip() for item in value.split(separator) if item.strip()]


class _Reader:
    """Reads fields from raw input, recording a problem per bad field instead of stopping."""

    def __init__(self, raw: Mapping[str, Any]):
        self.raw = raw
        self.problems: list[FieldProblem] = []

    def fail(self, name: str, message: str) -> None:
        self.problems.append(FieldProblem(name, message))

    def has_failed(self, name: str) -> bool:
        return any(problem.field == name for problem in self.problems)

    def _present(self, name: str) -> Any:
        value = self.raw.get(name)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def text(self, name: str, max_length: int, *, required: bool = False) -> str | None:
        value = self._present(name)
        if value is None:
            if required:
                self.fail(name, "is required.")
            return None
        if not isinstance(value, str):
            self.fail(name, "must be text.")
            return None
        if len(value) > max_length:
            self.fail(name, f"must be at most {max_length} characters (got {len(value)}).")
            return None
        return value

    def url(self, name: str) -> str | None:
        value = self.text(name, 500)
        if value is not None and not URL_RE.match(value):
            self.fail(name, f"'{value}' is not an http(s) URL.")
            return None
        return value

    def number(
        self, name: str, *, minimum: float = 0.0, maximum: float, required: bool = False
    ) -> float | None:
        value = self._present(name)
        if value is None:
            if required:
                self.fail(name, "is required.")
            return None
        if isinstance(value, bool):
            self.fail(name, "must be a number.")
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(name, f"must be a number (got '{value}').")
            return None
        if not math.isfinite(number):
            self.fail(name, "must be a finite number.")
            return None
        if number < minimum:
            self.fail(
                name,
                f"must not be negative (got {value})."
                if minimum == 0
                else f"must be at least {minimum:g} (got {value}).",
            )
            return None
        if number > maximum:
            self.fail(name, f"must be at most {maximum:g} (got {value}).")
            return None
        return number

    def integer_in(self, name: str, allowed: range, label: str) -> int | None:
        value = self._present(name)
        if value is None:
            return None
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            self.fail(name, f"must be {label}.")
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(name, f"must be {label} (got '{value}').")
            return None
        if number not in allowed:
            self.fail(name, f"must be {label} (got {number}).")
            return None
        return number

    def boolean(self, name: str) -> bool:
        value = self._present(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        if isinstance(value, str) and value.lower() in TRUE_WORDS | FALSE_WORDS:
            return value.lower() in TRUE_WORDS
        self.fail(name, f"must be true or false (got '{value}').")
        return False

    def items(self, name: str, *, required: bool = False) -> list[Any]:
        value = self.raw.get(name)
        if isinstance(value, str):
            value = split_list(value)
        if value is None:
            value = []
        if not isinstance(value, list):
            self.fail(name, "must be a list.")
            return []
        if required and not value:
            self.fail(name, "needs at least one entry.")
        if len(value) > MAX_LIST_ITEMS:
            self.fail(name, f"may have at most {MAX_LIST_ITEMS} entries.")
            return []
        return value

    def text_items(
        self,
        name: str,
        max_length: int,
        *,
        required: bool = False,
        check: Callable[[str], str | None] | None = None,
    ) -> list[str]:
        """Each item stripped and checked; ``check`` returns a message for a bad item."""
        result: list[str] = []
        for index, item in enumerate(self.items(name, required=required)):
            where = f"{name}[{index}]"
            if not isinstance(item, str):
                self.fail(where, "must be text.")
                continue
            item = item.strip()
            if not item:
                self.fail(where, "is empty.")
            elif len(item) > max_length:
                self.fail(where, f"must be at most {max_length} characters.")
            elif check is not None and (message := check(item)) is not None:
                self.fail(where, message)
            elif item not in result:
                result.append(item)
        return result


def _check_skill_uri(value: str) -> str | None:
    return None if URL_RE.match(value) else f"'{value}' is not a skill URI (an http(s) URL)."


def _check_assessment(value: str) -> str | None:
    if value in ASSESSMENT_TYPES:
        return None
    return f"'{value}' is not an assessment type; use one of {', '.join(ASSESSMENT_TYPES)}."


def _rubric_levels(reader: _Reader) -> list[RubricLevel]:
    levels: list[RubricLevel] = []
    for index, item in enumerate(reader.items("rubric_levels")):
        where = f"rubric_levels[{index}]"
        if isinstance(item, str):
            name, _, description = item.partition(":")
            item = {"name": name, "description": description}
        if not isinstance(item, Mapping):
            reader.fail(where, "must be an object with a name, or 'Name: description' text.")
            continue
        name = str(item.get("name") or "").strip()
        description = str(item.get("description") or "").strip()
        points = item.get("points")
        if not name:
            reader.fail(f"{where}.name", "is required.")
        elif len(name) > 200 or len(description) > 2000:
            reader.fail(where, "name must be at most 200 and description 2000 characters.")
        elif any(level.name == name for level in levels):
            reader.fail(f"{where}.name", f"'{name}' appears twice.")
        else:
            levels.append(
                RubricLevel(name, description, None if points in (None, "") else str(points))
            )
    return levels


def parse_definition(raw: Mapping[str, Any]) -> DefinitionData:
    """Check every field of ``raw``; raise :class:`InvalidFields` listing all problems."""
    reader = _Reader(raw)
    for unknown in sorted(set(raw) - set(FIELDS)):
        reader.fail(unknown, "is not a field of a credential definition.")

    name = reader.text("name", 200, required=True)
    description = reader.text("description", 10_000, required=True)
    criteria = reader.text("criteria_narrative", 10_000, required=True)
    outcomes = reader.text_items("learning_outcomes", 1000, required=True)
    workload = reader.number("workload_hours", maximum=MAX_WORKLOAD_HOURS, required=True)
    eqf_level = reader.integer_in("eqf_level", EQF_LEVELS, "an EQF level from 1 to 8")
    ects = reader.number("ects_credits", maximum=MAX_ECTS)

    achievement_type = reader.text("achievement_type", 80) or "MicroCredential"
    if not is_achievement_type(achievement_type):
        reader.fail(
            "achievement_type",
            f"'{achievement_type}' is not an OB 3.0 achievement type; use one of "
            f"{', '.join(ACHIEVEMENT_TYPES)} or the 'ext:Name' form.",
        )

    language = reader.text("in_language", 20) or "en"
    if not is_language_tag(language):
        reader.fail(
            "in_language", f"'{language}' is not a BCP 47 language tag such as 'en' or 'pt-BR'."
        )

    human_code = reader.text("human_code", 60)
    if human_code is not None and not HUMAN_CODE_RE.match(human_code):
        reader.fail("human_code", "may only hold letters, digits and . _ / - characters.")

    participation = reader.text("participation_form", 20) or "online"
    location = reader.text("location", 200)
    if participation not in PARTICIPATION_FORMS:
        reader.fail(
            "participation_form",
            f"'{participation}' is not one of {', '.join(PARTICIPATION_FORMS)}.",
        )
    elif participation != "online" and location is None:
        reader.fail("location", f"is required when participation is {participation}.")

    price = reader.number("price_amount", maximum=1_000_000_000) or 0.0
    currency = reader.text("price_currency", 3)
    if currency is not None:
        currency = currency.upper()
        if currency not in ISO_4217:
            reader.fail("price_currency", f"'{currency}' is not an ISO 4217 currency code.")
    elif price > 0 and not reader.has_failed("price_currency"):
        reader.fail("price_currency", "is required when the price is not zero.")

    levels = _rubric_levels(reader)
    required_level = reader.text("required_level", 200)
    if required_level is not None and required_level not in {level.name for level in levels}:
        reader.fail("required_level", f"'{required_level}' is not one of the rubric levels.")

    data = DefinitionData(
        name=name or "",
        description=description or "",
        criteria_narrative=criteria or "",
        learning_outcomes=outcomes,
        workload_hours=workload or 0.0,
        eqf_level=eqf_level,
        ects_credits=ects,
        achievement_type=achievement_type,
        criteria_url=reader.url("criteria_url"),
        image_url=reader.url("image_url"),
        tags=reader.text_items("tags", 60),
        field_of_study=reader.text("field_of_study", 200),
        human_code=human_code,
        in_language=language,
        credits_available=reader.number("credits_available", maximum=MAX_ECTS),
        version_label=reader.text("version_label", 40),
        result_name=reader.text("result_name", 200),
        rubric_levels=levels,
        required_level=required_level,
        skills=reader.text_items("skills", 300, check=_check_skill_uri),
        assessment_types=reader.text_items("assessment_types", 40, check=_check_assessment),
        assessment_description=reader.text("assessment_description", 5000),
        participation_form=participation,
        location=location,
        quality_assurance=reader.text("quality_assurance", 5000),
        quality_assurance_url=reader.url("quality_assurance_url"),
        prerequisites=reader.text("prerequisites", 5000),
        prerequisite_definition_ids=reader.text_items("prerequisite_definition_ids", 32),
        price_amount=price,
        price_currency=currency,
        duration_weeks=reader.number("duration_weeks", maximum=MAX_DURATION_WEEKS),
        identity_checked=reader.boolean("identity_checked"),
        stackable=reader.boolean("stackable"),
        stackable_notes=reader.text("stackable_notes", 5000),
    )
    if reader.problems:
        raise InvalidFields(reader.problems)
    return data


def duration_iso8601(weeks: float | None) -> str | None:
    """Weeks as an ISO 8601 duration (``P6W``, or days when not whole weeks: ``P10D``)."""
    if weeks is None:
        return None
    if float(weeks).is_integer():
        return f"P{int(weeks)}W"
    return f"P{round(weeks * 7)}D"


def first_or_none(values: list[T]) -> T | None:
    return values[0] if values else None
