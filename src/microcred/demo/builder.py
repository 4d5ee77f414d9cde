"""Build the deterministic demo data set: issuers, ~300 micro-credentials, learners, employers.

Everything goes through the capabilities' services, in one transaction: the demo is either built
completely or not at all. The same seed gives the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import OrganisationKind, Role
from microcred.catalogue import service as catalogue
from microcred.demo.activity import build_activity
from microcred.demo.programmes import (
    DOMAINS,
    FIRST_NAMES,
    ISSUERS,
    LAST_NAMES,
    DomainSeed,
    IssuerSeed,
    ProgrammeSeed,
)
from microcred.errors import NotFound
from microcred.market import service as market
from microcred.market.synth import synthesise, write_postings
from microcred.settings import Settings
from microcred.skills import service as skills
from microcred.skills.loader import load_default_taxonomy

DEMO_PASSWORD = "microcred-demo"
MIN_DEFINITIONS = 300
LEARNER_COUNT = 150
DEMO_POSTINGS = 6_000
MIN_SKILL_SCORE = 0.8
ESCO_PREFIX = "http://data.europa.eu/esco/"
LANGUAGE_NAMES = {"de": "German", "nl": "Dutch", "es": "Spanish", "en": "English"}
DOMAIN_BY_KEY = {domain.key: domain for domain in DOMAINS}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    organisation: str


DEMO_LOGINS = (
    DemoLogin("platform admin", "admin@demo.microcred.org", "(all)"),
    DemoLogin("issuer staff", "staff@northbridge.example.edu", "Northbridge Community College"),
    DemoLogin("issuer admin", "admin@northbridge.example.edu", "Northbridge Community College"),
    DemoLogin("assessor", "assessor@northbridge.example.edu", "Northbridge Community College"),
    DemoLogin("issuer staff", "staff@skillpath.example.com", "SkillPath Online"),
    DemoLogin("learner", "learner@demo.microcred.org", "Northbridge Community College"),
    DemoLogin("employer", "hiring@meridian-health.example.com", "Meridian Health Systems"),
    DemoLogin(
        "registrar", "registrar@metro-university.example.edu", "Metropolitan State University"
    ),
)

EMPLOYERS = (
    ("meridian-health", "Meridian Health Systems", "US", "Ohio"),
    ("brightline-analytics", "Brightline Analytics GmbH", "DE", "Hamburg"),
)
INSTITUTIONS = (("metro-university", "Metropolitan State University", "US", "Ohio"),)

RUBRIC = (
    {"name": "Pass", "description": "Meets every learning outcome at the required standard."},
    {"name": "Merit", "description": "Meets every outcome and applies them to unfamiliar cases."},
    {"name": "Distinction", "description": "Exceeds the outcomes with independent, polished work."},
)


def format_logins() -> str:
    width = max(len(login.email) for login in DEMO_LOGINS)
    lines = [f"Demo sign-ins (password for all: {DEMO_PASSWORD}):"]
    lines += [
        f"  {login.email.ljust(width)}  {login.role} — {login.organisation}"
        for login in DEMO_LOGINS
    ]
    return "\n".join(lines)


def build_demo(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    seed: int = 7,
    progress: bool = True,
    postings: int = DEMO_POSTINGS,
) -> str:
    """Build the demo data set unless it is there already; returns a report with the sign-ins."""
    with factory.begin() as session:
        taxonomy = load_default_taxonomy(session, settings.shared_dir, progress=progress)
    with factory.begin() as session:
        if _already_built(session):
            return f"Demo data already present.\n{format_logins()}\nOpen {settings.base_url}"
        rng = random.Random(seed)
        counts = _DemoBuilder(session, rng, progress).build()
        activity = build_activity(session, settings, rng)
    market = _market(factory, settings, seed, postings) if postings else "No job postings."
    return (
        f"{taxonomy}\nDemo data built: {counts['issuers']} issuers, {counts['definitions']} "
        f"micro-credentials aligned to {counts['skills']} ESCO skills, {counts['learners']} "
        f"learners, {counts['employers']} employers; {activity.credentials} credentials issued "
        f"({activity.revoked} revoked) and recorded in the ledger, {activity.assessments} "
        f"assessments, {activity.pathways} stackable pathway, {activity.recommendations} credit "
        f"recommendations, {activity.agreements} articulation agreement ({activity.rules} rules) "
        f"with a registrar to evaluate transfer credit.\n{market}\n"
        f"{format_logins()}\n"
        f"Open {settings.base_url}"
    )


def _market(factory: sessionmaker[Session], settings: Settings, seed: int, count: int) -> str:
    """A synthetic job-postings corpus (real O*NET and SkillSpan text), ingested for analytics."""
    path = Path(settings.data_dir) / "demo-postings.csv"
    write_postings(synthesise(settings.shared_dir, count, seed), path)
    with factory() as session:
        report = market.ingest(session, settings, path)
    return f"Job market: {report.summary()}"


def _already_built(session: Session) -> bool:
    try:
        accounts.get_organisation(session, ISSUERS[0].slug)
    except NotFound:
        return False
    return True


class _DemoBuilder:
    def __init__(self, session: Session, rng: random.Random, progress: bool) -> None:
        self.session = session
        self.rng = rng
        self.progress = progress
        self.skill_uris: dict[str, str] = {}
        self.skill_labels: dict[str, str] = {}
        self.codes: dict[str, int] = {}

    def build(self) -> dict[str, int]:
        accounts.create_user(
            self.session,
            email=DEMO_LOGINS[0].email,
            name="Platform Admin",
            password=DEMO_PASSWORD,
            is_platform_admin=True,
        )
        organisations = {seed.slug: self._issuer(seed) for seed in ISSUERS}
        self._resolve_skills()
        definitions = self._definitions()
        employers = self._employers()
        learners = self._learners(list(organisations.values()))
        return {
            "issuers": len(organisations),
            "definitions": definitions,
            "skills": len(set(self.skill_uris.values())),
            "learners": learners,
            "employers": employers,
        }

    def _user(self, email: str, name: str, fast: bool = False) -> Any:
        return accounts.create_user(
            self.session, email=email, name=name, password=DEMO_PASSWORD, fast_hash=fast
        )

    def _issuer(self, seed: IssuerSeed) -> Any:
        org = accounts.create_organisation(
            self.session,
            slug=seed.slug,
            name=seed.name,
            kind=OrganisationKind.issuer,
            category=seed.category,
            country=seed.country,
            region=seed.region,
        )
        domain = seed.url.split("//", 1)[1]
        catalogue.update_issuer_profile(
            self.session,
            None,
            seed.slug,
            {
                "url": seed.url,
                "email": f"credentials@{domain}",
                "description": seed.description,
                "locality": seed.city,
                "official": seed.official,
            },
        )
        staff = self._user(f"staff@{domain}", f"{seed.name} Staff")
        accounts.add_membership(self.session, staff, org, Role.issuer_staff)
        if seed is ISSUERS[0]:
            admin = self._user(f"admin@{domain}", "Nora Okafor")
            accounts.add_membership(self.session, admin, org, Role.admin)
            assessor = self._user(f"assessor@{domain}", "Ravi Menon")
            accounts.add_membership(self.session, assessor, org, Role.assessor)
        self.codes[seed.slug] = 100
        return org

    def _resolve_skills(self) -> None:
        """Each ESCO label named by a programme → its concept URI (best search hit)."""
        labels = sorted({label for d in DOMAINS for p in d.programmes for label in p.skills})
        for label in labels:
            hits = [
                hit
                for hit in skills.search_skills(self.session, label, limit=5)
                if hit.uri.startswith(ESCO_PREFIX) and hit.score >= MIN_SKILL_SCORE
            ]
            if hits:
                self.skill_uris[label] = hits[0].uri
                self.skill_labels[hits[0].uri] = hits[0].label

    def _offers(self) -> list[tuple[IssuerSeed, DomainSeed, ProgrammeSeed, int]]:
        """Each issuer offers every programme of its domains; advanced variants fill up to 300."""
        offers = [
            (issuer, DOMAIN_BY_KEY[key], programme, 0)
            for issuer in ISSUERS
            for key in issuer.domains
            for programme in DOMAIN_BY_KEY[key].programmes
        ]
        extras = [
            (issuer, domain, programme, 1)
            for issuer, domain, programme, _ in offers
            if programme.eqf <= 6
        ]
        self.rng.shuffle(extras)
        missing = max(0, MIN_DEFINITIONS + 20 - len(offers))
        return offers + extras[:missing]

    def _definitions(self) -> int:
        offers = self._offers()
        if self.progress:
            with Progress(transient=True) as bar:
                task = bar.add_task("Demo micro-credentials", total=len(offers))
                for offer in offers:
                    self._definition(*offer)
                    bar.advance(task)
        else:
            for offer in offers:
                self._definition(*offer)
        return len(offers)

    def _definition(
        self, issuer: IssuerSeed, domain: DomainSeed, programme: ProgrammeSeed, advanced: int
    ) -> None:
        rng = self.rng
        is_college = issuer.category == "college"
        is_platform = issuer.category == "online platform"
        eqf = min(8, programme.eqf + advanced)
        hours = round(programme.hours * (1.5 if advanced else rng.choice((0.8, 1.0, 1.0, 1.2))))
        name = f"Advanced {programme.title}" if advanced else programme.title
        language = "en"
        if len(issuer.languages) > 1 and rng.random() < 0.2:
            language = issuer.languages[-1]
            name = f"{name} (taught in {LANGUAGE_NAMES[language]})"
        form = "online" if is_platform else rng.choice(("on-site", "blended", "online", "blended"))
        price_base = {"college": 9.0, "online platform": 4.0, "industry association": 12.0}
        price = round(hours * price_base[issuer.category] * rng.uniform(0.7, 1.3), -1)
        uris = [self.skill_uris[s] for s in programme.skills if s in self.skill_uris]
        self.codes[issuer.slug] += 1
        prefix = "".join(part[0] for part in issuer.slug.split("-")).upper()[:4]
        data: dict[str, Any] = {
            "name": name,
            "description": (
                f"{name} from {issuer.name}: a {hours}-hour, competency-based micro-credential in "
                f"{domain.name.lower()}. Learners "
                + "; ".join(o[0].lower() + o[1:] for o in programme.outcomes).rstrip(".")
                + "."
            ),
            "criteria_narrative": (
                f"Complete the {programme.assessment} assessment and reach at least the Pass "
                "level of the rubric on every learning outcome."
            ),
            "learning_outcomes": list(programme.outcomes),
            "workload_hours": hours,
            "eqf_level": eqf,
            "ects_credits": round(hours / 27.5 * 2) / 2 if is_college else None,
            "achievement_type": programme.achievement_type,
            "tags": [*domain.tags, "advanced"] if advanced else list(domain.tags),
            "field_of_study": domain.field_of_study,
            "human_code": f"{prefix}-{self.codes[issuer.slug]}",
            "in_language": language,
            "result_name": "Overall performance",
            "rubric_levels": [dict(level) for level in RUBRIC],
            "required_level": "Pass",
            "skills": uris,
            "assessment_types": [programme.assessment],
            "participation_form": form,
            "location": None if form == "online" else f"{issuer.city} campus",
            "quality_assurance": issuer.official
            or f"Internal quality review by the {issuer.name} standards board",
            "price_amount": price,
            "price_currency": issuer.currency,
            "duration_weeks": max(1, round(hours / rng.choice((5, 8, 10)))),
            "identity_checked": programme.assessment == "exam" or not is_platform,
            "stackable": True,
            "stackable_notes": f"Counts towards the {domain.name} certificate pathway.",
        }
        catalogue.create_definition(
            self.session,
            None,
            issuer.slug,
            data,
            publish=True,
            skill_label_cache=self.skill_labels,
            audit=False,
        )

    def _employers(self) -> int:
        for slug, name, country, region in EMPLOYERS:
            org = accounts.create_organisation(
                self.session,
                slug=slug,
                name=name,
                kind=OrganisationKind.employer,
                country=country,
                region=region,
            )
            if slug == "meridian-health":
                user = self._user(DEMO_LOGINS[6].email, "Hannah Brooks")
                accounts.add_membership(self.session, user, org, Role.employer)
        for slug, name, country, region in INSTITUTIONS:
            institution = accounts.create_organisation(
                self.session,
                slug=slug,
                name=name,
                kind=OrganisationKind.institution,
                country=country,
                region=region,
            )
            if slug == "metro-university":
                # The registrar authors the university's articulation agreements (staff role).
                user = self._user(DEMO_LOGINS[7].email, "Rosa Alvarez")
                accounts.add_membership(self.session, user, institution, Role.issuer_staff)
        return len(EMPLOYERS)

    def _learners(self, organisations: list[Any]) -> int:
        colleges = [
            o for o, s in zip(organisations, ISSUERS, strict=True) if s.category == "college"
        ]
        named = self._user(DEMO_LOGINS[5].email, "Lee Learner")
        accounts.add_membership(self.session, named, colleges[0], Role.learner)
        # Lee has also applied to the university, whose registrar evaluates transfer credit.
        university = accounts.get_organisation(self.session, "metro-university")
        accounts.add_membership(self.session, named, university, Role.learner)
        accounts.grant_consent(self.session, named.id, "talent_search")
        for number in range(1, LEARNER_COUNT):
            first = self.rng.choice(FIRST_NAMES)
            last = self.rng.choice(LAST_NAMES)
            email = f"{first}.{last}.{number}@learners.example.org".lower().replace("'", "")
            learner = self._user(email, f"{first} {last}", fast=True)
            accounts.add_membership(self.session, learner, self.rng.choice(colleges), Role.learner)
            if self.rng.random() < 0.6:
                accounts.grant_consent(self.session, learner.id, "talent_search")
        return LEARNER_COUNT
