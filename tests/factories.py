"""Factories shared by the tests: a submission of a given quality, as collect leaves it,
and the ``tandem`` command run in-process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml

from tandem.cli.app import main
from tandem.cohort.workspace import Cohort, Workspace
from tandem.curriculum.checkpoint_rules import solution_answers
from tandem.curriculum.manifest import ANSWERS_FILE
from tandem.demo import submission
from tandem.notebook.checkin import CONTEXT_FILE
from tandem.people.roster import Pair, Participant

#: Plausible wrong answers written by hand, per module of the shipped curriculum.
WRONG_ANSWERS = Path(__file__).resolve().parent / "fixtures" / "wrong_answers"


def wrong_answer(module: str) -> dict[str, Any]:
    """``tests/fixtures/wrong_answers/<module>.yml``: the answers and the points they lose."""
    data: dict[str, Any] = yaml.safe_load((WRONG_ANSWERS / f"{module}.yml").read_text("utf-8"))
    return data


def answered(source: Any, released: Any, module: str, quality: str) -> Any:
    """The released notebook answered to ``quality``: every answer typed into its cell
    ("full"), about half ("partial"), none ("blank", and "answers"/"wrong", which answer
    with the controls: see :func:`answers_file`), or every answer with a graded test cell
    deleted ("deleted-cell")."""
    if quality in ("answers", "wrong"):
        return submission(source, released, "blank")
    return submission(source, released, quality)


def answers_file(source: Any, module: str, quality: str) -> dict[str, Any] | None:
    """What the question controls leave in ``tandem_answers.json`` for ``quality``: every
    right answer ("answers"), the module's hand-written wrong answers in place of some
    ("wrong", ``tests/fixtures/wrong_answers/<module>.yml``), else no file."""
    if quality not in ("answers", "wrong"):
        return None
    answers = solution_answers(source)
    if quality == "wrong":
        wrong = wrong_answer(module)["answers"]
        assert set(wrong) <= set(answers), (
            f"{module}: unknown questions {set(wrong) - set(answers)}"
        )
        answers.update(wrong)
    return answers


def submit(
    ws: Workspace,
    participant: str,
    module: str,
    quality: str = "full",
    *,
    stamp: str | None = None,
    checkpoint_only: bool = False,
) -> Path:
    """Put ``participant``'s submission of ``module`` into ``submitted/`` as collect would:
    the released folder (or only its checkpoint notebooks) with answers of ``quality``,
    and nbgrader's ``timestamp.txt`` when ``stamp`` is given. Returns the folder."""
    release = ws.folder("release") / module
    target = ws.submission_dir(participant, module)
    if checkpoint_only:
        target.mkdir(parents=True)
    else:
        shutil.copytree(release, target)
    for source in sorted((ws.folder("source") / module).glob("*.ipynb")):
        released = nbformat.read(release / source.name, as_version=4)
        source_nb = nbformat.read(source, as_version=4)
        nbformat.write(answered(source_nb, released, module, quality), target / source.name)
        chosen = answers_file(source_nb, module, quality)
        if chosen is not None:
            record = {"schema_version": 1, "participant": participant, "answers": chosen}
            (target / ANSWERS_FILE).write_text(json.dumps(record, indent=2), "utf-8")
    if stamp is not None:
        (target / "timestamp.txt").write_text(stamp)
    return target


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``tandem ARGV`` in this process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


def synthetic_cohort(pairs: int) -> Cohort:
    """A cohort held in memory only: ``pairs`` pairs (j0, s0), (j1, s1), ..., session-01 of
    the shipped curriculum released, minimum group size 5 (for report-figure tests)."""
    return Cohort(
        name="synthetic",
        course_id="synthetic",
        curriculum="curriculum/program.yml",
        created="2025-01-01",
        min_group_size=5,
        participants=[
            Participant(id=f"{r[0]}{i}", name=f"{r} {i}", email=f"{r}{i}@x.org", role=r)
            for i in range(pairs)
            for r in ("junior", "senior")
        ],
        pairs=[Pair(id=f"pair-{i:02d}", junior=f"j{i}", senior=f"s{i}") for i in range(pairs)],
        released=["session-01"],
    )


def assignment_folder(
    folder: Path,
    module: str,
    *,
    track: str,
    lead: str,
    competencies: Sequence[str] = (),
    titles: dict[str, str] | None = None,
    title: str | None = None,
) -> Path:
    """One participant's copy of an assignment folder holding only its context file, as
    release writes it: cohort "Spring", pair-01 of j1 (junior) and s1 (senior); ``lead``
    is "junior", "senior" or "" (a module without a lead, such as the follow-up)."""
    learner = {"junior": "senior", "senior": "junior"}.get(lead, "")
    context: dict[str, Any] = {
        "cohort": "Spring",
        "course_id": "spring",
        "module": module,
        "title": title or module.upper(),
        "track": track,
        "lead": lead,
        "learner": learner,
        "competencies": list(competencies),
        "participants": {
            "j1": {"role": "junior", "pair": "pair-01", "partner": "s1",
                   "leads": "yes" if lead == "junior" else "no"},
            "s1": {"role": "senior", "pair": "pair-01", "partner": "j1",
                   "leads": "yes" if lead == "senior" else "no"},
        },
    }  # fmt: skip
    if titles is not None:
        context["competency_titles"] = titles
    folder.mkdir(parents=True)
    (folder / CONTEXT_FILE).write_text(json.dumps(context), encoding="utf-8")
    return folder
