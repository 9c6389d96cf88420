"""The synthetic cohort behind `tandem demo` and `make demo`.

It builds a roster of realistic (fictional) people, matches them into pairs, and
runs every session through the real nbgrader exchange: release, fetch, answers of
differing quality and check-ins, submit, collect, autograde; then it builds the
reports. Everything happens inside one folder marked as a demo.

Every two-way outcome is exercised: leads rate their learners before and after and give
them feedback (a few offer it to the facilitator, and a few learners consent), and every
person answers the safety pulse after every session. Three pairs are made to stand out
(see :func:`standout`): the first reports low safety, the second's views of the sessions
diverge, and in the third only the senior gains (the junior's management ratings do not
move and their management checkpoints are left blank), so its reciprocity is low.

Behaviour too (:mod:`tandem.demo_behaviour`): some people record improvement ideas (mostly
juniors, in the tech modules they lead), the facilitator records what became of them
(trialled, adopted, one declined), and everyone answers the follow-up three months on.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import random
import shutil
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tandem.cohort.exchange import (
    collect_session,
    fetch,
    fetch_feedback,
    submit,
    write_checkin,
)
from tandem.cohort.followup import release_followup
from tandem.cohort.ideas import RAISED, list_ideas, set_status
from tandem.cohort.release import release_session
from tandem.cohort.workspace import Cohort, Workspace, init_cohort
from tandem.curriculum.manifest import Competency, Module, Program, load_program
from tandem.demo_behaviour import demo_followup, idea_plan
from tandem.engine.batch import RunOptions, open_executor
from tandem.errors import CohortError, TandemError
from tandem.fsutil import atomic_write_text
from tandem.grading.checkpoints import CheckpointResult, grade_session
from tandem.grading.feedback import release_feedback
from tandem.notebook.checkin import CHECKIN_FILE, CheckIn, Feedback, Idea, LeadFeedback
from tandem.notebook.pulse import Pulse, write_pulse
from tandem.reports.build import ReportResult, build_reports

MARKER = ".tandem-demo"
COMMENTS = (
    "The worked example made it click; more time on the activity next time.",
    "Clear and practical. I would have liked one example from my own team.",
    "A bit fast in the middle; the recap at the end helped.",
    "Very relevant to my week. Thank you for letting me drive.",
    "",
)
TAKEAWAYS = (
    "I will try this on next month's figures before the team meeting.",
    "I had been counting the wrong thing; I will start with the question.",
    "Asking before telling worked better than I expected.",
    "I want to practise this with my own data before our next session.",
)
QUALITIES = ("full", "partial", "blank", "deleted-cell", "full", "partial")
#: What leads write to their learner (situation, behaviour, impact, one thing to try next).
LEAD_FEEDBACK = (
    (
        "When we worked through the second activity",
        "you asked what the numbers would look like if the opposite were true",
        "we caught a wrong assumption before building on it",
        "Say your first guess out loud before running the code.",
    ),
    (
        "During the worked example",
        "you stopped me to ask for an example from your own team",
        "the method became something you can use on Monday",
        "Bring one real case from your week to our next session.",
    ),
    (
        "At the end, in the discussion",
        "you disagreed with my answer and showed the table that supported you",
        "I changed my mind, and we both learned something",
        "Keep going when the hierarchy makes it awkward; it works.",
    ),
)
#: Pulse answers (could-say, taken-seriously, held-back: the last is reverse-scored).
SAFE_PULSE = (
    {"could-say": 5, "taken-seriously": 4, "held-back": 1},
    {"could-say": 4, "taken-seriously": 5, "held-back": 2},
)
LOW_PULSE = {"could-say": 2, "taken-seriously": 2, "held-back": 4}  # safety score 2.0
MIXED_PULSE = {"could-say": 3, "taken-seriously": 3, "held-back": 3}  # 3.0: diverges from 4.7

JUNIORS = [
    ("Amara Okafor", "Marketing"),
    ("Lucas Ferreira", "Operations"),
    ("Priya Raman", "Finance"),
    ("Tom Nguyen", "Customer Service"),
    ("Sofia Lindqvist", "Human Resources"),
    ("Kwame Mensah", "IT"),
    ("Chloe Martin", "Sales"),
    ("Yusuf Demir", "Logistics"),
    ("Hannah Brooks", "Legal"),
    ("Mateo Rossi", "Procurement"),
]
SENIORS = [
    ("Margaret Whitfield", "Operations"),
    ("Rajesh Iyer", "Finance"),
    ("Elisabeth Bauer", "Sales"),
    ("David O'Connell", "Logistics"),
    ("Grace Adeyemi", "Customer Service"),
    ("Hiroshi Tanaka", "IT"),
    ("Catherine Dubois", "Marketing"),
    ("Peter Novak", "Procurement"),
    ("Linda Svensson", "Human Resources"),
    ("Robert Campbell", "Legal"),
]


@dataclass(frozen=True)
class DemoResult:
    workspace: Path
    roster: Path
    grades: list[CheckpointResult]
    reports: ReportResult


def synthetic_rating(participant_id: str, role: str, competency: Competency) -> int:
    """A varied but reproducible 1-5 self-rating: juniors rate themselves higher on
    tech, seniors on management, each person differently."""
    strong = (role == "junior") == (competency.track == "tech")
    spread = zlib.crc32(f"{participant_id}:{competency.id}".encode()) % 5 - 2
    return min(5, max(1, (4 if strong else 2) + spread))


def synthetic_roster(pairs: int, competencies: Sequence[Competency] = ()) -> str:
    """A roster CSV with ``pairs`` juniors and ``pairs`` seniors, each with a department
    and a ``rate_<id>`` self-rating for each of ``competencies``."""
    if pairs < 1:
        raise CohortError("a demo needs at least one pair")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    ratings = [f"rate_{c.id}" for c in competencies]
    writer.writerow(["id", "name", "email", "role", "department", *ratings])
    for role, people in (("junior", JUNIORS), ("senior", SENIORS)):
        for i in range(pairs):
            name, department = people[i % len(people)]
            if i >= len(people):
                name = f"{name} {i // len(people) + 1}"
            pid = f"{role[0]}{i + 1:02d}-" + name.split()[0].lower().replace("'", "")
            email = name.lower().replace(" ", ".").replace("'", "") + "@northwind.example"
            rated = [synthetic_rating(pid, role, c) for c in competencies]
            writer.writerow([pid, name, email, role, department, *rated])
    return out.getvalue()


def _solutions(notebook: Any) -> dict[str, Any]:
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def submission(source: Any, release: Any, quality: str) -> Any:
    """A learner's notebook: the released version with some or all answers filled in."""
    answers = _solutions(source)
    filled = copy.deepcopy(release)
    code_ids = [gid for gid, c in answers.items() if c.cell_type == "code"]
    keep: set[str] = set()
    if quality in ("full", "deleted-cell"):
        keep = set(answers)
    elif quality == "partial":
        keep = set(code_ids[: max(1, len(code_ids) // 2)])
    for cell in filled.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in keep:
            cell.source = answers[gid].source
    if quality == "deleted-cell":
        tests = [
            i
            for i, c in enumerate(filled.cells)
            if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
        ]
        del filled.cells[tests[0]]
    return filled


def _answers(ws: Workspace, module: str, folder: Path, quality: str) -> None:
    """Fill the checkpoint notebooks of a fetched module with answers of ``quality``."""
    import nbformat

    for source in sorted((ws.folder("source") / module).glob("*.ipynb")):
        release = nbformat.read(folder / source.name, as_version=4)
        filled = submission(nbformat.read(source, as_version=4), release, quality)
        nbformat.write(filled, folder / source.name)


def standout(index: int) -> str:
    """What makes pair ``index`` (0-based) stand out in the demo's reports: ``"low"``
    (one partner reports low safety), ``"divergent"`` (the partners' pulses diverge),
    ``"one-sided"`` (only the senior gains), else ``""``."""
    return ("low", "divergent", "one-sided")[index] if index < 3 else ""


def _ratings(rng: random.Random, module: Module, gained: bool) -> dict[str, dict[str, int]]:
    """1-5 ratings before and after: usually a little higher after, unless not ``gained``."""
    before = {c: rng.randint(1, 3) for c in module.competencies}
    steps = (0, 1, 1, 2) if gained else (0,)
    return {
        "before": before,
        "after": {c: min(5, r + rng.choice(steps)) for c, r in before.items()},
    }


def demo_checkin(
    cohort: Cohort,
    module: Module,
    participant: str,
    seed: int,
    *,
    gained: bool = True,
    shared: bool = False,
    ideas: Sequence[Idea] = (),
) -> CheckIn:
    """What a participant's widgets would have written: the learner rates themself before
    and after (usually a little higher after, never when not ``gained``), rates the lead,
    and sometimes shares a reflection; the lead records what they answered, rates the
    learner before and after and gives them feedback. ``shared``: the lead offers the
    feedback to the facilitator and the learner consents. ``ideas``: the improvement ideas
    the participant records (either partner may)."""
    rng = random.Random(seed)
    checkin = CheckIn(participant=participant, cohort=cohort.course_id, module=module.id)
    checkin.ideas = list(ideas)
    if cohort.participant(participant).role != module.learner:
        checkin.answered = [f"{module.id}-lead-next-time"]
        checkin.partner_rating = _ratings(rng, module, gained)
        if shared or rng.random() < 0.8:  # most leads write feedback
            situation, behaviour, impact, try_next = rng.choice(LEAD_FEEDBACK)
            checkin.lead_feedback = LeadFeedback(
                situation=situation,
                behaviour=behaviour,
                impact=impact,
                try_next=try_next,
                share_with_facilitator=shared,
            )
        return checkin
    checkin.self_assessment = _ratings(rng, module, gained)
    checkin.feedback_consent = shared or rng.random() < 0.3
    checkin.feedback = Feedback(
        clarity=rng.randint(3, 5),
        relevance=rng.randint(2, 5),
        pace=rng.randint(2, 5),
        comment=rng.choice(COMMENTS),
    )
    checkin.answered = [f"{module.id}-takeaway"]
    if rng.random() < 0.5:
        checkin.shared_reflections = {f"{module.id}-takeaway": rng.choice(TAKEAWAYS)}
    return checkin


def work_through(ws: Workspace, homes: Path, session_id: str) -> None:
    """Every participant fetches both modules, works on them and submits, via the exchange.

    Learners' checkpoint answers vary in quality (full, partial, blank, a deleted test
    cell); one check-in is damaged on purpose, to show it is reported and skipped. Some
    record improvement ideas (:func:`tandem.demo_behaviour.idea_plan`).
    """
    cohort = ws.load()
    program = ws.program(cohort)
    plan = idea_plan(cohort, program)
    session = program.session(session_id)
    number = program.sessions.index(session)
    for offset, module in enumerate(session.modules):
        for index, pair in enumerate(cohort.pairs):
            quality = QUALITIES[(index + offset * 3 + number) % len(QUALITIES)]
            gained = not (standout(index) == "one-sided" and module.learner == "junior")
            quality = quality if gained else "blank"
            shared = index == len(cohort.pairs) - 1 and number % 2 == 0
            for role in (module.learner, module.lead):
                participant = pair.member(role)
                home = homes / participant
                folder = fetch(ws, home, module.id, participant)
                if role == module.learner:
                    _answers(ws, module.id, folder, quality)
                seed = zlib.crc32(f"{participant}:{module.id}".encode())
                checkin = demo_checkin(
                    cohort,
                    module,
                    participant,
                    seed,
                    gained=gained,
                    shared=shared,
                    ideas=plan.ideas.get((participant, module.id), ()),
                )
                write_checkin(folder, checkin)
                if module.track == "management":  # the pulse sits in the management lesson
                    write_pulse(folder, demo_pulse(cohort, participant, session_id, index))
                if (participant, module.id) == damaged_on_purpose(cohort, program):
                    (folder / CHECKIN_FILE).write_text('{"participant": "' + participant)
                submit(ws, home, module.id, participant)


def demo_pulse(cohort: Cohort, participant: str, session_id: str, index: int) -> Pulse:
    """A person's pulse after a session: safe, except in the pairs that stand out (the
    junior of the first pair reports low safety; in the second the junior's view is mixed
    while the senior's is high)."""
    role = cohort.participant(participant).role
    kind = standout(index)
    answers = SAFE_PULSE[zlib.crc32(f"{participant}:{session_id}".encode()) % 2]
    if role == "junior" and kind == "low":
        answers = LOW_PULSE
    elif kind == "divergent":
        answers = MIXED_PULSE if role == "junior" else SAFE_PULSE[0]
    return Pulse(
        participant=participant, cohort=cohort.course_id, session=session_id, answers=answers
    )


def damaged_on_purpose(cohort: Cohort, program: Program) -> tuple[str, str]:
    """The one check-in the demo damages on purpose, (participant, module): the first
    module's lead in the last pair."""
    module = program.sessions[0].modules[0]
    return cohort.pairs[-1].member(module.lead), module.id


def skipped_line(problem: TandemError, damaged: Path) -> str:
    """The demo's line for a check-in skipped; the one it damaged itself says so."""
    if problem.path is not None and problem.path.resolve() == damaged.resolve():
        return (
            "  check-in skipped, as intended (the demo damaged this file on purpose, to show "
            f"that a bad check-in is reported and the rest still counts): {problem}"
        )
    return f"  check-in skipped: {problem}"


def prepare_folder(out: Path) -> None:
    """Use ``out`` for a demo: empty, or a previous demo (which is replaced)."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise CohortError(
                "folder exists and is not a Tandem demo; choose another --out", path=out
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / MARKER, "Created by 'tandem demo'; safe to delete.\n")


def _feedback_to_learners(
    ws: Workspace, homes: Path, session_id: str, progress: Callable[[str], None]
) -> None:
    """The first session's feedback, released before its written answers are graded (as
    ``tandem feedback --force``) and fetched by each learner: nbgrader's page of the
    checkpoint and, beside it, the lead's ratings and feedback."""
    progress(f"{session_id}: feedback released to learners and fetched, the lead's page with it")
    release_feedback(ws.root, session_id, force=True)
    cohort = ws.load()
    for module in ws.program(cohort).session(session_id).modules:
        for _, learner in cohort.learners(module):
            fetch_feedback(ws, homes / learner, module.id, learner)


def _idea_outcomes(ws: Workspace, progress: Callable[[str], None]) -> None:
    """The facilitator records what became of the ideas, as ``tandem ideas set`` does."""
    cohort = ws.load()
    outcomes = idea_plan(cohort, ws.program(cohort)).outcomes
    for row in list_ideas(ws):
        if row.idea.id in outcomes:
            set_status(ws, row.idea.id, *outcomes[row.idea.id])
    rows = list_ideas(ws)
    roles = Counter(r.role for r in rows)
    status = Counter(r.status for r in rows)
    progress(
        f"ideas: {len(rows)} recorded ({roles['junior']} from juniors, {roles['senior']} "
        f"from seniors); {status['adopted']} adopted, {status['trialled']} trialled, "
        f"{status['declined']} declined, {status[RAISED]} awaiting an outcome"
    )


def _followup(ws: Workspace, homes: Path, progress: Callable[[str], None]) -> None:
    """The follow-up three months on, released early (``tandem followup --date`` today):
    every participant fetches it, answers (as its widget writes them), submits; then it
    is collected."""
    cohort = ws.load()
    module = ws.program(cohort).followup
    if module is None:
        progress("follow-up three months on: none in this programme, skipped")
        return
    release_followup(ws.root, date=dt.date.today())
    for index, pair in enumerate(cohort.pairs):
        for participant in pair.members:
            folder = fetch(ws, homes / participant, module.id, participant)
            answers = demo_followup(cohort, participant, standout(index) == "one-sided")
            checkin = CheckIn(participant=participant, cohort=cohort.course_id, module=module.id)
            checkin.followup = answers
            write_checkin(folder, checkin)
            submit(ws, homes / participant, module.id, participant)
    collected = collect_session(ws.root, module.id)
    progress(
        f"follow-up three months on ({module.id}): released, answered by "
        f"{len(collected.arrived[module.id])} of {2 * len(cohort.pairs)}, collected"
    )


def run_demo(
    out: Path | str = "demo-cohort",
    *,
    pairs: int = 6,
    sessions: int | None = None,
    curriculum: Path | str | None = None,
    progress: Callable[[str], None] = lambda _: None,
    options: RunOptions | None = None,
) -> DemoResult:
    """Build a synthetic cohort in ``out`` and run ``sessions`` sessions (default: all)
    end to end: release, fetch, work, submit, collect, autograde; record what became of
    the ideas raised, run the follow-up three months on; then build the reports.

    ``out`` holds ``roster.csv``, the cohort workspace ``cohort/`` and the participants'
    own folders ``participants/<id>/`` (what each would have in their JupyterLab).
    """
    out = Path(out).resolve()
    prepare_folder(out)
    roster = out / "roster.csv"
    program = load_program(curriculum)
    atomic_write_text(roster, synthetic_roster(pairs, program.competencies))
    progress(f"Matching {pairs} juniors with {pairs} seniors; creating the cohort")
    cohort = init_cohort(
        out / "cohort",
        roster,
        match=True,
        same_department="avoid",
        name="Northwind demo cohort",
        curriculum=program.manifest,
    )
    ws = Workspace(out / "cohort")
    grades: list[CheckpointResult] = []
    options = options or RunOptions()
    executor = open_executor(options)
    executor.start()
    try:  # one pool of workers (and their kernel templates) for the whole programme
        for session in ws.program(cohort).sessions[:sessions]:
            progress(f"{session.id}: release, fetch, work, submit, collect, autograde")
            release_session(ws.root, session.id)
            work_through(ws, out / "participants", session.id)
            collected = collect_session(ws.root, session.id)
            damaged = ws.submission_dir(*damaged_on_purpose(cohort, ws.program(cohort)))
            for problem in collected.checkin_problems:
                progress(skipped_line(problem, damaged / CHECKIN_FILE))
            grades += grade_session(ws.root, session.id, options, executor=executor)
            if session == ws.program(cohort).sessions[0]:
                _feedback_to_learners(ws, out / "participants", session.id, progress)
        _idea_outcomes(ws, progress)
        _followup(ws, out / "participants", progress)
        progress("Building reports with papermill")
        reports = build_reports(ws.root, options=options, executor=executor)
    finally:
        executor.close()
    return DemoResult(ws.root, roster, grades, reports)
