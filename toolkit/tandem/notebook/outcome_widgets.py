"""Widgets for the two-way outcomes: the lead's partner rating and structured feedback,
the learner's consent to share it, and the private safety pulse.

Each is one call in a lesson cell and saves like the other widgets
(:mod:`tandem.notebook.widgets`): into the author's private store (restored when the cell
runs again) and, for what is shared, into the author's check-in in the assignment folder.

* :func:`partner_rating`: the module's lead rates the learner 1-5 on its competencies,
  before and after (``CheckIn.partner_rating``); the learner sees a note instead.
* :func:`lead_feedback`: the lead writes Situation-Behaviour-Impact feedback and one thing
  to try next (``CheckIn.lead_feedback``); the learner's copy asks instead whether the
  facilitator may read it, should the lead offer (``CheckIn.feedback_consent``).
* :func:`safety_pulse`: both partners answer the three :data:`PULSE_ITEMS`. The answers go
  to the author's store and, inside a cohort, to ``tandem_pulse.json`` in the assignment
  folder (:mod:`tandem.notebook.pulse`), never to the check-in, which the partner sees.
  Under nbgrader's autograde (``NBGRADER_EXECUTION``) nothing is written.
"""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import ipywidgets as w

from tandem.notebook.checkin import CheckIn, LeadFeedback
from tandem.notebook.pulse import PULSE_ITEMS, Pulse, write_pulse
from tandem.notebook.store import MAX_TEXT, Key, Revision, StoreError
from tandem.notebook.widgets import (
    Panel,
    Where,
    _guarded,
    _local,
    _ratings_row,
    _restore,
    _status,
    _titles,
    save_on_change,
)

#: The lead's feedback boxes: field of :class:`LeadFeedback` -> (label, placeholder).
FEEDBACK_BOXES: dict[str, tuple[str, str]] = {
    "situation": ("Situation", "When and where: the moment you have in mind."),
    "behaviour": ("Behaviour", "What your partner did or said, as you saw it."),
    "impact": ("Impact", "What it changed: for you, the work or others."),
    "try_next": ("One thing to try next", "One concrete thing for next time."),
}
PULSE_SCALE = "1 = strongly disagree, 5 = strongly agree"
PULSE_NOTICE = (
    "Private: your partner never sees these answers. Your facilitator sees only whether "
    "your pair may want a conversation, never your answers."
)
LEARNER_RATING_NOTE = (
    "Your partner, who leads this module, rates you here; you will see it after the "
    "module beside your own rating."
)
CONSENT_LABEL = "If my partner offers, the facilitator may read the feedback my partner gives me"
OFFER_LABEL = "The facilitator may read this, if my partner agrees too"


