"""Defer the one import that makes every Jupyter process start slowly: ``rfc3987_syntax``.

``jsonschema`` (imported by nbformat, hence by papermill, nbclient, nbconvert and
nbgrader) imports ``rfc3987_syntax`` when it is itself imported, to check the ``iri``
string formats. That module compiles a Lark grammar on import: ~2 s here, in every
new process (jsonschema issue #1428; nbformat validates notebooks without format
checks, so the grammar is never used by Tandem).

:func:`install` puts a stand-in in ``sys.modules`` whose ``is_valid_syntax`` imports
the real module on its first call, so a program that does check IRIs gets exactly the
same answers, a little later. Tandem installs it in its own processes only: the CLI and
the pool that runs jobs (never in kernels). Importing this module installs it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

NAME = "rfc3987_syntax"


class _Deferred(types.ModuleType):
    """Stands in for the real module until something uses it."""

    def __init__(self) -> None:
        super().__init__(NAME, "Stand-in for rfc3987_syntax, imported on first use (Tandem).")
        self._real: types.ModuleType | None = None
        self._lock = threading.Lock()

    def real(self) -> types.ModuleType:
        with self._lock:
            if self._real is None:
                del sys.modules[NAME]
                try:
                    self._real = importlib.import_module(NAME)
                except BaseException:
                    sys.modules[NAME] = self
                    raise
            return self._real

    def is_valid_syntax(self, rule: str, value: str) -> bool:
        result: bool = self.real().is_valid_syntax(rule, value)
        return result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.real(), name)


def install() -> bool:
    """Install the stand-in unless ``jsonschema`` (or the real module) is already loaded
    or the module is not installed at all. Returns whether it was installed."""
    if NAME in sys.modules or "jsonschema" in sys.modules:
        return isinstance(sys.modules.get(NAME), _Deferred)
    if importlib.util.find_spec(NAME) is None:
        return False
    sys.modules[NAME] = _Deferred()
    return True


install()
