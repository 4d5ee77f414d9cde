"""Open Badges 3.0 documents for the catalogue: ``Achievement`` and issuer ``Profile``.

Pure functions over loaded rows; the credentials capability embeds these in issued credentials.
Ids are stable resolvable URLs: ``{base}/definitions/{id}/v/{n}`` for a version of a definition,
``{base}/issuers/{slug}`` for an issuer. The EU micro-credential elements are carried in standard
OB 3.0 fields (criteria narrative, alignment to the EQF level, creditsAvailable, inLanguage …).
"""

from __future__ import annotations

from typing import Any

from microcred.accounts.models import Organisation
from microcred.catalogue.models import CredentialDefinition, IssuerProfile
from microcred.catalogue.validation import duration_iso8601
from microcred.catalogue.vocabularies import ASSESSMENT_TYPES, PARTICIPATION_FORMS

ESCO_FRAMEWORK = "ESCO"
ESCO_TARGET_TYPE = "ext:ESCOSkill"
EQF_FRAMEWORK = "European Qualifications Framework"
EQF_TARGET_TYPE = "ext:EQFLevel"
EQF_URI = "http://data.europa.eu/snb/eqf/{level}"


def definition_url(base_url: str, definition_id: str, version: int | None = None) -> str:
    base = f"{base_url.rstrip('/')}/definitions/{definition_id}"
    return base if version is None else f"{base}/v/{version}"


def issuer_url(base_url: str, organisation: Organisation) -> str:
    return f"{base_url.rstrip('/')}/issuers/{organisation.slug}"


def image_url(base_url: str, definition: CredentialDefinition) -> str:
    """The definition's own image, or the generated default badge."""
    return definition.image_url or (
        f"{definition_url(base_url, definition.definition_id)}/image.svg?v={definition.version}"
    )


def _money(amount: float, currency: str | None) -> str:
    return "Free" if amount == 0 else f"{amount:,.2f} {currency or ''}".strip()


def _duration(weeks: float | None) -> str | None:
    """For people first, with the ISO 8601 form machines read: "6 weeks (P6W)"."""
    iso = duration_iso8601(weeks)
    if weeks is None or iso is None:
        return None
    if float(weeks).is_integer():
        return f"{int(weeks)} week{'s' if weeks != 1 else ''} ({iso})"
    days = round(weeks * 7)
    return f"{days} day{'s' if days != 1 else ''} ({iso})"


def criteria_markdown(definition: CredentialDefinition) -> str:
    """The criteria narrative followed by the EU standard elements, as Markdown."""
    lines = [definition.criteria_narrative.strip(), "", "**Learning outcomes**", ""]
    lines += [f"- {outcome}" for outcome in definition.learning_outcomes]
    facts = [
        ("Notional workload", f"{definition.workload_hours:g} hours"
         + (f" ({definition.ects_credits:g} ECTS)" if definition.ects_credits is not None else "")),
        ("EQF level", str(definition.eqf_level) if definition.eqf_level else None),
        ("Type of assessment", ", ".join(
            ASSESSMENT_TYPES.get(a, a) for a in definition.assessment_types) or None),
        ("Assessment", definition.assessment_description),
        ("Form of participation", PARTICIPATION_FORMS[definition.participation_form.value]
         + (f" ({definition.location})" if definition.location else "")),
        ("Quality assurance", " ".join(filter(None, [
            definition.quality_assurance, definition.quality_assurance_url])) or None),
        ("Prerequisites", definition.prerequisites),
        ("Identity checked", "yes" if definition.identity_checked else "no"),
        ("Stackable", ("yes" if definition.stackable else "no")
         + (f": {definition.stackable_notes}" if definition.stackable_notes else "")),
        ("Price", _money(definition.price_amount, definition.price_currency)),
        ("Duration", _duration(definition.duration_weeks)),
    ]  # fmt: skip
    lines.append("")
    lines += [f"- {label}: {value}" for label, value in facts if value]
    return "\n".join(lines)


