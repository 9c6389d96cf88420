"""Defer the imports that make Jupyter processes start slowly, without changing them.

- ``rfc3987_syntax``: ``jsonschema`` (imported by nbformat, hence by papermill, nbclient,
  nbconvert and nbgrader) imports it when it is itself imported, to check the ``iri``
  string formats. The module compiles a Lark grammar on import: ~2 s here, in every new
  process (jsonschema issue #1428; nbformat validates notebooks without format checks,
  so the grammar is never used by Tandem).
- ``setuptools.archive_util``: ``nbgrader.utils`` imports its three unpacking functions
  (for zipped submissions, ``nbgrader zip_collect``), and with them all of setuptools
  and ``pkg_resources``: ~0.25 s in every process that imports nbgrader (a grading
  command and its pool), for functions grading never calls.

:func:`install` puts a stand-in for each in ``sys.modules`` whose functions import the
real module on their first call, and which hands over any other attribute the same way,
so a program that does check IRIs or unpack archives gets exactly the same answers, a
little later. Tandem installs them in its own processes only: the CLI and the pool that
runs jobs (never in kernels). Importing this module installs them.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

#: Module -> (the functions its importers take from it, modules that already hold the
#: real one: once any of these is loaded, a stand-in is too late to help).
DEFERRED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "rfc3987_syntax": (("is_valid_syntax",), ("jsonschema",)),
    "setuptools.archive_util": (
        ("unpack_archive", "unpack_tarfile", "unpack_zipfile"),
        ("setuptools", "nbgrader.utils"),
    ),
}


class _Deferred(types.ModuleType):
    """Stands in for a module until something uses it."""

    def __init__(self, name: str, functions: tuple[str, ...]) -> None:
        super().__init__(name, f"Stand-in for {name}, imported on first use (Tandem).")
        self._real: types.ModuleType | None = None
        self._lock = threading.Lock()
        for function in functions:
            setattr(self, function, self._forward(function))

    def real(self) -> types.ModuleType:
        with self._lock:
            if self._real is None:
                del sys.modules[self.__name__]
                try:
                    self._real = importlib.import_module(self.__name__)
                except BaseException:
                    sys.modules[self.__name__] = self
                    raise
            return self._real

    def _forward(self, function: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            return getattr(self.real(), function)(*args, **kwargs)

        call.__name__ = call.__qualname__ = function
        return call

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.real(), name)


def install() -> list[str]:
    """Install a stand-in for each module in :data:`DEFERRED` that is installed and not
    loaded yet, nor any module that holds it. Returns the names that have a stand-in."""
    deferred = []
    for name, (functions, holders) in DEFERRED.items():
        if name in sys.modules or any(holder in sys.modules for holder in holders):
            if isinstance(sys.modules.get(name), _Deferred):
                deferred.append(name)
            continue
        top = name.partition(".")[0]  # find_spec of a submodule would import its package
        if importlib.util.find_spec(top) is None:
            continue
        sys.modules[name] = _Deferred(name, functions)
        deferred.append(name)
    return deferred


install()
