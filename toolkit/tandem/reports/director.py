"""A one-page outcome summary for a director, in the four levels of Kirkpatrick's model
that Tandem measures: reaction, learning and behaviour, in both directions.

Every figure is computed once, for the programme report (:func:`direction_summary` adds
the per-direction table the programme report shows; the rest are its existing tables),
and :func:`director_data` only *selects* from the programme report's data: the director
page cannot show a figure the programme report does not, nor a different value. Every
figure went through the programme report's :class:`~tandem.reports.suppression.Disclosure`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tandem.htmlpage import escape
from tandem.reports.suppression import Disclosure, Group

DIRECTIONS = {"tech": "seniors learning tech", "management": "juniors learning management"}
TAUGHT_BY = {
    "seniors learning tech": "juniors teaching seniors",
    "juniors learning management": "seniors teaching juniors",
}


def _checkpoints(rows: Iterable[dict[str, Any]]) -> Group:
    return frozenset(("checkpoint", c["learner"], c["module"]) for c in rows)


def direction_summary(pairs: list[dict[str, Any]], d: Disclosure) -> list[dict[str, Any]]:
    """Per direction: the share of the direction's modules whose lead gave the learner
    feedback (percent of learner-module checkpoints), the mean self growth and lead's-rating
    growth (over learner-modules with a growth) and the mean autograded mastery (%)."""
    rows = []
    for track, direction in DIRECTIONS.items():
        everyone = [c for p in pairs for c in p["checkpoints"] if c.get("track") == track]
        expected = d.total(_checkpoints(everyone))
        given = [c for c in everyone if (c.get("lead_feedback") or {}).get("given")]
        count = d.count(_checkpoints(given))
        share = round(100 * count / expected) if isinstance(count, int) and expected else None
        row: dict[str, Any] = {
            "direction": direction,
            "modules": expected,
            "feedback_given": count,
            "feedback_given_percent": share,
        }
        for name in ("self_growth", "partner_growth"):
            known = [c for c in everyone if c.get(name) is not None]
            row[f"{name}_people"] = len({c["learner"] for c in known})
            row[name] = d.mean([(c["learner"], c[name]) for c in known], 2)
        graded = [c for c in everyone if c.get("status") == "graded"]
        row["mastery_percent"] = d.mean([(c["learner"], c["auto_percent"]) for c in graded], 1)
        rows.append(row)
    return rows


def director_data(programme: dict[str, Any]) -> dict[str, Any]:
    """The director page's figures, selected from the programme report's data."""
    summary = {r["direction"]: r for r in programme.get("summary", [])}
    teaching = {r["direction"]: r for r in programme.get("teaching", [])}
    reaction = []
    for direction, taught_by in TAUGHT_BY.items():
        rated = teaching.get(taught_by, {})
        given = summary.get(direction, {})
        reaction.append(
            {
                "direction": direction,
                "people": rated.get("people"),
                "clarity": rated.get("clarity"),
                "relevance": rated.get("relevance"),
                "pace": rated.get("pace"),
                "feedback_given_percent": given.get("feedback_given_percent"),
            }
        )
    learning = [
        {
            "direction": r["direction"],
            "self_growth": r["self_growth"],
            "partner_growth": r["partner_growth"],
            "mastery_percent": r["mastery_percent"],
        }
        for r in programme.get("summary", [])
    ]
    return {
        "cohort": programme["cohort"],
        "min_group_size": programme["min_group_size"],
        "generated_at": programme["generated_at"],
        "reaction": reaction,
        "learning": learning,
        "ideas_total": programme.get("ideas_total", {}),
        "ideas_by_direction": programme.get("ideas_by_direction", []),
        "followup": programme.get("followup", []),
    }


def shown(value: Any, fewer: str, digits: int | None = None, unit: str = "") -> str:
    """A figure as both pages print it: a marker as it is, none as ``fewer``."""
    if value is None:
        return fewer
    if isinstance(value, str):
        return value
    if digits is not None:
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def director_body(data: dict[str, Any]) -> str:
    """The director page's HTML body: every value escaped."""
    fewer = f"fewer than {data['min_group_size']:d}"
    reaction = _table(
        ["Direction", "Learners who rated", "Clarity", "Relevance", "Pace", "Lead gave feedback"],
        [
            [
                r["direction"],
                shown(r["people"], fewer),
                shown(r["clarity"], fewer, 1),
                shown(r["relevance"], fewer, 1),
                shown(r["pace"], fewer, 1),
                shown(r["feedback_given_percent"], "not shown", unit="% of modules"),
            ]
            for r in data["reaction"]
        ],
    )
    learning = _table(
        ["Direction", "Self growth", "Growth (lead's rating)", "Checkpoint mastery"],
        [
            [
                r["direction"],
                shown(r["self_growth"], fewer, 2),
                shown(r["partner_growth"], fewer, 2),
                shown(r["mastery_percent"], fewer, 1, "%"),
            ]
            for r in data["learning"]
        ],
    )
    columns = ("raised", "trialled", "adopted", "declined")
    total = data["ideas_total"]
    pairs = f"{fewer} pairs"  # idea counts rest on the pairs behind them
    ideas = _table(
        ["Ideas", *columns],
        [["all", *(shown(total.get(c), pairs) for c in columns)]]
        + [
            [r["direction"], *(shown(r.get(c), pairs) for c in columns)]
            for r in data["ideas_by_direction"]
        ],
    )
    followup = _table(
        ["Direction", "Still use it (learners, 1-5)", "See the partner use it (leads, 1-5)"],
        [
            [r["direction"], shown(r["still_use"], fewer, 2), shown(r["partner_uses"], fewer, 2)]
            for r in data["followup"]
        ],
    )
    return "\n".join(
        [
            f"<h1>{escape(data['cohort'])}: outcomes at a glance</h1>",
            "<p>Both directions of the programme: seniors learning tech from juniors, and "
            "juniors learning management from seniors. Every figure is the programme "
            "report's own, over at least "
            f"{data['min_group_size']:d} people (idea counts: pairs); a smaller group reads "
            f"\u201c{escape(fewer)}\u201d. The full report is "
            '<a href="index.html">here</a>.</p>',
            "<h2>Reaction: how the teaching landed</h2>",
            "<p>The learners' mean ratings of their lead's teaching (1-5), and the share of "
            "modules where the lead gave the learner feedback.</p>",
            reaction,
            "<h2>Learning</h2>",
            "<p>Mean growth from the start to the end of a module (1-5 scale), by the "
            "learner's own ratings and by the lead's; mean autograded checkpoint score.</p>",
            learning,
            "<h2>Behaviour: ideas from fresh eyes</h2>",
            "<p>Improvement ideas the partners raised, and what came of them.</p>",
            ideas,
            "<h2>Behaviour: three months on</h2>",
            "<p>How often people still use what their partner taught them, and how often "
            "the partner who taught it sees it used (1 = never, 5 = every week).</p>",
            followup if data["followup"] else "<p><em>No follow-up yet.</em></p>",
        ]
    )