def to_ob3_profile(
    organisation: Organisation,
    base_url: str,
    profile: IssuerProfile | None = None,
    parent: Organisation | None = None,
) -> dict[str, Any]:
    """The issuer as an OB 3.0 ``Profile``."""
    document: dict[str, Any] = {
        "id": issuer_url(base_url, organisation),
        "type": ["Profile"],
        "name": organisation.name,
    }
    if profile is not None:
        for key, value in (
            ("url", profile.url), ("email", profile.email), ("phone", profile.phone),
            ("description", profile.description), ("official", profile.official),
        ):  # fmt: skip
            if value:
                document[key] = value
        if profile.image_url:
            document["image"] = {
                "id": profile.image_url,
                "type": "Image",
                "caption": organisation.name,
            }
    address = {
        "addressCountryCode": organisation.country,
        "addressRegion": organisation.region,
        "addressLocality": profile.locality if profile else None,
        "streetAddress": profile.street_address if profile else None,
        "postalCode": profile.postal_code if profile else None,
    }
    address = {k: v for k, v in address.items() if v}
    if address:
        document["address"] = {"type": ["Address"], **address}
    if parent is not None:
        document["parentOrg"] = {
            "id": issuer_url(base_url, parent),
            "type": ["Profile"],
            "name": parent.name,
        }
    return document


def to_ob3_achievement(
    definition: CredentialDefinition,
    base_url: str,
    profile: IssuerProfile | None = None,
    earlier_versions: list[int] | None = None,
) -> dict[str, Any]:
    """One version of a definition as an OB 3.0 ``Achievement`` (valid against the schema)."""
    achievement_id = definition_url(base_url, definition.definition_id, definition.version)
    alignment: list[dict[str, Any]] = [
        {
            "type": ["Alignment"],
            "targetName": link.label,
            "targetUrl": link.skill_uri,
            "targetCode": link.skill_uri.rstrip("/").rsplit("/", 1)[-1],
            "targetFramework": ESCO_FRAMEWORK,
            "targetType": ESCO_TARGET_TYPE,
        }
        for link in definition.skills
    ]
    if definition.eqf_level is not None:
        alignment.append(
            {
                "type": ["Alignment"],
                "targetName": f"EQF level {definition.eqf_level}",
                "targetUrl": EQF_URI.format(level=definition.eqf_level),
                "targetCode": str(definition.eqf_level),
                "targetFramework": EQF_FRAMEWORK,
                "targetType": EQF_TARGET_TYPE,
            }
        )
    criteria: dict[str, Any] = {"narrative": criteria_markdown(definition)}
    if definition.criteria_url:
        criteria["id"] = definition.criteria_url
    document: dict[str, Any] = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": definition.achievement_type,
        "name": definition.name,
        "description": definition.description,
        "criteria": criteria,
        "image": {
            "id": image_url(base_url, definition),
            "type": "Image",
            "caption": definition.name,
        },
        "creator": to_ob3_profile(definition.issuer, base_url, profile),
        "inLanguage": definition.in_language,
        "version": definition.version_label or str(definition.version),
    }
    if alignment:
        document["alignment"] = alignment
    if definition.tags:
        document["tag"] = list(definition.tags)
    credits_ = (
        definition.credits_available
        if definition.credits_available is not None
        else definition.ects_credits
    )
    if credits_ is not None:
        document["creditsAvailable"] = credits_
    if definition.field_of_study:
        document["fieldOfStudy"] = definition.field_of_study
    if definition.human_code:
        document["humanCode"] = definition.human_code
    if definition.rubric_levels:
        document["resultDescription"] = [_result_description(definition, achievement_id)]
    if earlier_versions:
        document["related"] = [
            {
                "id": definition_url(base_url, definition.definition_id, version),
                "type": ["Related"],
                "version": str(version),
                "inLanguage": definition.in_language,
            }
            for version in sorted(earlier_versions, reverse=True)
        ]
    return document


def _result_description(definition: CredentialDefinition, achievement_id: str) -> dict[str, Any]:
    levels = []
    required = None
    for index, level in enumerate(definition.rubric_levels):
        level_id = f"{achievement_id}#level-{index + 1}"
        entry: dict[str, Any] = {
            "id": level_id, "type": ["RubricCriterionLevel"], "name": level["name"],
            "level": level["name"],
        }  # fmt: skip
        if level.get("description"):
            entry["description"] = level["description"]
        if level.get("points") is not None:
            entry["points"] = str(level["points"])
        if level["name"] == definition.required_level:
            required = level_id
        levels.append(entry)
    result: dict[str, Any] = {
        "id": f"{achievement_id}#result",
        "type": ["ResultDescription"],
        "name": definition.result_name or "Performance level",
        "resultType": "RubricCriterionLevel",
        "rubricCriterionLevel": levels,
        "allowedValue": [level["name"] for level in definition.rubric_levels],
    }
    if required is not None:
        result["requiredLevel"] = required
    return result
