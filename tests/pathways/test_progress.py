"""The evaluator: done / left / shortest route, recency, order, and its properties."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.pathways.progress import (
    Achievement,
    Offering,
    evaluate,
    route_achievements,
)
from microcred.pathways.requirements import Requirement, parse_requirement

NOW = datetime(2026, 6, 1, tzinfo=UTC)
OFFERINGS = {
    "d1": Offering("d1", "Python", ects=2, hours=50, skills=frozenset({"sx"})),
    "d2": Offering("d2", "SQL", ects=3, hours=75, skills=frozenset({"sx", "sy"})),
    "d3": Offering("d3", "Teamwork", ects=1, hours=20, skills=frozenset({"sy"})),
    "d4": Offering("d4", "Statistics", ects=5, hours=120, skills=frozenset({"sx"})),
    "d5": Offering("d5", "Ethics", ects=1, hours=10),
}


def earned(definition_id: str, days_ago: int = 30, *, verified: bool = True) -> Achievement:
    offering = OFFERINGS[definition_id]
    return Achievement(
        key=f"c:{definition_id}:{days_ago}",
        name=offering.name,
        definition_id=definition_id,
        earned_at=NOW - timedelta(days=days_ago),
        skills=offering.skills,
        ects=offering.ects,
        hours=offering.hours,
        verified=verified,
    )


def run(tree: dict, achievements: list[Achievement]):  # type: ignore[no-untyped-def]
    return evaluate(parse_requirement(tree), achievements, now=NOW, offerings=OFFERINGS)


def cred(definition_id: str) -> dict:  # type: ignore[type-arg]
    return {"type": "credential", "definition_id": definition_id}


def test_done_left_and_route_of_a_partly_done_tree() -> None:
    tree = {
        "type": "all_of",
        "children": [
            cred("d1"),
            cred("d2"),
            {"type": "any_of", "children": [cred("d4"), cred("d3")]},
        ],
    }
    progress = run(tree, [earned("d1")])
    assert not progress.complete
    assert [leaf.node.definition_id for leaf in progress.done] == ["d1"]
    assert {leaf.node.definition_id for leaf in progress.left} == {"d2", "d3", "d4"}
    assert progress.route.definition_ids == ("d2", "d3")  # d3 is the cheaper option
    assert progress.route.hours == 95
    assert progress.root.percent == 33


def test_unverified_credentials_do_not_count() -> None:
    progress = run(cred("d1"), [earned("d1", verified=False)])
    assert not progress.complete
    assert progress.route.definition_ids == ("d1",)


def test_recency_window_excludes_old_credentials() -> None:
    tree = {**cred("d1"), "within_years": 2}
    assert not run(tree, [earned("d1", days_ago=3 * 365)]).complete
    assert run(tree, [earned("d1", days_ago=365)]).complete


def test_sequence_needs_the_later_step_earned_after_the_earlier_one() -> None:
    tree = {"type": "sequence", "children": [cred("d1"), cred("d2")]}
    wrong_order = run(tree, [earned("d1", days_ago=10), earned("d2", days_ago=100)])
    assert not wrong_order.complete
    assert wrong_order.route.definition_ids == ("d2",)
    assert run(tree, [earned("d1", days_ago=100), earned("d2", days_ago=10)]).complete


def test_skill_requirement_counts_distinct_aligned_definitions() -> None:
    tree = {"type": "skill", "skill_uri": "sx", "count": 2}
    once = run(tree, [earned("d1", 10), earned("d1", 5)])
    assert not once.complete
    assert once.root.summary == "1 of 2 aligned credentials"
    assert once.route.definition_ids == ("d2",)  # the cheaper of d2 and d4
    assert run(tree, [earned("d1"), earned("d4")]).complete


def test_credit_route_takes_the_fewest_credentials() -> None:
    tree = {"type": "credits", "amount": 6, "measure": "ects"}
    progress = run(tree, [earned("d3")])
    assert progress.root.summary == "1 of 6 ECTS"
    assert progress.route.definition_ids == ("d4",)
    hours = run({"type": "credits", "amount": 60, "measure": "hours", "pool": ["d1", "d5"]}, [])
    assert hours.route.definition_ids == ("d1", "d5")


def test_nested_pathway_and_unknown_skill_route() -> None:
    inner = parse_requirement(cred("d5"))
    tree = parse_requirement(
        {
            "type": "all_of",
            "children": [
                {"type": "pathway", "pathway_id": "p2"},
                {"type": "skill", "skill_uri": "none"},
            ],
        }
    )
    progress = evaluate(tree, [earned("d5")], now=NOW, offerings=OFFERINGS, pathways={"p2": inner})
    assert progress.root.children[0].satisfied
    assert not progress.route.reachable


# --- properties -----------------------------------------------------------------------------

DEFINITIONS = sorted(OFFERINGS)
leaf_nodes = st.one_of(
    st.builds(
        Requirement,
        kind=st.just("credential"),
        definition_id=st.sampled_from(DEFINITIONS),
        within_years=st.sampled_from([None, None, 1]),
    ),
    st.builds(
        Requirement,
        kind=st.just("skill"),
        skill_uri=st.sampled_from(["sx", "sy"]),
        count=st.integers(1, 2),
    ),
    st.builds(
        Requirement,
        kind=st.just("credits"),
        amount=st.sampled_from([1.0, 4.0, 7.0]),
        measure=st.sampled_from(["ects", "hours"]),
    ),
)


def _groups(children: st.SearchStrategy[Requirement]) -> st.SearchStrategy[Requirement]:
    return st.lists(children, min_size=2, max_size=3).flatmap(
        lambda kids: st.one_of(
            st.builds(
                Requirement,
                kind=st.sampled_from(["all_of", "any_of", "sequence"]),
                children=st.just(tuple(kids)),
            ),
            st.builds(
                Requirement,
                kind=st.just("n_of"),
                children=st.just(tuple(kids)),
                n=st.integers(1, len(kids)),
            ),
        )
    )


trees = st.recursive(leaf_nodes, _groups, max_leaves=8)
holdings = st.lists(
    st.builds(earned, st.sampled_from(DEFINITIONS), st.integers(0, 800), verified=st.booleans()),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(trees, holdings, holdings)
def test_earning_more_never_lowers_progress(
    tree: Requirement, first: list[Achievement], more: list[Achievement]
) -> None:
    before = evaluate(tree, first, now=NOW, offerings=OFFERINGS)
    after = evaluate(tree, first + more, now=NOW, offerings=OFFERINGS)
    assert after.root.progress >= before.root.progress - 1e-9
    assert after.complete or not before.complete


@settings(max_examples=150, deadline=None)
@given(trees, holdings)
def test_the_shortest_route_is_sufficient(tree: Requirement, held: list[Achievement]) -> None:
    progress = evaluate(tree, held, now=NOW, offerings=OFFERINGS)
    if not progress.route.reachable:
        return
    followed = held + route_achievements(progress.route, OFFERINGS, NOW)
    assert evaluate(tree, followed, now=NOW, offerings=OFFERINGS).complete


@settings(max_examples=100, deadline=None)
@given(trees)
def test_a_tree_with_every_leaf_met_is_complete(tree: Requirement) -> None:
    plan = evaluate(tree, [], now=NOW, offerings=OFFERINGS).route
    if not plan.reachable:
        return
    held = route_achievements(plan, OFFERINGS, NOW)
    progress = evaluate(tree, held, now=NOW, offerings=OFFERINGS)
    assert progress.complete
    assert progress.root.percent == 100
    assert not progress.left or all(leaf.route.definition_ids == () for leaf in progress.done)


credential_only = st.recursive(
    st.builds(Requirement, kind=st.just("credential"), definition_id=st.sampled_from(DEFINITIONS)),
    lambda kids: st.lists(kids, min_size=2, max_size=3).flatmap(
        lambda items: st.builds(
            Requirement, kind=st.sampled_from(["all_of", "any_of"]), children=st.just(tuple(items))
        )
    ),
    max_leaves=6,
)


@settings(max_examples=100, deadline=None)
@given(credential_only, holdings)
def test_route_is_no_longer_than_any_sufficient_set(
    tree: Requirement, held: list[Achievement]
) -> None:
    """Against brute force over every subset of definitions (for trees of credential leaves)."""
    progress = evaluate(tree, held, now=NOW, offerings=OFFERINGS)
    for size in range(progress.route.credentials):
        for subset in itertools.combinations(DEFINITIONS, size):
            extra = [earned(d, 0) for d in subset]
            trial = evaluate(tree, held + extra, now=NOW, offerings=OFFERINGS)
            shared = any(
                sum(1 for _, n in tree.walk() if n.definition_id == d) > 1 for d in DEFINITIONS
            )
            assert not trial.complete or shared, (subset, progress.route)