DIRECTOR_COLUMNS = ("section", "direction", "figure", "value")


def director_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The director page's figures as export rows: a number, or the page's marker
    ("fewer than N", "not shown") where the figure is suppressed."""
    fewer = f"fewer than {data['min_group_size']:d}"
    rows: list[dict[str, Any]] = []

    def add(section: str, direction: str, figure: str, value: Any) -> None:
        rows.append(
            {
                "section": section,
                "direction": direction,
                "figure": figure,
                "value": fewer if value is None else value,
            }
        )

    for r in data["reaction"]:
        for figure in ("people", "clarity", "relevance", "pace", "feedback_given_percent"):
            add("reaction", r["direction"], figure, r[figure])
    for r in data["learning"]:
        for figure in ("self_growth", "partner_growth", "mastery_percent"):
            add("learning", r["direction"], figure, r[figure])
    statuses = ("raised", "trialled", "adopted", "declined")
    for status in statuses:
        add("behaviour: ideas", "all", status, data["ideas_total"].get(status))
    for r in data["ideas_by_direction"]:
        for status in statuses:
            add("behaviour: ideas", r["direction"], status, r.get(status))
    for r in data["followup"]:
        for figure in ("still_use", "partner_uses"):
            add("behaviour: three months on", r["direction"], figure, r[figure])
    return rows
