"""Returning feedback to learners with nbgrader's generate_feedback and release_feedback.

Feedback goes out only once a learner's checkpoint is fully graded: autograded, and the
written answer graded by hand in formgrader. Until then the command refuses, listing
what is pending, unless forced. A submission whose grading run did not finish (killed,
failed) has no grade at all, forced or not: it is listed as not graded, and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tandem.cohort.exchange import require_released
from tandem.cohort.workspace import Workspace
from tandem.errors import CohortError, TandemError
from tandem.grading.checkpoints import unfinished_grading
from tandem.grading.scores import read_scores
from tandem.grading.unfinished import Unfinished, unfinished_note


class FeedbackPending(TandemError):
    """Manual grading is not finished."""


@dataclass
class FeedbackResult:
    released: list[tuple[str, str]] = field(default_factory=list)  # (module, learner)
    not_graded: list[tuple[str, str]] = field(default_factory=list)
    unfinished: list[Unfinished] = field(default_factory=list)  # among not_graded

    @property
    def notes(self) -> list[str]:
        """Why some of ``not_graded`` have no grade: their grading did not finish."""
        return unfinished_note(self.unfinished)


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
        for module_id, learner in ready:
            for step in (api.generate_feedback, api.release_feedback):
                outcome = step(module_id, learner)
                if not outcome.get("success"):
                    text = (outcome.get("error") or outcome.get("log") or "").strip()
                    raise CohortError(
                        f"nbgrader {step.__name__} failed for {learner} on "
                        f"{module_id}: {text.splitlines()[-1] if text else ''}"
                    )
            result.released.append((module_id, learner))
    return result
