"""The single-user environment and the proxy of a Tandem hub, made or brought up to date.

One virtual environment serves the hub and every user's server: JupyterHub (the release
pinned in ``pyproject.toml``'s ``hub`` extra), Tandem with its dependencies (JupyterLab,
nbgrader, ipywidgets, jupyter-server-proxy) and the curriculum. It is made from the
system's Python (``/usr/bin/python3``): an interpreter under root's own 0700 home (pyenv,
say) could not be run by the participants' accounts. Tandem is installed from a copy of
the checkout, not in editable mode, so the environment never depends on the checkout's
permissions; a stamp of the sources' hash reinstalls Tandem whenever they change.

Environment-wide Jupyter configuration (``<env>/etc/jupyter``, which outranks
``/etc/jupyter`` and is read only by this environment's processes):

* nbgrader's course id and exchange root, and the student id taken from
  ``$TANDEM_PARTICIPANT`` (the roster id the hub sets), so submissions arrive under roster
  ids, as everywhere else in Tandem;
* the formgrader and *Create assignment* switched off for everyone (the facilitator's own
  ``~/.jupyter`` switches them back on: see :mod:`tandem.hub.trial`);
* ``frame-ancestors 'self'``, without which JupyterLab cannot show the formgrader's frame;
* JupyterLab's *save widget state* off by default.

The proxy, configurable-http-proxy, is installed with ``npm ci`` from
``deploy/jupyterhub/package-lock.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tandem.errors import HubError
from tandem.hub.settings import HubSettings

SYSTEM_PYTHON = Path("/usr/bin/python3")
STAMP = "tandem-hub.stamp"
#: What a Tandem install is built from, relative to the checkout.
_SOURCES = ("pyproject.toml", "README.md", "toolkit", "jupyter-config")
#: What the environment holds from the checkout: the install and the curriculum's copy.
_STAMPED = (*_SOURCES, "curriculum", "exercises")
_SKIP = {"__pycache__", ".mypy_cache", ".pytest_cache"}


def checkout() -> Path:
    """The Tandem checkout this code runs from (``deploy/`` and the sources are there)."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "deploy" / "jupyterhub" / "jupyterhub_config.py").is_file():
        raise HubError(
            "tandem hub up needs a checkout of Tandem (it installs the hub's environment "
            f"and reads deploy/jupyterhub/ from it); none found at {root}"
        )
    return root


def config_file() -> Path:
    return checkout() / "deploy" / "jupyterhub" / "jupyterhub_config.py"


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for name in _STAMPED:
        path = root / name
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not _SKIP & set(p.parts) and not p.name.endswith(".pyc")
            )
    return found


def source_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in _files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _run(command: list[str], what: str, **kwargs: object) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        tail = " | ".join(lines[-3:]) or f"exit {result.returncode}"
        raise HubError(f"{what} failed: {tail}")


def _world_readable(path: Path) -> None:
    """Every directory from / to ``path`` must be traversable by other users."""
    for parent in [path, *path.parents]:
        if parent.exists() and not os.stat(parent).st_mode & 0o001:
            raise HubError(
                f"{parent} is not traversable by other users (mode "
                f"{os.stat(parent).st_mode & 0o777:04o}): the participants' servers could "
                "not run the environment; choose a path outside it or chmod o+x it"
            )


def ensure_environment(settings: HubSettings, python: Path = SYSTEM_PYTHON) -> list[str]:
    """Make or update the environment ``settings`` name; what was done, one line each."""
    env = settings.hub.environment
    root = checkout()
    done: list[str] = []
    env.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(env.parent, 0o755)
    _world_readable(env.parent)
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if not (env / "bin" / "python").is_file():
        if not python.is_file():
            raise HubError(f"{python} not found: install Debian's python3 and python3-venv")
        _run([str(python), "-m", "venv", str(env)], f"making the environment {env}")
        done.append(f"environment {env}: created from {python}")
    stamp_file = env / STAMP
    wanted = source_hash(root)
    stamp = json.loads(stamp_file.read_text()) if stamp_file.is_file() else {}
    if stamp.get("sources") != wanted:
        deps = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()
        with tempfile.TemporaryDirectory(prefix="tandem-src-") as tmp:
            for name in _SOURCES:
                source = root / name
                if source.is_dir():
                    shutil.copytree(source, Path(tmp) / name, ignore=shutil.ignore_patterns(*_SKIP))
                elif source.is_file():
                    shutil.copy2(source, Path(tmp) / name)
            if stamp.get("dependencies") != deps:
                _run([*pip, f"{tmp}[hub]"], "installing JupyterHub and Tandem")
            else:
                _run([*pip, "--no-deps", "--force-reinstall", tmp], "reinstalling Tandem")
        _copy_curriculum(root, env)
        stamp_file.write_text(json.dumps({"sources": wanted, "dependencies": deps}))
        done.append(f"environment {env}: Tandem installed from {root}")
    write_environment_config(settings)
    _ensure_proxy(settings, root, done)
    return done


