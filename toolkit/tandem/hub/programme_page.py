"""The "My programme" page: a small HTTP server on a Unix socket, behind
jupyter-server-proxy, opened from JupyterLab's launcher.

jupyter-server-proxy finds :func:`server_proxy` through the entry point group
``jupyter_serverproxy_servers`` (``tandem-programme`` in ``pyproject.toml``) and starts
``python -m tandem.hub.programme_page --socket {unix_socket}`` on the first request.
With ``unix_socket: True`` it makes the socket in a new ``mkdtemp`` folder, which is
mode 0700: no other account on a shared hub can connect, where a TCP port on 127.0.0.1
would be open to every local user. The page refuses to listen in a folder that others
can enter.

Every request re-reads the participant's own files (:mod:`tandem.hub.programme`): a
feedback fetched a moment ago shows on reload. It answers ``GET /`` (the page) and
``GET /reflection/<module>/<prompt>`` (one reflection's latest text); anything else is
404. Every value is escaped, and the pages carry :data:`tandem.htmlpage`'s policy: no
script runs. Feedback pages open in JupyterLab (``lab/tree/...``), whose HTML viewer
keeps their scripts off until the participant trusts them.

Only the standard library and light Tandem modules are imported: it starts in a few
tenths of a second.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socketserver
import stat
import sys
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from tandem import htmlpage
from tandem.errors import HubError, TandemError
from tandem.hub.programme import (
    Programme,
    SessionInfo,
    default_cache,
    default_root,
    read_programme,
)
from tandem.notebook.checkin import participant_id

TITLE = "My programme"
ICON = Path(__file__).with_name("programme.svg")
HEADERS = {
    "Content-Security-Policy": htmlpage.CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def server_proxy() -> dict[str, Any]:
    """jupyter-server-proxy's settings for the page (the entry point's target)."""
    return {
        "command": [
            sys.executable,
            "-m",
            "tandem.hub.programme_page",
            "--socket",
            "{unix_socket}",
            "--base-url",
            "{base_url}",
        ],
        "unix_socket": True,
        "timeout": 30,
        "new_browser_tab": False,
        "launcher_entry": {"title": TITLE, "icon_path": str(ICON), "category": "Other"},
    }


# -- the pages -------------------------------------------------------------------------


def _when(value: str | None) -> str:
    """An ISO 8601 time, or nbgrader's ``2026-12-06 01:53:57.347978 UTC``, as
    ``YYYY-MM-DD HH:MM`` (UTC when it says so); else as given."""
    if not value:
        return "-"
    text = value[:-4] + "+00:00" if value.endswith(" UTC") else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return value
    zone = " UTC" if moment.utcoffset() is not None and not moment.utcoffset() else ""
    return moment.strftime("%Y-%m-%d %H:%M") + zone


def _feedback_title(name: str) -> str:
    """nbgrader's page on the checkpoint, or the lead's page (named after the lesson)."""
    return "checkpoint feedback" if name == "checkpoint.html" else "feedback from your partner"


def _lab_link(base_url: str, relative: str, label: str) -> str:
    href = base_url + "lab/tree/" + quote(relative)
    return f'<a href="{htmlpage.escape(href)}" target="_blank" rel="noopener">' + (
        f"{htmlpage.escape(label)}</a>"
    )


def _module_cells(model: Programme, module_id: str, lead: str, base_url: str) -> list[str]:
    """you, fetched, submitted, score, feedback: escaped HTML of each cell."""
    esc = htmlpage.escape
    fetched = model.fetched.get(module_id)
    if fetched is not None:
        you = "lead" if fetched.leads else ("learner" if lead else "-")
    elif model.role and lead:
        you = "lead" if model.role == lead else "learner"
    else:
        you = "-"
    stamps = model.submitted.get(module_id, [])
    score = model.scores.get(module_id)
    score_text = "-"
    if score is not None:
        score_text = esc(f"{score.score:g} / {score.max_score:g}")
        if score.written_pending:
            score_text += " (written answer not graded yet)"
    pages = model.feedback.get(module_id, [])
    feedback = "<br>".join(
        _lab_link(base_url, p.path, f"{_feedback_title(p.name)} ({_when(p.timestamp)})")
        for p in pages
    )
    return [
        esc(you),
        "yes" if fetched is not None else "not yet",
        esc(_when(stamps[-1])) if stamps else "not yet",
        score_text,
        feedback or "-",
    ]


COLUMNS = ("module", "track", "you", "due", "fetched", "submitted", "score", "feedback")


def _table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>"


def _session(model: Programme, session: SessionInfo, base_url: str) -> str:
    esc = htmlpage.escape
    heading = esc(session.title) + (f" ({esc(session.date)})" if session.date else "")
    if not session.released:
        return f"<h3>{heading}</h3>\n<p>Not released yet.</p>"
    rows = []
    for m in session.modules:
        you, *rest = _module_cells(model, m.id, m.lead, base_url)
        rows.append([esc(m.title), esc(m.track), you, esc(_when(m.due)), *rest])
    return f"<h3>{heading}</h3>\n{_table(rows)}"


def programme_body(model: Programme, base_url: str) -> str:
    """The page's body for ``model``; every value escaped."""
    esc = htmlpage.escape
    parts = [f"<h1>{TITLE}</h1>"]
    if model.title or model.cohort:
        parts.append(f"<p>{esc(model.title or '')} &middot; cohort: {esc(model.cohort or '')}</p>")
    if model.partner:
        parts.append(
            f"<p>You are <strong>{esc(model.participant)}</strong> ({esc(model.role)}, "
            f'{esc(model.pair)}). Your partner: <strong class="partner">'
            f"{esc(model.partner)}</strong>.</p>"
        )
    else:
        parts.append(f"<p>You are <strong>{esc(model.participant)}</strong>.</p>")
    parts.append("<h2>Sessions</h2>")
    if model.sessions:
        parts += [_session(model, s, base_url) for s in model.sessions]
        if model.followup is not None:
            state = "released" if model.followup_released else "not released yet"
            parts.append(f"<h3>Follow-up: {esc(model.followup.title)}</h3><p>{state}</p>")
    elif model.fetched:
        rows = []
        for f in model.fetched.values():
            you, *rest = _module_cells(model, f.module, "", base_url)
            rows.append([esc(f.title), "-", you, "-", *rest])
        parts.append(_table(rows))
    parts.append(_reflections(model))
    if model.notes:
        notes = "".join(f"<li>{esc(n)}</li>" for n in model.notes)
        parts.append(f'<h2>Notes</h2>\n<ul class="notes">{notes}</ul>')
    parts.append(
        "<p>Scores and feedback appear here once your facilitator releases them and you "
        "fetch your feedback (Assignments tab). Reload this page to see what changed.</p>"
    )
    return "\n".join(parts)


