"""Returning feedback to learners with nbgrader's generate_feedback and release_feedback.

Feedback goes out only once a learner's checkpoint is fully graded: autograded, and the
written answer graded by hand in formgrader. Until then the command refuses, listing
what is pending, unless forced. A submission whose grading run did not finish (killed,
failed) has no grade at all, forced or not: it is listed as not graded, and why.

With each learner's feedback goes a page from their partner, the module's lead: the lead's
ratings of the learner beside the learner's own (before and after) and the lead's
feedback (situation, behaviour, impact, one thing to try next), from the two check-ins.
nbgrader's release publishes every ``*.html`` of ``feedback/<learner>/<module>/``, but its
fetch brings a learner only the pages named after a notebook *of their submission*; so the
page is written as ``<lesson>.html``, named after the module's lesson notebook, which
travels in every submission. A learner whose submission lacks the lesson notebook cannot
fetch it: the result says so. Everything the partner typed is escaped.

Every page released to a learner (nbgrader's and the partner page) embeds a summary a
program can read, ``<script type="application/json" id="tandem-feedback-summary">``: the
module, the score and its maximum, their parts, and when it was released (see
:func:`feedback_summary`). The participant's "My programme" page reads it from the pages
they fetched (:mod:`tandem.hub.programme`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tandem import htmlpage
from tandem.cohort.exchange import read_checkins, require_released
from tandem.cohort.workspace import Cohort, Workspace
from tandem.curriculum.manifest import Module, Program
from tandem.errors import CohortError, TandemError
from tandem.fsutil import atomic_write_text
from tandem.grading.checkpoints import unfinished_grading
from tandem.grading.scores import Score, read_scores
from tandem.grading.unfinished import Unfinished, unfinished_note
from tandem.notebook.checkin import CheckIn


class FeedbackPending(TandemError):
    """Manual grading is not finished."""


@dataclass
class FeedbackResult:
    released: list[tuple[str, str]] = field(default_factory=list)  # (module, learner)
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    unfinished: list[Unfinished] = field(default_factory=list)  # among not_graded
    partner_pages: list[tuple[str, str]] = field(default_factory=list)  # (module, learner)
    unreachable: list[tuple[str, str]] = field(default_factory=list)  # page not fetchable

    @property
    def notes(self) -> list[str]:
        """Why some of ``not_graded`` have no grade (their grading did not finish), and
        which learners cannot fetch their partner's page (no lesson notebook submitted)."""
        return unfinished_note(self.unfinished) + [
            f"{learner} on {module}: their partner's feedback page cannot reach them (their "
            "submission has no lesson notebook, and nbgrader fetches only pages named after "
            "a submitted notebook)"
            for module, learner in self.unreachable
        ]


def release_feedback(root: Path | str, session_id: str, *, force: bool = False) -> FeedbackResult:
    """Generate and release feedback to every graded learner of a session's modules."""
    ws = Workspace(root)
    with ws.locked():
        cohort = ws.load()
        program = ws.program(cohort)
        require_released(root, cohort, program, session_id)
        result = FeedbackResult()
        ready: list[tuple[str, str]] = []
        pending: list[str] = []
        modules = list(program.session(session_id).modules)
        result.unfinished = unfinished_grading(ws, cohort, modules)
        scores = read_scores(ws, cohort, [m.id for m in modules])
        for module in modules:
            for _, learner in cohort.learners(module):
                score = scores.get((module.id, learner))
                if score is None:
                    result.not_graded.append((module.id, learner))
                elif score.manual_pending and not force:
                    pending.append(f"{learner} on {module.id}")
                else:
                    ready.append((module.id, learner))
        if pending:
            raise FeedbackPending(
                f"written answers still to grade in formgrader: {', '.join(pending)} "
                "(or use --force to release what is graded so far)"
            )
        api = ws.nbgrader_api()
        checkins = {m.id: read_checkins(ws, cohort, m.id)[0] for m in modules}
        for module_id, learner in ready:
            _nbgrader_step(api.generate_feedback, module_id, learner)
            module = program.module(module_id)
            written = write_partner_page(ws, cohort, program, module, learner, checkins[module_id])
            if written is not None:
                result.partner_pages.append((module_id, learner))
                if not (ws.submission_dir(learner, module_id) / f"{written.stem}.ipynb").is_file():
                    result.unreachable.append((module_id, learner))
            summary = feedback_summary(module_id, scores[(module_id, learner)])
            for html_page in sorted((ws.folder("feedback") / learner / module_id).glob("*.html")):
                embed_summary(html_page, summary)
            _nbgrader_step(api.release_feedback, module_id, learner)
            result.released.append((module_id, learner))
    return result


#: The id of the JSON summary embedded in every released feedback page.
SUMMARY_ID = "tandem-feedback-summary"
_SUMMARY = re.compile(
    rf'<script type="application/json" id="{SUMMARY_ID}">.*?</script>\n?', re.DOTALL
)


