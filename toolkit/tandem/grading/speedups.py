"""Two speed-ups of nbgrader's own code in the grading process; the SQL, the checks and
their results stay nbgrader's (measured in docs/scale.md)."""

from __future__ import annotations

import functools
import json
from typing import Any


class _SchemaCheckedOnce:
    """``jsonschema`` as nbgrader's metadata checks see it, but with a ``validate`` that
    checks each schema against the meta-schema once, not on every call."""

    def __init__(self, module: Any) -> None:
        self._module = module
        self._validators: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def validate(self, instance: Any, schema: Any, cls: Any = None, *args: Any, **kw: Any) -> None:
        """``jsonschema.validate``, with the schema check and validator kept per schema."""
        if cls is not None or args or kw:
            self._module.validate(instance, schema, cls, *args, **kw)
            return
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            kind = self._module.validators.validator_for(schema)
            kind.check_schema(schema)
            validator = self._validators[key] = kind(schema)
        error = self._module.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


def check_metadata_schema_once() -> None:
    """nbgrader checks every cell's nbgrader metadata with ``jsonschema.validate``, which
    first re-checks nbgrader's own, constant schema against the JSON-schema meta-schema:
    ~1 ms a cell, most of ``CheckCellMetadata``'s time, twice per submission in this
    process. Validating a cell then goes exactly as ``jsonschema.validate`` does it (the
    same validator class and ``best_match`` error), without the repeated schema check."""
    from nbgrader.nbgraderformat import common

    if not isinstance(common.jsonschema, _SchemaCheckedOnce):
        common.jsonschema = _SchemaCheckedOnce(common.jsonschema)


class _TablesCreatedOnce:
    """``MetaData.create_all`` that does its work once per engine (see below)."""

    def __init__(self, create_all: Any) -> None:
        self.create_all = create_all
        self.done: set[Any] = set()

    def __call__(self, bind: Any = None, **kwargs: Any) -> None:
        if bind is None or bind not in self.done:
            self.create_all(bind=bind, **kwargs)
            if bind is not None:
                self.done.add(bind)


def share_gradebook_engines() -> None:
    """nbgrader opens a ``Gradebook`` ~9 times per submission, each with a new SQLAlchemy
    engine that first checks every table exists (``create_all``); an engine's compiled-SQL
    cache lives and dies with it, so every query was compiled again each time. That was
    most of the grading process's time in nbgrader's ``init_assignment``. In this process
    ``Gradebook`` gets one engine per database URL, and the tables are checked (and made
    if missing) on an engine's first ``Gradebook`` only. Each ``Gradebook`` still has its
    own session and connection and closes them as before (``dispose()`` on a shared engine
    closes its idle connections; the cache stays); the SQL, the transactions and the
    database are nbgrader's. Measured: 4.7 ms -> 1.3 ms per ``Gradebook``."""
    from nbgrader import api

    if not isinstance(api.create_engine, functools._lru_cache_wrapper):
        api.create_engine = functools.cache(api.create_engine)
    metadata = api.Base.metadata
    if not isinstance(metadata.create_all, _TablesCreatedOnce):
        metadata.create_all = _TablesCreatedOnce(metadata.create_all)
