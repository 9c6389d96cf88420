"""The widgets for notebook authors: ``from tandem.widgets import reflection, ...``.

A stable name for :mod:`tandem.notebook.widgets`; released notebooks of running cohorts
import it, so it stays."""

from __future__ import annotations

from tandem.notebook.widgets import Where, reflection, self_assessment, session_feedback

__all__ = ["Where", "reflection", "self_assessment", "session_feedback"]