def feedback_summary(module_id: str, score: Score, when: datetime | None = None) -> dict[str, Any]:
    """What a feedback page embeds: ``score`` is nbgrader's total (autograded plus written,
    less any late penalty, never below 0) out of ``max_score``; ``written_pending`` is true
    when feedback went out (``--force``) before the written answer was graded."""
    total = max(score.auto_score + (score.manual_score or 0.0) - score.penalty, 0.0)
    return {
        "schema_version": 1,
        "module": module_id,
        "score": total,
        "max_score": score.auto_max + score.manual_max,
        "autograded": score.auto_score,
        "autograded_max": score.auto_max,
        "written": score.manual_score,
        "written_max": score.manual_max,
        "written_pending": score.manual_pending,
        "late": score.late,
        "penalty": score.penalty,
        "when": (when or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
    }


def embed_summary(path: Path, summary: dict[str, Any]) -> None:
    """Put ``summary`` into the page at ``path`` (before ``</body>``), replacing an earlier
    one; every ``<`` of the JSON is written ``\\u003c``, so no text in it ends the script."""
    text = _SUMMARY.sub("", path.read_text(encoding="utf-8"))
    data = json.dumps(summary, ensure_ascii=True).replace("<", "\\u003c")
    block = f'<script type="application/json" id="{SUMMARY_ID}">{data}</script>\n'
    end = text.rfind("</body>")
    text = text[:end] + block + text[end:] if end >= 0 else text + block
    atomic_write_text(path, text)


def _nbgrader_step(step: Any, module_id: str, learner: str) -> None:
    outcome = step(module_id, learner)
    if not outcome.get("success"):
        text = (outcome.get("error") or outcome.get("log") or "").strip()
        raise CohortError(
            f"nbgrader {step.__name__} failed for {learner} on "
            f"{module_id}: {text.splitlines()[-1] if text else ''}"
        )


def write_partner_page(
    ws: Workspace,
    cohort: Cohort,
    program: Program,
    module: Module,
    learner: str,
    checkins: dict[str, CheckIn],
) -> Path | None:
    """Write the page from ``learner``'s partner (the module's lead) into the learner's
    feedback folder of ``module``, beside nbgrader's pages; ``None`` when the lead left
    no rating and no feedback (no page is written, an old one is removed)."""
    pair = cohort.pair_of(learner)
    lead = checkins.get(pair.member(module.lead)) if pair is not None else None
    path = ws.folder("feedback") / learner / module.id / f"{program.lesson_path(module).stem}.html"
    given = lead is not None and (
        any(lead.partner_rating.values()) or (lead.lead_feedback and lead.lead_feedback.given)
    )
    if lead is None or not given:
        path.unlink(missing_ok=True)
        return None
    own = checkins.get(learner)
    titles = {c: program.competency(c).title for c in module.competencies}
    body = partner_page_body(module, titles, lead, own)
    atomic_write_text(path, htmlpage.page(f"Feedback from your partner: {module.title}", body))
    return path


FEEDBACK_PARTS = (
    ("situation", "Situation"),
    ("behaviour", "Behaviour"),
    ("impact", "Impact"),
    ("try_next", "One thing to try next"),
)


def partner_page_body(
    module: Module, titles: dict[str, str], lead: CheckIn, own: CheckIn | None
) -> str:
    """The page's body: the ratings side by side, then the lead's feedback (escaped)."""
    mine = own.self_assessment if own is not None else {}
    theirs = lead.partner_rating
    rows = [
        (
            titles.get(c, c),
            mine.get("before", {}).get(c),
            mine.get("after", {}).get(c),
            theirs.get("before", {}).get(c),
            theirs.get("after", {}).get(c),
        )
        for c in module.competencies
    ]
    parts = [
        f"<h1>Feedback from your partner: {htmlpage.escape(module.title)}</h1>",
        "<p>Your partner led this module. Here are their ratings of you (1 = new to this, "
        "5 = could teach it) beside your own, and the feedback they gave you. Your "
        "facilitator is shown only that feedback was given, not its text, unless you both "
        "agreed to share it.</p>",
        "<h2>Ratings</h2>",
        htmlpage.table(
            [
                "competency",
                "you, before",
                "you, after",
                "your partner, before",
                "your partner, after",
            ],
            rows,
        ),
        "<h2>Feedback</h2>",
    ]
    feedback = lead.lead_feedback
    if feedback is None or not feedback.given:
        parts.append("<p>Your partner did not write feedback for this module.</p>")
    else:
        for name, label in FEEDBACK_PARTS:
            text = getattr(feedback, name).strip()
            if text:
                shown = htmlpage.escape(text).replace("\n", "<br>")
                parts.append(f"<h3>{htmlpage.escape(label)}</h3>\n<p>{shown}</p>")
    return "\n".join(parts)
