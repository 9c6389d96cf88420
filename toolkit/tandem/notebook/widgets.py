"""Reflection, self-assessment and session-feedback widgets for lesson notebooks.

Each is one call in a cell. Answers are saved as the participant types (debounced)
and on Save, into the author's private store (:mod:`tandem.notebook.store`); what the
participant shares goes to the check-in file in the assignment folder
(:mod:`tandem.notebook.checkin`). Re-running a cell restores the last saved answer from the
store. A failed save is shown in the widget (``NOT SAVED: <reason>``) and the text
stays in the box.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import ipywidgets as w

from tandem.notebook.checkin import CheckIn, Context, load_context, participant_id, update_checkin
from tandem.notebook.store import Key, Revision, Store, StoreError

OUTSIDE_COHORT = "no-cohort"
DEBOUNCE_SECONDS = 1.0
RATINGS = [(str(i), i) for i in range(1, 6)]
FEEDBACK_ASPECTS = {
    "clarity": "Clarity: I understood the explanations",
    "relevance": "Relevance: it applies to my work",
    "pace": "Pace: the speed suited me",
}


@dataclass
class Where:
    """Who is answering, and where their answers go."""

    participant: str
    context: Context | None
    store: Store

    @classmethod
    def here(cls) -> Where:
        return cls(participant_id(), load_context(), Store())

    @property
    def in_cohort(self) -> bool:
        return self.context is not None and self.context.member(self.participant) is not None

    @property
    def cohort(self) -> str:
        return self.context.course_id if self.context and self.in_cohort else OUTSIDE_COHORT

    def module(self, fallback: str) -> str:
        return self.context.module if self.context and self.in_cohort else fallback

    def key(self, prompt: str, module: str) -> Key:
        return Key(self.participant, self.cohort, self.module(module), prompt)

    @property
    def leads(self) -> bool:
        member = self.context.member(self.participant) if self.context else None
        return member is not None and member.leads == "yes"

    def share(self, module: str, change: Callable[[CheckIn], None]) -> None:
        """Update this participant's check-in, if they are working inside a cohort."""
        if self.context is not None and self.in_cohort:
            update_checkin(
                self.context.folder, self.participant, self.cohort, self.module(module), change
            )

    def notice(self) -> str:
        if self.in_cohort:
            return ""
        if self.context is not None:
            return (
                f"{self.participant} is not in cohort {self.context.cohort}: "
                "answers are kept in your own store only. "
            )
        return f"Outside a cohort: answers are kept in {self.participant}'s own store. "


class Panel(w.VBox):  # type: ignore[misc]
    """A widget box whose plain-text form names the widget, never its values.

    A displayed widget's output also carries a ``text/plain`` form, which JupyterLab
    saves into the notebook file; the default form (the widget's repr) would include the
    text typed into it.
    """

    def __init__(self, children: list[w.Widget], kind: str) -> None:
        super().__init__(children)
        self._kind = kind
        self.add_class(f"tandem-{kind}")

    def __repr__(self) -> str:
        return f"<Tandem {self._kind.replace('-', ' ')}>"


def _status() -> w.HTML:
    status = w.HTML(value="")
    status.add_class("tandem-status")
    return status


def _show_saved(status: w.HTML) -> None:
    status.value = f"<span style='color:#2f6f5e'>Saved {datetime.now():%H:%M}</span>"


def _show_error(status: w.HTML, reason: object) -> None:
    status.value = (
        f"<span style='color:#b42318'><b>NOT SAVED:</b> {html.escape(str(reason))}</span>"
    )


def _guarded(status: w.HTML, action: Callable[[], None]) -> bool:
    """Run a save; show any failure in the widget instead of the kernel log."""
    try:
        action()
    except Exception as exc:  # every failure must reach the participant, whatever it is
        _show_error(status, exc)
        return False
    _show_saved(status)
    return True


