"""The programme report's suppression cannot be bypassed: every published figure rests on
at least ``min_group_size`` people (or is 0), no small group can be worked out by
subtracting published figures, and an ordinary cohort keeps its figures.

The cohorts are built as data (pairs' checkpoints, as :func:`pair_data` produces them), so
the checks run on :func:`programme_data` itself; the sets of people behind each figure are
recomputed here from the raw data, independently of the code under test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.cohort.workspace import Cohort
from tandem.curriculum.manifest import Module, Program, load_program
from tandem.people.roster import Pair, Participant
from tandem.reports.data import programme_data

PROGRAM = load_program(Path(__file__).resolve().parents[2] / "curriculum" / "program.yml")
ASPECTS = ("clarity", "relevance", "pace")

Checkpoint = dict[str, Any]


def cohort_of(program: Program, sessions: int, pairs: int, min_group_size: int) -> Cohort:
    people = [
        Participant(id=f"{role[0]}{i}", name=f"{role} {i}", email=f"{role}{i}@x.org", role=role)
        for i in range(pairs)
        for role in ("junior", "senior")
    ]
    return Cohort(
        name="synthetic",
        course_id="synthetic",
        curriculum="curriculum/program.yml",
        created="2025-01-01",
        min_group_size=min_group_size,
        participants=people,
        pairs=[Pair(id=f"pair-{i:02d}", junior=f"j{i}", senior=f"s{i}") for i in range(pairs)],
        released=[s.id for s in program.sessions[:sessions]],
    )


def modules_of(cohort: Cohort) -> list[Module]:
    return [m for s in PROGRAM.sessions if s.id in cohort.released for m in s.modules]


def checkpoint(
    module: Module,
    learner: str,
    status: str,
    percent: float = 0.0,
    pending: bool = False,
    ratings: dict[str, tuple[int, int]] | None = None,
    feedback: dict[str, int | None] | None = None,
) -> Checkpoint:
    ratings = ratings or {}
    return {
        "module": module.id,
        "track": module.track,
        "learner": learner,
        "status": status,
        "auto_percent": percent if status == "graded" else None,
        "manual_pending": pending and status == "graded",
        "self_assessment": {
            "before": {k: b for k, (b, _) in ratings.items()},
            "after": {k: a for k, (_, a) in ratings.items()},
        },
        "feedback_to_lead": feedback,
        "shared_reflections": [],
    }


# --- random cohorts -------------------------------------------------------------------


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[Cohort, list[dict[str, Any]], list[str]]:
    cohort = cohort_of(
        PROGRAM,
        sessions=draw(st.integers(1, 2)),
        pairs=draw(st.integers(0, 13)),
        min_group_size=draw(st.sampled_from([2, 3, 5, 5])),
    )
    # Each cohort leans one way, so that counts land on both sides of the minimum.
    missing = draw(st.sampled_from([0.0, 0.1, 0.5]))
    pairs = []
    for pair in cohort.pairs:
        checkpoints = []
        for module in modules_of(cohort):
            learner = pair.member(module.learner)
            if draw(st.floats(0, 1)) < missing:
                checkpoints.append(checkpoint(module, learner, "missing"))
                continue
            status = draw(st.sampled_from(["graded", "graded", "submitted"]))
            rated = draw(st.lists(st.sampled_from(module.competencies), unique=True))
            aspect = st.none() | st.integers(1, 5)
            feedback = draw(st.none() | st.fixed_dictionaries({a: aspect for a in ASPECTS}))
            checkpoints.append(
                checkpoint(
                    module,
                    learner,
                    status,
                    percent=draw(st.sampled_from([0.0, 40.0, 75.0, 100.0])),
                    pending=draw(st.booleans()),
                    ratings={c: (draw(st.integers(1, 5)), draw(st.integers(1, 5))) for c in rated},
                    feedback=feedback,
                )
            )
        pairs.append({"id": pair.id, "checkpoints": checkpoints})
    needing = [p.id for p in cohort.pairs if draw(st.booleans())]
    return cohort, pairs, needing


# --- the groups behind each figure, recomputed from the raw data --------------------------


class Figures:
    """Each figure of the programme report with the set of people (or pairs) behind it,
    and the structural relations a reader knows: which group lies inside which."""

    def __init__(self, cohort: Cohort, pairs: list[dict[str, Any]], needing: list[str]) -> None:
        self.minimum = cohort.min_group_size
        self.known: dict[str, frozenset[Any]] = {}  # figure -> group, for published figures
        self.inside: list[tuple[str, str]] = []  # (outer, inner): inner is within outer
        every = [c for p in pairs for c in p["checkpoints"]]
        self.pairs = frozenset(p["id"] for p in pairs)
        self.groups: dict[str, frozenset[Any]] = {"pairs": self.pairs}
        for module in modules_of(cohort):
            results = [c for c in every if c["module"] == module.id]

            def of(keep: Any, results: list[Checkpoint] = results) -> frozenset[Any]:
                return frozenset((c["learner"], c["module"]) for c in results if keep(c))

            m = module.id
            self.groups[f"{m}/expected"] = of(lambda c: True)
            self.groups[f"{m}/submitted"] = of(lambda c: c["status"] != "missing")
            self.groups[f"{m}/graded"] = of(lambda c: c["status"] == "graded")
            self.groups[f"{m}/pending"] = of(lambda c: c["manual_pending"])
            chain = [f"{m}/expected", f"{m}/submitted", f"{m}/graded", f"{m}/pending"]
            self.inside += [(a, b) for i, a in enumerate(chain) for b in chain[i + 1 :]]
            for comp in module.competencies:
                key = f"{m}/growth/{comp}"
                self.groups[key] = of(
                    lambda c, comp=comp: (
                        comp in c["self_assessment"]["before"]
                        and comp in c["self_assessment"]["after"]
                    )
                )
                self.inside += [(f"{m}/expected", key), (f"{m}/submitted", key)]
            by_pair = {p["id"] for p in pairs for c in p["checkpoints"] if c["module"] == m}
            self.groups[f"{m}/submitted-pairs"] = frozenset(
                p["id"]
                for p in pairs
                if p["id"] in by_pair
                and all(c["status"] != "missing" for c in p["checkpoints"] if c["module"] == m)
            )
            self.inside.append(("pairs", f"{m}/submitted-pairs"))
        for track in ("tech", "management"):
            mine = [c for c in every if c["track"] == track]
            rated = [c for c in mine if c["feedback_to_lead"]]
            self.groups[f"{track}/items"] = frozenset((c["learner"], c["module"]) for c in mine)
            self.groups[f"{track}/submitted"] = frozenset(
                (c["learner"], c["module"]) for c in mine if c["status"] != "missing"
            )
            self.groups[f"{track}/ratings"] = frozenset((c["learner"], c["module"]) for c in rated)
            self.groups[f"{track}/learners"] = frozenset((c["learner"],) for c in mine)
            self.groups[f"{track}/raters"] = frozenset((c["learner"],) for c in rated)
            self.inside += [
                (f"{track}/items", f"{track}/submitted"),
                (f"{track}/items", f"{track}/ratings"),
                (f"{track}/submitted", f"{track}/ratings"),
                (f"{track}/learners", f"{track}/raters"),
            ]
            for aspect in ASPECTS:
                self.groups[f"{track}/{aspect}"] = frozenset(
                    (c["learner"],) for c in rated if c["feedback_to_lead"].get(aspect) is not None
                )
        for session in PROGRAM.sessions:
            if session.id in cohort.released:
                ids = {m.id for m in session.modules}
                self.groups[f"{session.id}/complete"] = frozenset(
                    p["id"]
                    for p in pairs
                    if all(c["status"] != "missing" for c in p["checkpoints"] if c["module"] in ids)
                )
                self.inside += [("pairs", f"{session.id}/complete")] + [
                    (f"{m}/submitted-pairs", f"{session.id}/complete") for m in ids
                ]
        self.groups["needing"] = frozenset(needing)
        self.inside.append(("pairs", "needing"))
        self.structural = {"pairs"} | {
            k for k in self.groups if k.endswith(("/expected", "/items", "/learners"))
        }

    def people(self, key: str) -> int:
        return len({item[0] if isinstance(item, tuple) else item for item in self.groups[key]})

    def small(self, group: frozenset[Any]) -> bool:
        people = {item[0] if isinstance(item, tuple) else item for item in group}
        return 0 < len(people) < self.minimum


def check_published(figures: Figures, key: str, value: Any) -> None:
    """A published count equals its group's size and is about no one or enough people; a
    marker is one of the two, and "fewer than N" is true."""
    group = figures.groups[key]
    if isinstance(value, int):
        assert value == len(group), key
        assert not figures.small(group), (key, value)
        figures.known[key] = group
    else:
        assert value in (
            f"fewer than {figures.minimum}",
            f"fewer than {figures.minimum} people",
            "not shown",
        ), (key, value)
        if value.startswith("fewer than"):
            assert figures.small(group), (key, value)


def check_mean(figures: Figures, key: str, value: Any) -> None:
    if value is not None:
        assert figures.people(key) >= figures.minimum, (key, value)


def check_no_small_group_can_be_derived(figures: Figures) -> None:
    known = dict(figures.known)
    for key in figures.structural:
        known[key] = figures.groups[key]
    # A module's submitted count is also a count of pairs; the tracks' sum is known.
    for key in list(known):
        if (
            key.endswith("/submitted")
            and key.count("/") == 1
            and key[: key.index("/")] not in ("tech", "management")
        ):
            known[key + "-pairs"] = figures.groups[key + "-pairs"]
    for track in ("tech", "management"):
        parts = [
            k
            for k in figures.groups
            if k.endswith("/submitted")
            and k.split("/")[0] in {m.id for m in PROGRAM.modules if m.track == track}
        ]
        if all(p in known for p in parts):
            known[f"{track}/submitted"] = figures.groups[f"{track}/submitted"]
    # Transitive closure of "inside", then every difference of two known nested groups.
    inside = set(figures.inside)
    while True:
        more = {(a, d) for a, b in inside for c, d in inside if b == c} - inside
        if not more:
            break
        inside |= more
    for outer, inner in inside:
        if outer in known and inner in known:
            diff = known[outer] - known[inner]
            assert not figures.small(diff), f"{outer} - {inner} = {len(diff)} from too few"
    # With both modules' submitted counts and the complete pairs published, the pairs where
    # neither learner submitted are known too (inclusion-exclusion).
    for key in [k for k in known if k.endswith("/complete")]:
        session = PROGRAM.session(key.split("/")[0])
        handed = [f"{m.id}/submitted-pairs" for m in session.modules]
        if all(h in known for h in handed):
            neither = figures.pairs - frozenset().union(*(known[h] for h in handed))
            assert not figures.small(neither), f"pairs where neither submitted, via {key}"


def check_programme(
    cohort: Cohort, pairs: list[dict[str, Any]], needing: list[str]
) -> dict[str, Any]:
    data = programme_data(cohort, PROGRAM, modules_of(cohort), pairs, needing)
    figures = Figures(cohort, pairs, needing)
    for row in data["modules"]:
        m = row["module"]
        assert row["expected"] == len(figures.groups[f"{m}/expected"])
        check_published(figures, f"{m}/submitted", row["submitted"])
        check_published(figures, f"{m}/graded", row["n"])
        check_published(figures, f"{m}/pending", row["manual_pending"])
        check_mean(figures, f"{m}/graded", row["mean_percent"])
        check_mean(figures, f"{m}/graded", row["median_percent"])
    mastery_by_module: dict[str, set[str]] = {}
    for row in data["mastery"]:
        module = next(m for m in modules_of(cohort) if row["competency"] in m.competencies)
        check_published(figures, f"{module.id}/graded", row["n"])
        check_mean(figures, f"{module.id}/graded", row["mean_percent"])
        mastery_by_module.setdefault(module.id, set()).add(str(row["n"]))
    assert all(len(v) == 1 for v in mastery_by_module.values())  # one decision per group
    for row in data["growth"]:
        key = f"{row['module']}/growth/{row['competency']}"
        check_published(figures, key, row["n"])
        for value in (row["before"], row["after"], row["change"]):
            check_mean(figures, key, value)
    for row, track in zip(data["teaching"], ("tech", "management"), strict=True):
        check_published(figures, f"{track}/ratings", row["n"])
        check_published(figures, f"{track}/raters", row["people"])
        for aspect in ASPECTS:
            check_mean(figures, f"{track}/{aspect}", row[aspect])
    for row in data["completion"]:
        check_published(figures, f"{row['session']}/complete", row["complete"])
        assert (row["percent"] is None) == (not isinstance(row["complete"], int) or not pairs)
    check_published(figures, "needing", data["pairs_needing_checkin"])
    for row in data["confidence"]:
        assert row["change"] is not None and row["mean_percent"] is not None
    check_no_small_group_can_be_derived(figures)
    return data


@settings(max_examples=150, deadline=None)
@given(cohorts())
def test_no_published_figure_rests_on_fewer_than_the_minimum(
    case: tuple[Cohort, list[dict[str, Any]], list[str]],
) -> None:
    check_programme(*case)


# --- known cohorts ------------------------------------------------------------------------


def ordinary_cohort(
    pairs: int = 12, missing: int = 0, one_pace: bool = False
) -> tuple[Cohort, list[dict[str, Any]], list[str]]:
    """One session released; every learner graded (but the last ``missing`` learners of the
    tech module); half of them with written answers still to grade; all rate themselves
    2 -> 4 and their lead 4/5/3 (or, with ``one_pace``, only the first rates the pace)."""
    cohort = cohort_of(PROGRAM, sessions=1, pairs=pairs, min_group_size=5)
    data = []
    for i, pair in enumerate(cohort.pairs):
        checkpoints = []
        for module in modules_of(cohort):
            learner = pair.member(module.learner)
            if module.track == "tech" and i >= pairs - missing:
                checkpoints.append(checkpoint(module, learner, "missing"))
                continue
            pace = 3 if (i == 0 or not one_pace) else None
            checkpoints.append(
                checkpoint(
                    module,
                    learner,
                    "graded",
                    percent=50.0 + 4 * i,
                    pending=i % 2 == 0,
                    ratings={c: (2, 4) for c in module.competencies},
                    feedback={"clarity": 4, "relevance": 5, "pace": pace},
                )
            )
        data.append({"id": pair.id, "checkpoints": checkpoints})
    return cohort, data, ["pair-00", "pair-01"]


def test_a_12_pair_cohort_with_ordinary_data_keeps_its_figures() -> None:
    data = check_programme(*ordinary_cohort())
    tech, management = data["modules"]
    assert (tech["expected"], tech["submitted"], tech["n"], tech["manual_pending"]) == (
        12,
        12,
        12,
        6,
    )
    assert (tech["suppressed"], tech["mean_percent"], tech["median_percent"]) == (False, 72.0, 72.0)
    assert management["submitted"] == 12 and management["mean_percent"] == 72.0
    growth = {g["competency"]: g for g in data["growth"]}
    assert (growth["social-networking"]["n"], growth["social-networking"]["change"]) == (12, 2.0)
    juniors, seniors = data["teaching"]
    assert (juniors["people"], juniors["n"], juniors["clarity"], juniors["pace"]) == (
        12,
        12,
        4.0,
        3.0,
    )
    assert seniors["relevance"] == 5.0
    [session] = data["completion"]
    assert (session["complete"], session["percent"]) == (12, 100.0)
    assert {m["competency"]: m["mean_percent"] for m in data["mastery"]}[
        "root-cause-analysis"
    ] == 72.0
    assert len(data["confidence"]) == 4
    assert data["pairs_needing_checkin"] == "fewer than 5"  # two pairs


def test_one_missing_learner_cannot_be_read_off_submitted_of_expected() -> None:
    data = check_programme(*ordinary_cohort(missing=1))
    tech, management = data["modules"]
    # "Submitted 11 of 12" would tell that one senior did not: withheld, in every table
    # that could tell it (graded 11 of 12, complete pairs 11 of 12).
    assert (tech["expected"], tech["submitted"], tech["n"]) == (12, "not shown", "not shown")
    assert tech["mean_percent"] == 70.0  # the mean rests on 11 people: it stays
    [session] = data["completion"]
    assert (session["complete"], session["percent"], session["suppressed"]) == (
        "not shown",
        None,
        True,
    )
    assert management["submitted"] == 12  # the other direction is whole: shown
    assert {row["n"] for row in data["mastery"] if row["direction"] == tech["direction"]} == {
        "not shown"
    }


def test_an_aspect_rated_by_one_learner_is_not_shown() -> None:
    data = check_programme(*ordinary_cohort(one_pace=True))
    juniors, seniors = data["teaching"]
    assert (juniors["clarity"], juniors["relevance"], juniors["pace"]) == (4.0, 5.0, None)
    assert seniors["pace"] is None and juniors["people"] == 12


def test_a_three_pair_cohort_shows_no_count_of_people() -> None:
    data = check_programme(*ordinary_cohort(pairs=3))
    for row in data["modules"]:
        # "Submitted 3 of 3" and "0 written answers to grade" both tell about 3 people.
        assert row["submitted"] == row["n"] == "fewer than 5"
        assert row["manual_pending"] in ("fewer than 5", "not shown")
        assert row["mean_percent"] is None
    assert [c["complete"] for c in data["completion"]] == ["fewer than 5"]
    for row in data["teaching"]:
        assert (row["people"], row["n"]) == ("fewer than 5", "fewer than 5 people")
        assert row["clarity"] is None
    assert all(g["n"] == "fewer than 5" and g["change"] is None for g in data["growth"])


def test_pairs_where_neither_learner_submitted_cannot_be_worked_out() -> None:
    # 17 pairs: seniors of pairs 0-9 and juniors of pairs 5-14 submitted. Each module's
    # "10 of 17" and the complete pairs (5) are safe alone, but together they tell that
    # exactly 2 pairs (15, 16) handed in nothing: 17 - 10 - 10 + 5.
    cohort = cohort_of(PROGRAM, sessions=1, pairs=17, min_group_size=5)
    pairs = []
    for i, pair in enumerate(cohort.pairs):
        checkpoints = []
        for module in modules_of(cohort):
            done = i < 10 if module.track == "tech" else 5 <= i < 15
            status = "graded" if done else "missing"
            checkpoints.append(checkpoint(module, pair.member(module.learner), status, 60.0))
        pairs.append({"id": pair.id, "checkpoints": checkpoints})
    data = check_programme(cohort, pairs, [])
    assert [m["submitted"] for m in data["modules"]] == [10, 10]
    [session] = data["completion"]
    assert session["complete"] == "not shown"
