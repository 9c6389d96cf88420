"""What "My programme" shows a participant, read only from their own files, through real
nbgrader (release, fetch, submit, collect, grade, feedback, fetch feedback), and the page
process on a Unix socket."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tandem.cohort.exchange import collect_session, fetch, fetch_feedback, submit
from tandem.cohort.followup import release_followup
from tandem.cohort.release import release_session
from tandem.cohort.workspace import Schedule, Workspace, init_cohort
from tandem.grading.checkpoints import grade_session
from tandem.grading.feedback import release_feedback
from tandem.grading.scores import read_scores
from tandem.hub.programme import Programme, read_programme
from tandem.hub.programme_page import programme_body, reflection_body, server_proxy
from tandem.notebook.checkin import CONTEXT_FILE, PROGRAMME_FILE
from tandem.notebook.store import Key, Store

from ..conftest import FIXTURES, ROSTER_2_PAIRS
from ..factories import answered

START = dt.date(2027, 1, 4)
DUE = "2027-01-11T23:59:59+00:00"  # START + 7 days (the schedule's due_days), end of day
HOSTILE = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@dataclass(frozen=True)
class Journey:
    ws: Workspace
    homes: Path
    cache: Path  # j1's nbgrader cache (Tandem's exchange keeps it in the home)
    store: Path  # the store root; j1's own reflections are under j1/

    def home(self, person: str = "j1") -> Path:
        return self.homes / person

    def read(self, person: str = "j1", home: Path | None = None) -> Programme:
        home = home or self.home(person)
        return read_programme(person, root=home, cache=home / ".nbgrader-cache", store=self.store)


def _answer(ws: Workspace, home: Path, module: str, quality: str) -> None:
    source = nbformat.read(ws.folder("source") / module / "checkpoint.ipynb", as_version=4)
    copy = home / module / "checkpoint.ipynb"
    released = nbformat.read(copy, as_version=4)
    nbformat.write(answered(source, released, module, quality), copy)


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Journey:
    """Pair-01 (j1 junior, s1 senior) through the tiny programme's session: released with a
    schedule, both modules fetched and submitted by both (j1 answers its checkpoint in
    full, s1 leaves theirs blank), graded, feedback released (the written answers not yet
    graded), and only j1 fetches theirs. j1 saved two reflections, one shared."""
    base = tmp_path_factory.mktemp("journey")
    shutil.copytree(FIXTURES / "programme", base / "programme")
    roster = base / "roster.csv"
    roster.write_text(ROSTER_2_PAIRS, encoding="utf-8")
    init_cohort(
        base / "cohort",
        roster,
        curriculum=base / "programme" / "curriculum" / "program.yml",
        schedule=Schedule(start=START),
    )
    ws = Workspace(base / "cohort")
    release_session(ws.root, "s1")
    homes = base / "homes"
    for person, quality in (("j1", "full"), ("s1", "blank")):
        for module in ("tiny-tech", "tiny-mgmt"):
            fetch(ws, homes / person, module, person)
            _answer(ws, homes / person, module, quality)
            submit(ws, homes / person, module, person)
    collect_session(ws.root, "s1")
    grade_session(ws.root, "s1")
    release_feedback(ws.root, "s1", force=True)
    fetch_feedback(ws, homes / "j1", "tiny-mgmt", "j1")  # j1 learns the management module
    store = base / "store"
    course = ws.load().course_id
    mine = Store(store)
    mine.save(Key("j1", course, "tiny-mgmt", "takeaway"), f"I learnt\n{HOSTILE}")
    mine.save(Key("j1", course, "tiny-tech", "plan"), "Teach Sam hashtags", shared=True)
    Store(store).save(Key("s1", course, "tiny-tech", "plan"), "s1's own private words")
    return Journey(ws, homes, homes / "j1" / ".nbgrader-cache", store)


def test_release_writes_the_programme_file_with_due_dates_and_no_participant(
    journey: Journey,
) -> None:
    ws = journey.ws
    for module in ("tiny-tech", "tiny-mgmt"):
        text = (journey.home() / module / PROGRAMME_FILE).read_text("utf-8")
        record = json.loads(text)
        assert record["course_id"] == ws.load().course_id
        [session] = record["sessions"]
        assert (session["id"], session["date"], session["released"]) == ("s1", "2027-01-04", True)
        assert [(m["id"], m["lead"], m["learner"], m["due"]) for m in session["modules"]] == [
            ("tiny-tech", "junior", "senior", DUE),
            ("tiny-mgmt", "senior", "junior", DUE),
        ]
        assert set(record) == {
            "schema_version",
            "cohort",
            "course_id",
            "programme",
            "written",
            "sessions",
            "followup",
        }
        for person in ("j1", "j2", "s2", "Ada", "ada@example.org", "pair-01"):
            assert f'"{person}' not in text


def test_the_participant_sees_partner_due_dates_fetched_submitted_and_own_score(
    journey: Journey,
) -> None:
    model = journey.read("j1")
    assert (model.role, model.pair, model.partner) == ("junior", "pair-01", "s1")
    assert model.title == "Tiny programme" and model.notes == []
    [session] = model.sessions
    assert [(m.id, m.due) for m in session.modules] == [("tiny-tech", DUE), ("tiny-mgmt", DUE)]
    assert set(model.fetched) == {"tiny-tech", "tiny-mgmt"}
    assert model.fetched["tiny-tech"].leads and not model.fetched["tiny-mgmt"].leads
    assert set(model.submitted) == {"tiny-tech", "tiny-mgmt"}
    # the score is the gradebook's, as the feedback j1 fetched carries it
    truth = read_scores(journey.ws, journey.ws.load(), ["tiny-mgmt"])[("tiny-mgmt", "j1")]
    score = model.scores["tiny-mgmt"]
    assert score.score == truth.auto_score > 0
    assert score.max_score == truth.auto_max + truth.manual_max
    assert score.written_pending
    assert {p.name for p in model.feedback["tiny-mgmt"]} == {"checkpoint.html"}
    page = programme_body(model, "/user/j1/")
    assert "<td>2027-01-11 23:59 UTC</td>" in page
    assert "checkpoint feedback (20" in page and ".html (" not in page  # a title, not a file
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", page)  # times to the minute, for people
    assert f"{score.score:g} / {score.max_score:g} (written answer not graded yet)" in page
    assert 'href="/user/j1/lab/tree/tiny-mgmt/feedback/' in page
    assert 'target="_blank" rel="noopener"' in page


def test_the_partners_score_is_never_read_though_it_is_in_the_exchange(
    journey: Journey,
) -> None:
    exchange = journey.ws.root / "exchange"
    released = [p.read_text("utf-8") for p in exchange.rglob("feedback/*.html")]
    assert any('"module": "tiny-tech"' in text for text in released)  # s1's, in the exchange
    model = journey.read("j1")
    assert set(model.scores) == {"tiny-mgmt"}
    assert "tiny-tech" not in model.feedback
    # s1 has not fetched theirs: they see no score either, though it is released
    assert journey.read("s1").scores == {}


def test_reflections_come_from_the_participants_own_store_only(journey: Journey) -> None:
    model = journey.read("j1")
    assert [(r.module, r.prompt, r.shared) for r in model.reflections] == [
        ("tiny-mgmt", "takeaway", False),
        ("tiny-tech", "plan", True),
    ]
    assert "s1's own" not in repr(model)
    page = programme_body(model, "/")
    assert 'href="reflection/tiny-mgmt/takeaway"' in page
    shown = reflection_body(model, "tiny-mgmt", "takeaway")
    assert shown is not None and ESCAPED in shown and HOSTILE not in shown
    assert reflection_body(model, "tiny-tech", "nothing") is None


def _home_copy(journey: Journey, tmp_path: Path) -> Path:
    home = tmp_path / "j1"
    shutil.copytree(journey.home(), home, symlinks=True)
    return home


def test_a_hostile_partner_id_is_shown_escaped(journey: Journey, tmp_path: Path) -> None:
    home = _home_copy(journey, tmp_path)
    for module in ("tiny-tech", "tiny-mgmt"):
        path = home / module / CONTEXT_FILE
        data = json.loads(path.read_text("utf-8"))
        data["participants"]["j1"]["partner"] = HOSTILE
        data["title"] = HOSTILE
        path.write_text(json.dumps(data), "utf-8")
    page = programme_body(journey.read("j1", home), "/")
    assert ESCAPED in page and HOSTILE not in page and "<img" not in page


def test_damaged_files_become_notes_not_errors(journey: Journey, tmp_path: Path) -> None:
    home = _home_copy(journey, tmp_path)
    (home / "tiny-tech" / PROGRAMME_FILE).write_text("{not json", "utf-8")
    (home / "tiny-mgmt" / PROGRAMME_FILE).write_text('{"course_id": "cohort"}', "utf-8")
    (home / "old-copy").mkdir()
    (home / "old-copy" / CONTEXT_FILE).write_text('{"cohort": 1}', "utf-8")
    [feedback] = (home / "tiny-mgmt" / "feedback").glob("*/checkpoint.html")
    feedback.write_text(
        '<script type="application/json" id="tandem-feedback-summary">{"score": </script>',
        "utf-8",
    )
    store = tmp_path / "store"
    shutil.copytree(journey.store, store)
    (store / "j1" / "cohort" / "tiny-tech" / "plan.json").write_text("[]", "utf-8")
    model = read_programme("j1", root=home, cache=home / ".nbgrader-cache", store=store)
    notes = "\n".join(model.notes)
    assert "tiny-tech/tandem_programme.json: unreadable programme file" in notes
    assert "tiny-mgmt/tandem_programme.json: damaged" in notes
    assert "old-copy/tandem_context.json" in notes
    assert "checkpoint.html: its score summary is damaged" in notes
    assert "reflection tiny-tech/plan.json: damaged" in notes
    # what is intact is still shown
    assert model.partner == "s1" and set(model.fetched) == {"tiny-tech", "tiny-mgmt"}
    assert model.scores == {} and [r.prompt for r in model.reflections] == ["takeaway"]
    page = programme_body(model, "/")
    assert "Notes" in page and "old-copy" in page


def test_nothing_fetched_yet_says_so(tmp_path: Path) -> None:
    model = read_programme("j1", root=tmp_path, cache=tmp_path / "cache", store=tmp_path)
    assert model.notes == ["No module fetched yet: fetch one from the Assignments tab."]
    assert "No module fetched yet" in programme_body(model, "/")


def test_the_follow_up_release_updates_the_programme_file(tmp_path: Path) -> None:
    from ..cohort.test_followup import FOLLOWUP, _add_followup

    manifest = tmp_path / "programme" / "curriculum" / "program.yml"
    shutil.copytree(FIXTURES / "programme", tmp_path / "programme")
    _add_followup(manifest)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER_2_PAIRS, encoding="utf-8")
    init_cohort(tmp_path / "cohort", roster, curriculum=manifest, schedule=Schedule(start=START))
    release_session(tmp_path / "cohort", "s1")
    before = json.loads(
        (tmp_path / "cohort" / "release" / "tiny-tech" / PROGRAMME_FILE).read_text("utf-8")
    )
    assert before["followup"] == {"id": FOLLOWUP, "title": "Three months on", "released": False}
    done = release_followup(tmp_path / "cohort", today=START + dt.timedelta(days=91))
    after = json.loads((done.folder / PROGRAMME_FILE).read_text("utf-8"))
    assert after["followup"]["released"] is True and after["sessions"][0]["released"]


# -- the page process ------------------------------------------------------------------


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=10)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.socket_path)


def _get(socket_path: str, path: str) -> tuple[int, dict[str, str], str]:
    connection = UnixConnection(socket_path)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode("utf-8")
    finally:
        connection.close()


def _jupyter_server_proxy_socket() -> str:
    """The socket path jupyter-server-proxy gives a server with ``unix_socket: True``,
    made by its own code (``SuperviseAndProxyHandler.unix_socket``)."""
    from jupyter_server_proxy.handlers import SuperviseAndProxyHandler

    class Settings:
        state: dict[str, Any] = {}  # noqa: RUF012
        requested_unix_socket = server_proxy()["unix_socket"]

    path = SuperviseAndProxyHandler.unix_socket.fget(Settings())  # type: ignore[attr-defined]
    return str(path)


@pytest.fixture
def page_process(journey: Journey) -> Iterator[str]:
    """The page as jupyter-server-proxy starts it (its command, its socket), as j1."""
    socket_path = _jupyter_server_proxy_socket()
    command = [
        part.format(unix_socket=socket_path, base_url="/user/j1/")
        for part in server_proxy()["command"]
    ]
    env = {
        **os.environ,
        "TANDEM_PARTICIPANT": "j1",
        "TANDEM_HOME": str(journey.store),
        "TANDEM_PROGRAMME_ROOT": str(journey.home()),
        "TANDEM_NBGRADER_CACHE": str(journey.cache),
    }
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    while not os.path.exists(socket_path):
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() - started < 10
        time.sleep(0.02)
    yield socket_path
    process.terminate()
    process.wait(timeout=10)
    assert not os.path.exists(socket_path)  # it removes its socket when stopped
    shutil.rmtree(os.path.dirname(socket_path), ignore_errors=True)


def test_the_page_process_serves_the_page_on_a_private_unix_socket(
    page_process: str, journey: Journey
) -> None:
    folder = Path(page_process).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(os.stat(page_process).st_mode) == 0o600
    status, headers, body = _get(page_process, "/")
    assert status == 200
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert 'Your partner: <strong class="partner">s1</strong>' in body
    assert "/user/j1/lab/tree/tiny-mgmt/feedback/" in body
    status, _, body = _get(page_process, "/reflection/tiny-mgmt/takeaway")
    assert status == 200 and ESCAPED in body and HOSTILE not in body
    for missing in ("/reflection/tiny-mgmt/none", "/etc/passwd", "/reflection/../../x", "/a"):
        assert _get(page_process, missing)[0] == 404, missing


def test_the_page_rereads_the_files_on_every_request(page_process: str, journey: Journey) -> None:
    assert "fresh-thought" not in _get(page_process, "/")[2]
    key = Key("j1", journey.ws.load().course_id, "tiny-mgmt", "fresh-thought")
    Store(journey.store).save(key, "new")
    try:
        assert "fresh-thought" in _get(page_process, "/")[2]
    finally:
        Store(journey.store).path(key).unlink()


def test_the_page_refuses_a_socket_folder_others_can_enter(tmp_path: Path) -> None:
    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    result = subprocess.run(
        [sys.executable, "-m", "tandem.hub.programme_page", "--socket", str(folder / "s")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "other accounts could connect" in result.stderr
    assert not (folder / "s").exists()


def test_the_page_process_starts_without_heavy_imports() -> None:
    code = (
        "import sys, tandem.hub.programme_page; "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'nbgrader', 'nbconvert', "
        "'sqlalchemy', 'tornado') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_jupyter_server_proxy_finds_the_launcher_entry_on_a_unix_socket() -> None:
    from jupyter_server_proxy.config import get_entrypoint_server_processes

    [process] = [p for p in get_entrypoint_server_processes() if p.name == "tandem-programme"]
    assert process.launcher_entry.title == "My programme"
    assert Path(process.launcher_entry.icon_path).read_text("utf-8").startswith("<svg")
    assert process.unix_socket is True and process.new_browser_tab is False
    assert process.command[1:3] == ["-m", "tandem.hub.programme_page"]
    assert "{unix_socket}" in process.command