def _restore(where: Where, key: Key, status: w.HTML) -> Revision | None:
    """The last saved answer, or None; a store that cannot be read is shown, not raised."""
    try:
        return where.store.latest(key)
    except (StoreError, KeyError, TypeError, AttributeError) as exc:
        reason = (
            exc
            if isinstance(exc, StoreError)
            else f"{where.store.path(key)} is damaged; it has been left untouched"
        )
        status.value = (
            f"<span style='color:#b42318'><b>NOT RESTORED:</b> {html.escape(str(reason))}</span>"
        )
        return None


def _ratings_row(label: str, value: object) -> w.ToggleButtons:
    """A 1-5 row; a saved value that is not a rating 1-5 (a damaged store) shows as none."""
    index = None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        index = value - 1
    buttons = w.ToggleButtons(
        options=RATINGS,
        index=index,
        description=label,
        style={"description_width": "initial", "button_width": "2.5em"},
    )
    buttons.add_class("tandem-rating")
    return buttons


class Debouncer:
    """Call ``action`` once typing has paused for ``seconds``."""

    def __init__(self, action: Callable[[], object], seconds: float = DEBOUNCE_SECONDS) -> None:
        self.action = action
        self.seconds = seconds
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def poke(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.seconds, self.action)
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


def save_on_change(
    status: w.HTML,
    store_it: Callable[[], None],
    *,
    typed: Sequence[w.Widget],
    at_once: Sequence[w.Widget],
    button: w.Button,
) -> None:
    """Save (showing the outcome in ``status``) once typing in ``typed`` pauses, and at
    once when ``at_once`` changes or ``button`` is clicked."""
    debounce = Debouncer(lambda: _guarded(status, store_it))

    def now(*_: Any) -> None:
        debounce.cancel()
        _guarded(status, store_it)

    for box in typed:
        box.observe(lambda _: debounce.poke(), names="value")
    for control in at_once:
        control.observe(now, names="value")
    button.on_click(now)


def reflection(prompt_id: str, prompt: str, *, where: Where | None = None) -> Panel:
    """A private free-text reflection, optionally shared with the partner and facilitator."""
    where = where or Where.here()
    key = where.key(prompt_id, "lesson")
    status = _status()
    latest = _restore(where, key, status)
    text = w.Textarea(
        value=latest.text if latest else "",
        continuous_update=True,
        placeholder="Write your answer here.",
        layout=w.Layout(width="100%", height="8em"),
    )
    text.add_class("tandem-reflection-text")
    share = w.Checkbox(
        value=bool(latest and latest.shared),
        indent=False,
        description="Share with my partner and facilitator",
    )
    share.add_class("tandem-share")
    save = w.Button(description="Save", icon="save")
    save.add_class("tandem-save")
    lock = threading.Lock()
    where_kept = "your private store" if not where.in_cohort else "your private Tandem store"
    notice = w.HTML(
        f"<small>{html.escape(where.notice())}Private: kept in {where_kept} "
        f"(<code>{html.escape(str(where.store.path(key)))}</code>), visible only to you. "
        "Tick <i>Share</i> to send it with your submission to your partner and "
        "facilitator.</small>"
    )
    notice.add_class("tandem-privacy")

    def store_it() -> None:
        with lock:
            value, shared = text.value, share.value
            where.store.save(key, value, shared=shared)

            def change(checkin: CheckIn) -> None:
                if value.strip() and prompt_id not in checkin.answered:
                    checkin.answered.append(prompt_id)
                if shared:
                    checkin.shared_reflections[prompt_id] = value
                else:
                    checkin.shared_reflections.pop(prompt_id, None)

            where.share(key.module, change)

    save_on_change(status, store_it, typed=[text], at_once=[share], button=save)
    if latest is not None:
        status.value = f"Restored your answer saved {_local(latest.at)}"
    return Panel(
        [w.HTML(f"<b>{html.escape(prompt)}</b>"), text, w.HBox([save, share]), status, notice],
        "reflection",
    )