def _grading() -> bool:
    """Whether nbgrader's autograde (or validate) is running this notebook."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def _data(latest: Revision | None) -> dict[str, Any]:
    """The structured part of a saved answer; anything not a mapping (damaged) is none."""
    data = latest.data if latest is not None else None
    return dict(data) if isinstance(data, Mapping) else {}


def _small(text: str) -> w.HTML:
    notice = w.HTML(f"<small>{text}</small>")
    notice.add_class("tandem-privacy")
    return notice


def _ratings(rows: Mapping[str, w.ToggleButtons]) -> dict[str, int]:
    return {c: int(row.value) for c, row in rows.items() if row.value is not None}


def partner_rating(
    competencies: Sequence[str],
    moment: Literal["before", "after"] = "before",
    *,
    where: Where | None = None,
) -> Panel:
    """The lead rates the learner 1-5 on each competency, before and after the module.

    Saved to the lead's store and the lead's check-in (``partner_rating[moment]``); the
    learner sees a one-line note instead of the rows."""
    if moment not in ("before", "after"):
        raise ValueError("moment must be 'before' or 'after'")
    where = where or Where.here()
    heading = w.HTML(
        f"<b>Your partner's level ({moment} the module)</b>: 1 = new to this, 5 = could teach it."
    )
    if not where.leads:
        note = w.HTML(html.escape(LEARNER_RATING_NOTE))
        note.add_class("tandem-note")
        return Panel([heading, note], "partner-rating")
    key = where.key(f"partner-rating-{moment}", "lesson")
    status = _status()
    saved = _data(_restore(where, key, status))
    rows = {
        c: _ratings_row(title, saved.get(c))
        for c, title in _titles(competencies, where.context).items()
    }

    def store_it() -> None:
        ratings = _ratings(rows)
        where.store.save(key, "", shared=True, data=ratings)

        def change(checkin: CheckIn) -> None:
            checkin.partner_rating[moment] = ratings

        where.share(key.module, change)

    for row in rows.values():
        row.observe(lambda _: _guarded(status, store_it), names="value")
    notice = _small(
        html.escape(where.notice()) + "Shared: your ratings of your partner go with your "
        "submission. Your partner sees them after the module, beside their own; your "
        "facilitator sees them too."
    )
    return Panel([heading, *rows.values(), status, notice], "partner-rating")


def lead_feedback(module_id: str, *, where: Where | None = None) -> Panel:
    """The lead's structured feedback to the learner (SBI and one thing to try next).

    The lead's copy: four text boxes and the offer to the facilitator, saved as typed
    (debounced) and on Save to the lead's store and check-in (``lead_feedback``). The
    learner's copy: the consent checkbox (``feedback_consent`` in the learner's check-in).
    """
    where = where or Where.here()
    if where.leads:
        return _lead_feedback_form(module_id, where)
    return _feedback_consent(module_id, where)


def _lead_feedback_form(module_id: str, where: Where) -> Panel:
    heading = w.HTML(
        "<b>Feedback for your partner</b>: what went well (situation, behaviour, impact) "
        "and one thing to try next."
    )
    key = where.key("lead-feedback", module_id)
    status = _status()
    latest = _restore(where, key, status)
    saved = _data(latest)
    boxes: dict[str, w.Textarea] = {}
    for field, (label, placeholder) in FEEDBACK_BOXES.items():
        value = saved.get(field)
        box = w.Textarea(
            value=value if isinstance(value, str) else "",
            description=label,
            placeholder=placeholder,
            continuous_update=True,
            style={"description_width": "12em"},
            layout=w.Layout(width="100%", height="4em"),
        )
        box.add_class(f"tandem-lead-feedback-{field.replace('_', '-')}")
        boxes[field] = box
    offer = w.Checkbox(value=saved.get("share") is True, indent=False, description=OFFER_LABEL)
    offer.add_class("tandem-share")
    save = w.Button(description="Save", icon="save")
    save.add_class("tandem-save")
    lock = threading.Lock()

    def store_it() -> None:
        with lock:
            texts = {field: box.value for field, box in boxes.items()}
            for field, text in texts.items():
                if len(text) > MAX_TEXT:
                    raise StoreError(
                        f"{FEEDBACK_BOXES[field][0]} is {len(text):,} characters; the limit "
                        f"is {MAX_TEXT:,}. Shorten it."
                    )
            shared = bool(offer.value)
            where.store.save(key, "", shared=True, data={**texts, "share": shared})
            feedback = LeadFeedback(**texts, share_with_facilitator=shared)

            def change(checkin: CheckIn) -> None:
                checkin.lead_feedback = feedback

            where.share(key.module, change)

    save_on_change(status, store_it, typed=list(boxes.values()), at_once=[offer], button=save)
    if latest is not None and saved:
        status.value = f"Restored your feedback saved {_local(latest.at)}"
    notice = _small(
        html.escape(where.notice()) + "Shared with your partner: your feedback goes with "
        "your submission and reaches your partner with the feedback released after the "
        "module. Your facilitator is shown only that you gave feedback, never its text, "
        "unless you tick the box above <i>and</i> your partner agrees in their copy. "
        "A copy stays in your private Tandem store."
    )
    return Panel([heading, *boxes.values(), w.HBox([save, offer]), status, notice], "lead-feedback")


def _feedback_consent(module_id: str, where: Where) -> Panel:
    heading = w.HTML(
        "<b>Feedback from your partner</b>: your partner, who leads this module, gives you "
        "feedback; you receive it with the feedback released after the module."
    )
    key = where.key("feedback-consent", module_id)
    status = _status()
    saved = _data(_restore(where, key, status))
    consent = w.Checkbox(
        value=saved.get("consent") is True, indent=False, description=CONSENT_LABEL
    )
    consent.add_class("tandem-consent")

    def store_it() -> None:
        agreed = bool(consent.value)
        where.store.save(key, "", shared=True, data={"consent": agreed})

        def change(checkin: CheckIn) -> None:
            checkin.feedback_consent = agreed

        where.share(key.module, change)

    consent.observe(lambda _: _guarded(status, store_it), names="value")
    notice = _small(
        html.escape(where.notice()) + "Your facilitator is shown only that your partner "
        "gave you feedback, never its text, unless your partner offers to share it "
        "<i>and</i> you tick this box. Your answer goes with your submission."
    )
    return Panel([heading, consent, status, notice], "lead-feedback")


def safety_pulse(session_id: str, *, where: Where | None = None) -> Panel:
    """Both partners answer the three pulse items 1-5, privately.

    Saved to the author's store (one answer per session, restored on re-run) and, inside
    a cohort, to ``tandem_pulse.json`` in the assignment folder; never to the check-in.
    Under nbgrader's autograde nothing is written."""
    where = where or Where.here()
    key = Key(where.participant, where.cohort, session_id, "safety-pulse")
    key.parts()  # an id that cannot name a store file is refused now, not on the first save
    heading = w.HTML(
        f"<b>How did this session feel for you?</b> {PULSE_SCALE}. Answer for yourself."
    )
    status = _status()
    saved = _data(_restore(where, key, status))
    rows = {
        item: _ratings_row(statement, saved.get(item))
        for item, (statement, _) in PULSE_ITEMS.items()
    }
    for row in rows.values():
        row.add_class("tandem-pulse-item")

    def store_it() -> None:
        if _grading():
            return
        answers = _ratings(rows)
        where.store.save(key, "", data=answers)
        if where.context is not None and where.in_cohort:
            pulse = Pulse(
                participant=where.participant,
                cohort=where.cohort,
                session=session_id,
                answers=answers,
            )
            write_pulse(where.context.folder, pulse)

    for row in rows.values():
        row.observe(lambda _: _guarded(status, store_it), names="value")
    notice = _small(html.escape(where.notice() + PULSE_NOTICE))
    return Panel([heading, *rows.values(), status, notice], "safety-pulse")


__all__ = ["lead_feedback", "partner_rating", "safety_pulse"]
