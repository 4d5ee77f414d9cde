"""The planner: which offers close a weighted skill gap within a learner's limits, and why."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.i18n import translate, using_locale
from microcred.wallet.planning import Limits, Need, Offer, make_plan, offer_weeks

SQL, PY, VIZ, STATS, ETHICS = "u:sql", "u:python", "u:viz", "u:stats", "u:ethics"


def need(uri: str, weight: float = 1.0) -> Need:
    return Need(uri, uri.removeprefix("u:"), weight, ("essential for the job (ESCO)",), True)


def offer(definition_id: str, skills: set[str], **kw: object) -> Offer:
    defaults: dict[str, object] = {"price": 100.0, "currency": "EUR", "hours": 20.0}
    defaults.update(kw)
    return Offer(definition_id, definition_id.title(), "North College", frozenset(skills),
                 **defaults)  # type: ignore[arg-type]  # fmt: skip


NEEDS = [need(SQL, 2.0), need(PY), need(VIZ), need(STATS, 0.5)]


def ids(plan: object) -> list[str]:
    return [step.offer.definition_id for step in plan.steps]  # type: ignore[attr-defined]


def test_one_offer_covering_everything_beats_several_that_cost_more() -> None:
    offers = [
        offer("bundle", {SQL, PY, VIZ, STATS}, price=150.0, hours=40.0),
        offer("sql", {SQL}, price=90.0),
        offer("py", {PY}, price=90.0),
        offer("viz", {VIZ}, price=90.0),
    ]
    plan = make_plan(NEEDS, [], offers, Limits())
    assert ids(plan) == ["bundle"]
    assert plan.coverage_before == 0 and plan.coverage_after == 1
    assert plan.total_price == {"EUR": 150.0} and plan.total_hours == 40
    assert plan.steps[0].reason.startswith("Covers 4 missing skills (sql, python, viz, stats)")


def test_held_skills_are_not_taught_again_and_count_as_coverage() -> None:
    offers = [offer("sql", {SQL}), offer("py", {PY}), offer("viz", {VIZ})]
    plan = make_plan(NEEDS, [SQL, PY], offers, Limits())
    assert ids(plan) == ["viz"]
    assert [n.uri for n in plan.held] == [SQL, PY]
    assert plan.coverage_before == 3 / 4.5
    assert [o.need.uri for o in plan.open] == [STATS]
    assert plan.open[0].reason == "No published micro-credential here teaches it."


def test_the_budget_caps_the_plan_and_says_what_it_left_out() -> None:
    offers = [offer("sql", {SQL}, price=300.0), offer("py", {PY}, price=80.0)]
    plan = make_plan(NEEDS, [], offers, Limits(budget=100.0, currency="EUR"))
    assert ids(plan) == ["py"]
    assert {o.need.uri: o.reason for o in plan.open}[SQL] == "Taught here, but over your budget."


def test_offers_in_another_currency_are_left_out_of_a_budget_but_free_ones_stay() -> None:
    offers = [
        offer("sql", {SQL}, price=50.0, currency="GBP"),
        offer("py", {PY}, price=0.0, currency="GBP"),
    ]
    plan = make_plan(NEEDS, [], offers, Limits(budget=500.0, currency="eur"))
    assert ids(plan) == ["py"]
    assert {o.need.uri: o.reason for o in plan.open}[SQL] == "Taught here, but priced in GBP."


def test_the_deadline_bounds_hours_at_the_learners_pace() -> None:
    offers = [offer("sql", {SQL}, hours=60.0), offer("py", {PY}, hours=15.0)]
    plan = make_plan(NEEDS, [], offers, Limits(hours_per_week=5.0, max_weeks=4.0))
    assert ids(plan) == ["py"]
    assert plan.total_weeks == 3.0
    assert "beyond your deadline" in {o.need.uri: o.reason for o in plan.open}[SQL]


def test_formats_and_languages_filter_offers() -> None:
    offers = [
        offer("sql", {SQL}, participation_form="on-site"),
        offer("py", {PY}, language="de"),
        offer("viz", {VIZ}, language="en-GB"),
    ]
    plan = make_plan(
        NEEDS, [], offers, Limits(forms=frozenset({"online"}), languages=frozenset({"en"}))
    )
    assert ids(plan) == ["viz"]
    reasons = {o.need.uri: o.reason for o in plan.open}
    assert reasons[SQL] == "Taught here, but only on-site."
    assert reasons[PY] == "Taught here, but taught in de."


def test_unmet_prerequisites_come_with_their_course_and_go_first() -> None:
    offers = [
        offer("advanced", {SQL, PY}, prerequisites=("intro",), eqf_level=6),
        offer("intro", {STATS}, price=10.0, eqf_level=4),
    ]
    plan = make_plan(NEEDS, [], offers, Limits())
    assert ids(plan) == ["intro", "advanced"]
    assert plan.steps[0].start_week == 0 and plan.steps[1].start_week == plan.steps[0].end_week
    held_intro = make_plan(NEEDS, [], offers, Limits(), completed=["intro"])
    assert ids(held_intro) == ["advanced"]


def test_a_prerequisite_with_nothing_to_teach_is_explained() -> None:
    offers = [
        offer("advanced", {SQL}, prerequisites=("orientation",)),
        offer("orientation", {ETHICS}, price=0.0),
    ]
    plan = make_plan(NEEDS, [], offers, Limits())
    assert ids(plan) == ["orientation", "advanced"]
    assert plan.steps[0].reason == "Required before Advanced (free, 20 h)."
    assert plan.steps[0].prerequisite_of == ("Advanced",)


def test_a_missing_prerequisite_blocks_its_course() -> None:
    plan = make_plan(NEEDS, [], [offer("advanced", {SQL}, prerequisites=("gone",))], Limits())
    assert plan.steps == []
    assert "a prerequisite is not offered" in plan.open[0].reason


def test_a_pick_made_redundant_by_later_ones_is_dropped() -> None:
    offers = [
        offer("sql-viz", {SQL, VIZ}, price=100.0),
        offer("py-viz", {PY, VIZ}, price=100.0),
        offer("sql-py", {SQL, PY}, price=60.0, hours=10.0),
        offer("viz", {VIZ}, price=20.0, hours=5.0),
    ]
    plan = make_plan(NEEDS[:3], [], offers, Limits())
    assert sorted(ids(plan)) == ["sql-py", "viz"]


def test_courses_already_completed_are_never_offered() -> None:
    plan = make_plan(NEEDS, [], [offer("sql", {SQL})], Limits(), completed=["sql"])
    assert plan.steps == []


def test_weeks_are_the_longer_of_the_course_duration_and_its_hours_at_the_pace() -> None:
    assert offer_weeks(offer("a", set(), hours=40.0, weeks=2.0), 10.0) == 4.0
    assert offer_weeks(offer("a", set(), hours=10.0, weeks=6.0), 10.0) == 6.0


SKILLS = [f"u:{n}" for n in range(8)]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Need], list[str], list[Offer], Limits]:
    needs = [
        Need(u, u, draw(st.floats(0.1, 3.0)), ("r",))
        for u in draw(st.lists(st.sampled_from(SKILLS), min_size=1, max_size=8, unique=True))
    ]
    names = [f"d{i}" for i in range(draw(st.integers(0, 7)))]
    offers = [
        Offer(
            name,
            name,
            "I",
            frozenset(draw(st.lists(st.sampled_from(SKILLS), max_size=4))),
            price=draw(st.sampled_from([0.0, 50.0, 120.0, 400.0])),
            currency=draw(st.sampled_from(["EUR", "USD"])),
            hours=draw(st.sampled_from([0.0, 8.0, 30.0, 90.0])),
            weeks=draw(st.none() | st.sampled_from([1.0, 6.0])),
            participation_form=draw(st.sampled_from(["online", "on-site"])),
            # only earlier offers: a catalogue's prerequisites form no cycle
            prerequisites=tuple(draw(st.lists(st.sampled_from(names[:i]), max_size=2)))
            if i
            else (),
        )
        for i, name in enumerate(names)
    ]
    limits = Limits(
        budget=draw(st.none() | st.sampled_from([0.0, 100.0, 500.0])),
        currency="EUR",
        hours_per_week=draw(st.sampled_from([2.0, 8.0])),
        max_weeks=draw(st.none() | st.sampled_from([4.0, 20.0])),
        forms=draw(st.sampled_from([frozenset(), frozenset({"online"})])),
    )
    held = draw(st.lists(st.sampled_from(SKILLS), max_size=3))
    return needs, held, offers, limits


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_every_plan_keeps_within_the_limits_and_accounts_for_every_need(
    scenario: tuple[list[Need], list[str], list[Offer], Limits],
) -> None:
    needs, held, offers, limits = scenario
    plan = make_plan(needs, held, offers, limits)
    chosen = [s.offer for s in plan.steps]
    if limits.budget is not None:
        assert sum(o.price for o in chosen) <= limits.budget + 1e-9
        assert all(o.price == 0 or o.currency == "EUR" for o in chosen)
    if limits.max_weeks is not None:
        assert sum(o.hours for o in chosen) <= limits.max_weeks * limits.hours_per_week + 1e-9
    assert all(not limits.forms or o.participation_form in limits.forms for o in chosen)
    assert len({o.definition_id for o in chosen}) == len(chosen)
    position = {o.definition_id: i for i, o in enumerate(chosen)}
    for i, step in enumerate(plan.steps):
        assert step.covers or step.prerequisite_of, "every step teaches something or unlocks one"
        for prerequisite in step.offer.prerequisites:
            if prerequisite in position:
                assert position[prerequisite] < i
    covered = {n.uri for s in plan.steps for n in s.covers}
    gap = {n.uri for n in needs} - set(held)
    assert covered <= gap
    assert covered | {o.need.uri for o in plan.open} == gap
    assert not covered & {o.need.uri for o in plan.open}
    assert abs(plan.plan_weight - sum(n.weight for n in needs if n.uri in covered)) < 1e-9
    assert plan.coverage_after >= plan.coverage_before


def test_why_a_skill_stays_open_is_shown_in_the_readers_language() -> None:
    offers = [offer("sql", {SQL}, price=300.0), offer("py", {PY}, price=50.0, currency="GBP")]
    plan = make_plan(NEEDS, [], offers, Limits(budget=100.0, currency="EUR"))
    reasons = {o.need.uri: o.reason for o in plan.open}
    assert reasons[SQL] == "Taught here, but over your budget."
    with using_locale("de"):
        assert translate(reasons[SQL]) == "Hier angeboten, aber über Ihrem Budget."
        assert translate(reasons[PY]) == "Hier angeboten, aber in GBP bepreist."
    with using_locale("fr"):
        assert translate(reasons[SQL]) == "Enseignée ici, mais au-dessus de votre budget."
    with using_locale("es"):
        assert translate(reasons[STATS]) == "Ninguna microcredencial publicada aquí la enseña."