def _reflections(model: Programme) -> str:
    esc = htmlpage.escape
    if not model.reflections:
        return "<h2>Your reflections</h2>\n<p>None saved yet.</p>"
    rows = "".join(
        f"<tr><td>{esc(r.module)}</td><td>{esc(r.prompt)}</td><td>{esc(_when(r.saved))}</td>"
        f"<td>{'shared' if r.shared else 'private'}</td><td>"
        f'<a href="reflection/{quote(r.module)}/{quote(r.prompt)}">read</a></td></tr>'
        for r in model.reflections
    )
    return (
        "<h2>Your reflections</h2>\n<p>From your own private store; <em>shared</em> ones "
        "also went to your partner and facilitator in your check-in.</p>\n<table><thead><tr>"
        "<th>module</th><th>prompt</th><th>last saved</th><th></th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def reflection_body(model: Programme, module: str, prompt: str) -> str | None:
    """One reflection's latest text (escaped, line breaks kept), or None if none."""
    reflection = model.reflection(module, prompt)
    if reflection is None:
        return None
    esc = htmlpage.escape
    state = "shared with your partner and facilitator" if reflection.shared else "private"
    return (
        f"<h1>{esc(reflection.module)}: {esc(reflection.prompt)}</h1>\n"
        f"<p>Last saved {esc(_when(reflection.saved))}; {state}.</p>\n"
        f'<p class="reflection" style="white-space: pre-wrap">{esc(reflection.text)}</p>\n'
        '<p><a href="../../">Back to My programme</a></p>'
    )


# -- the server ------------------------------------------------------------------------


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, settings: argparse.Namespace) -> None:
        self.settings = settings
        super().__init__(path, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "TandemProgramme"
    sys_version = ""

    def address_string(self) -> str:  # a Unix socket's peer has no address
        return "local"

    def log_message(self, format: str, *args: Any) -> None:
        return  # the proxy logs requests; nothing here names a participant's files

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        parts = [p for p in path.split("/") if p]
        settings = self.server.settings
        try:
            model = read_programme(
                participant_id(),
                root=settings.root,
                cache=settings.cache,
                course=settings.course,
            )
        except TandemError as exc:  # e.g. an unusable store root: say so, on the page
            self._send(500, "My programme", f"<p>{htmlpage.escape(exc)}</p>")
            return
        if not parts or parts == ["index.html"]:
            self._send(200, TITLE, programme_body(model, settings.base_url))
            return
        if len(parts) == 3 and parts[0] == "reflection":
            body = reflection_body(model, parts[1], parts[2])
            if body is not None:
                self._send(200, f"Reflection: {parts[2]}", body)
                return
        self._send(404, "Not found", "<h1>Not found</h1>")

    def _send(self, code: int, title: str, body: str) -> None:
        data = htmlpage.page(title, body).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def check_socket_folder(socket_path: Path) -> None:
    """Refuse a socket whose folder another account could enter (see the docstring)."""
    folder = socket_path.parent
    try:
        info = folder.stat()
    except OSError as exc:
        raise HubError(f"socket folder unusable: {exc.strerror or exc}", path=folder) from None
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise HubError(
            f"socket folder is mode {stat.filemode(info.st_mode)} (owner uid {info.st_uid}): "
            "other accounts could connect; use a folder only you can enter (mode 0700)",
            path=folder,
        )


def make_server(settings: argparse.Namespace) -> _Server:
    """The server, bound to ``settings.socket`` (mode 0600), not yet serving."""
    socket_path = Path(settings.socket)
    check_socket_folder(socket_path)
    socket_path.unlink(missing_ok=True)
    server = _Server(str(socket_path), settings)
    socket_path.chmod(0o600)
    return server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tandem.hub.programme_page")
    parser.add_argument("--socket", required=True, help="the Unix socket to listen on")
    parser.add_argument("--base-url", default="/", help="the Jupyter server's base URL")
    parser.add_argument("--root", type=Path, default=None, help="where modules are fetched")
    parser.add_argument("--cache", type=Path, default=None, help="nbgrader's Exchange.cache")
    parser.add_argument("--course", default=None, help="the course (default: the newest)")
    settings = parser.parse_args(argv)
    settings.root = settings.root or default_root()
    settings.cache = settings.cache or default_cache()
    # One leading slash: "//host/" would be a link to another site.
    settings.base_url = (
        "/" + settings.base_url.strip("/") + "/" if settings.base_url.strip("/") else "/"
    )
    return settings


def main(argv: list[str] | None = None) -> int:
    try:
        server = make_server(parse_args(argv))
    except TandemError as exc:
        print(f"tandem programme page: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)  # how jupyter-server-proxy stops it
    with server, contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    Path(str(server.server_address)).unlink(missing_ok=True)
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
