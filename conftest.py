"""Suite-wide set-up, also for the curriculum notebooks that nbval runs.

Every kernel the suite starts (nbval, papermill, nbgrader) inherits this process's
environment, so the private store is pointed at a temporary folder here, before any
kernel starts: tests never read or write the real user's reflections.
"""

from __future__ import annotations

import os
import tempfile

import pytest


def pytest_configure(config: pytest.Config) -> None:
    home = tempfile.mkdtemp(prefix="tandem-test-home-")
    os.environ["TANDEM_HOME"] = home
    for variable in ("TANDEM_PARTICIPANT", "TANDEM_CURRICULUM"):
        os.environ.pop(variable, None)