def curriculum_dir(env: Path) -> Path:
    """Where the environment keeps its copy of the curriculum (readable by everyone)."""
    return env / "share" / "tandem"


def _copy_curriculum(root: Path, env: Path) -> None:
    target = curriculum_dir(env)
    for name in ("curriculum", "exercises"):
        shutil.rmtree(target / name, ignore_errors=True)
        shutil.copytree(root / name, target / name, ignore=shutil.ignore_patterns(*_SKIP))


NBGRADER_CONFIG = """\
# Written by `tandem hub up`: nbgrader on this hub, for every account.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course_id!r}
c.Exchange.root = {exchange!r}
# Participants submit under their roster id (the hub sets TANDEM_PARTICIPANT), as
# everywhere else in Tandem; a facilitator's server has none and collects everyone's.
if os.environ.get("TANDEM_PARTICIPANT"):
    c.CourseDirectory.student_id = os.environ["TANDEM_PARTICIPANT"]
"""

#: Plugins only a facilitator needs: off for everyone at environment level.
FACILITATOR_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment")
FORMGRADER_EXTENSION = "nbgrader.server_extensions.formgrader"


def write_environment_config(settings: HubSettings) -> None:
    etc = settings.hub.environment / "etc" / "jupyter"
    cohort = settings.cohort
    _write(
        etc / "nbgrader_config.py",
        NBGRADER_CONFIG.format(course_id=cohort.course_id, exchange=str(cohort.exchange)),
    )
    # jupyterhub-singleuser sends frame-ancestors 'none': the Lab Formgrader tab is a frame.
    headers = {"Content-Security-Policy": "frame-ancestors 'self'"}
    server = {
        "ServerApp": {
            "tornado_settings": {"headers": headers},
            "jpserver_extensions": {FORMGRADER_EXTENSION: False},
        }
    }
    _write(etc / "jupyter_server_config.d" / "tandem-hub.json", json.dumps(server, indent=2))
    disabled = dict.fromkeys(FACILITATOR_PLUGINS, True)
    _write(
        etc / "labconfig" / "page_config.json",
        json.dumps({"disabledExtensions": disabled}, indent=2),
    )
    overrides = {"@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": False}}
    settings_dir = settings.hub.environment / "share" / "jupyter" / "lab" / "settings"
    _write(settings_dir / "overrides.json", json.dumps(overrides, indent=2))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    os.chmod(path, 0o644)


def _ensure_proxy(settings: HubSettings, root: Path, done: list[str]) -> None:
    proxy = settings.hub.proxy
    ours = proxy.parts[-3:] == ("node_modules", ".bin", "configurable-http-proxy")
    lock = hashlib.sha256((root / "deploy/jupyterhub/package-lock.json").read_bytes()).hexdigest()
    stamp = proxy.parents[2] / STAMP if ours else None
    if proxy.is_file() and (stamp is None or (stamp.is_file() and stamp.read_text() == lock)):
        return  # installed from this lock file (or installed by the administrator)
    if not ours:
        raise HubError(f"the proxy {proxy} is missing (install configurable-http-proxy)")
    npm = shutil.which("npm")
    if npm is None:
        raise HubError(
            "npm not found: the hub's proxy, configurable-http-proxy, is an npm package; "
            "install Node.js and npm (Debian: apt-get install -y nodejs npm)"
        )
    prefix = proxy.parents[2]
    prefix.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(root / "deploy" / "jupyterhub" / name, prefix / name)
    _run([npm, "ci", "--omit=dev", "--no-audit", "--no-fund"], "npm ci (the proxy)", cwd=prefix)
    (prefix / STAMP).write_text(lock)
    done.append(f"proxy {proxy}: installed (configurable-http-proxy, npm ci)")


__all__ = [
    "FACILITATOR_PLUGINS",
    "FORMGRADER_EXTENSION",
    "checkout",
    "config_file",
    "curriculum_dir",
    "ensure_environment",
    "source_hash",
    "write_environment_config",
]
