"""Closed and extensible vocabularies the catalogue validates against (OB 3.0, EU, ISO)."""

from __future__ import annotations

import re

#: OB 3.0 ``AchievementType``; the ``ext:`` form extends it.
ACHIEVEMENT_TYPES = (
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree",
    "Award", "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification",
    "CommunityService", "Competency", "Course", "CoCurricular", "Degree", "Diploma",
    "DoctoralDegree", "Fieldwork", "GeneralEducationDevelopment", "JourneymanCertificate",
    "LearningProgram", "License", "Membership", "ProfessionalDoctorate",
    "QualityAssuranceCredential", "MasterCertificate", "MasterDegree", "MicroCredential",
    "ResearchDoctorate", "SecondarySchoolDiploma",
)  # fmt: skip
EXTENSION_TERM_RE = re.compile(r"^ext:[A-Za-z0-9._-]+$")

#: Types of assessment (EU standard element "type of assessment").
ASSESSMENT_TYPES = {
    "exam": "Written or online exam",
    "project": "Project",
    "practical-demonstration": "Practical demonstration",
    "portfolio": "Portfolio",
    "attendance": "Attendance (no assessment)",
    "experiential": "Experiential / work-based",
    "oral-examination": "Oral examination",
    "peer-review": "Peer review",
}

PARTICIPATION_FORMS = {"online": "Online", "on-site": "On-site", "blended": "Blended"}

EQF_LEVELS = range(1, 9)

#: BCP 47 as OB 3.0 constrains ``inLanguage``: language[-Script][-REGION].
LANGUAGE_TAG_RE = re.compile(r"^([a-z]{2,3})(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: ISO 639-1 two-letter language codes.
ISO_639_1 = _codes(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy "
    "da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu "
    "hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb "
    "lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om "
    "or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw "
    "ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu"
)

#: ISO 4217 active currency codes.
ISO_4217 = _codes(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR "
    "KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK "
    "MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR "
    "SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS "
    "UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL"
)


def is_achievement_type(value: str) -> bool:
    return value in ACHIEVEMENT_TYPES or bool(EXTENSION_TERM_RE.match(value))


def is_language_tag(value: str) -> bool:
    match = LANGUAGE_TAG_RE.match(value)
    if match is None:
        return False
    primary = match.group(1)
    return len(primary) == 3 or primary in ISO_639_1