def _local(stamp: str) -> str:
    try:
        return f"{datetime.fromisoformat(stamp).astimezone():%d %b %H:%M}"
    except ValueError:
        return stamp


def _titles(competencies: Sequence[str], context: Context | None) -> dict[str, str]:
    known = context.competency_titles if context else {}
    return {c: known.get(c) or c.replace("-", " ").capitalize() for c in competencies}


def self_assessment(
    competencies: Sequence[str],
    moment: Literal["before", "after"] = "before",
    *,
    where: Where | None = None,
) -> Panel:
    """The learner rates themself 1-5 on each competency, before and after the module."""
    if moment not in ("before", "after"):
        raise ValueError("moment must be 'before' or 'after'")
    where = where or Where.here()
    heading = w.HTML(
        f"<b>Self-assessment ({moment} the module)</b>: 1 = new to this, 5 = could teach it."
    )
    if where.leads:
        note = w.HTML(
            "You lead this module: your partner, the learner, rates themself here; "
            "you rate your partner in the partner rating."
        )
        return Panel([heading, note], "self-assessment")
    key = where.key(f"self-assessment-{moment}", "lesson")
    status = _status()
    latest = _restore(where, key, status)
    saved: dict[str, int] = dict((latest.data or {}) if latest else {})
    rows = {
        c: _ratings_row(title, saved.get(c))
        for c, title in _titles(competencies, where.context).items()
    }

    def store_it() -> None:
        ratings = {c: int(row.value) for c, row in rows.items() if row.value is not None}
        where.store.save(key, "", data=ratings)

        def change(checkin: CheckIn) -> None:
            checkin.self_assessment[moment] = ratings

        where.share(key.module, change)

    for row in rows.values():
        row.observe(lambda _: _guarded(status, store_it), names="value")
    notice = w.HTML(
        "<small>" + html.escape(where.notice()) + "Your ratings are shared "
        "with your partner and facilitator, to show growth over the "
        "programme.</small>"
    )
    return Panel([heading, *rows.values(), status, notice], "self-assessment")


def session_feedback(module_id: str, *, where: Where | None = None) -> Panel:
    """The learner rates the lead's teaching (clarity, relevance, pace) with a comment."""
    where = where or Where.here()
    heading = w.HTML("<b>Feedback for the lead of this module</b>: 1 = not at all, 5 = completely.")
    if where.leads:
        note = w.HTML(
            "You led this module: your partner's feedback will appear in your pair report."
        )
        return Panel([heading, note], "feedback")
    key = where.key("session-feedback", module_id)
    status = _status()
    latest = _restore(where, key, status)
    saved: dict[str, Any] = dict((latest.data or {}) if latest else {})
    rows = {
        aspect: _ratings_row(label, saved.get(aspect)) for aspect, label in FEEDBACK_ASPECTS.items()
    }
    comment = w.Textarea(
        value=latest.text if latest else "",
        placeholder="What helped most? What would you change?",
        layout=w.Layout(width="100%", height="5em"),
    )
    comment.add_class("tandem-feedback-comment")
    save = w.Button(description="Save feedback", icon="save")

    def store_it() -> None:
        scores = {a: int(r.value) for a, r in rows.items() if r.value is not None}
        where.store.save(key, comment.value, shared=True, data=scores)

        def change(checkin: CheckIn) -> None:
            from tandem.notebook.checkin import Feedback

            checkin.feedback = Feedback(**scores, comment=comment.value)

        where.share(key.module, change)

    save.on_click(lambda _: _guarded(status, store_it))
    for row in rows.values():
        row.observe(lambda _: _guarded(status, store_it), names="value")
    notice = w.HTML(
        "<small>" + html.escape(where.notice()) + "Shared: your ratings and "
        "comment go to your partner and facilitator with your submission."
        "</small>"
    )
    return Panel([heading, *rows.values(), comment, save, status, notice], "feedback")


__all__ = ["Where", "reflection", "self_assessment", "session_feedback"]
