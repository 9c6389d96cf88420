"""The widgets for notebook authors: ``from tandem.widgets import reflection, ...``.

A stable name for :mod:`tandem.notebook.widgets` and :mod:`tandem.notebook.outcome_widgets`;
released notebooks of running cohorts import it, so it stays."""

from __future__ import annotations

from tandem.notebook.followup_widget import followup_questions as followup_questions
from tandem.notebook.idea_widget import improvement_idea as improvement_idea
from tandem.notebook.outcome_widgets import lead_feedback, partner_rating, safety_pulse
from tandem.notebook.widgets import Where, reflection, self_assessment, session_feedback

__all__ = [
    "Where",
    "lead_feedback",
    "partner_rating",
    "reflection",
    "safety_pulse",
    "self_assessment",
    "session_feedback",
]
