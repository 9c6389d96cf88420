"""Small filesystem helpers: atomic writes, safe ids in paths, paths kept under their root.

Ids derived from text (slugs) follow the one policy of :mod:`tandem.ids`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

from tandem.errors import TandemError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_id(value: str, *, what: str = "id") -> str:
    """Return ``value`` if it is safe to use as a file or folder name, else raise."""
    if not _ID.match(value) or value in {".", ".."} or ".." in value:
        other = sorted({c for c in value if not (c.isascii() and (c.isalnum() or c in "._-"))})
        named = f" ({', '.join(repr(c) for c in other)} not allowed)" if other else ""
        raise TandemError(
            f"{what} {value!r} must be 1-64 ASCII letters (a-z, A-Z), digits, '.', '_' or "
            f"'-', starting with a letter or digit{named}"
        )
    return value


def under(root: Path, *parts: str) -> Path:
    """Join ``parts`` onto ``root`` and refuse a result outside ``root``."""
    path = root.joinpath(*parts).resolve()
    if not path.is_relative_to(root.resolve()):
        raise TandemError(f"path {'/'.join(parts)!r} leaves {root}")
    return path


#: Permissions of what only its owner may read: exports of personal data, private stores.
PRIVATE_MODE = 0o600


def atomic_write_text(
    path: Path, text: str, *, mode: int | None = None, private: bool = False
) -> None:
    """Write ``text`` to ``path`` via a temp file, fsync and rename: never a torn file.

    Permissions: ``private=True`` gives 0600 (owner only: exports of personal data); else
    ``mode`` when given; else the file keeps the permissions of the file it replaces (a
    facilitator's ``chmod`` stays); else a new file follows the process's umask, exactly
    as ``open()`` would (0644 under umask 022, 0600 under 077). The umask is applied by
    the kernel when the temp file is created, never read by setting it: ``os.umask`` is
    process-wide, and reading it that way races with other threads.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        mode = PRIVATE_MODE
    elif mode is None and path.exists():
        mode = path.stat().st_mode & 0o777
    fd, tmp = _create_temp(path, 0o600 if mode is not None else 0o666)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _create_temp(path: Path, mode: int) -> tuple[int, str]:
    """A new temp file beside ``path``, created with ``mode`` less the umask (as ``open``
    creates files), and its name."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), tmp
        except FileExistsError:
            continue
    raise TandemError(f"cannot create a temporary file beside {path}")


def atomic_write_json(path: Path, data: Any, *, private: bool = False) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    atomic_write_text(path, text, private=private)


def replace_tree(source: Path, dest: Path) -> None:
    """Make ``dest`` an exact copy of ``source``."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(
        source, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    )
