"""The hub's settings file, read by ``deploy/jupyterhub/jupyterhub_config.py``.

One small TOML file says everything that differs between two hubs: where the hub listens,
where its state lives, the single-user environment, the cohort's workspace, the account
prefix and the facilitators, the exchange. ``tandem hub up`` writes it for a trial hub;
a production hub's administrator writes it by hand (``deploy/jupyterhub/tandem-hub.toml``
is the commented example). An unknown key or a bad value is refused, naming the file and
the key.

The reverse of the account mapping (:func:`participant_of`) is computed, not stored: the
hub reads the cohort's roster and maps every roster id forwards with
:func:`~tandem.hub.accounts.hub_user`, so the mapping cannot drift from a roster change.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tandem.errors import HubError
from tandem.hub.accounts import DEFAULT_PREFIX, check_prefix, check_unix_name, hub_user

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SETTINGS_ENV = "TANDEM_HUB_SETTINGS"
"""The variable that tells ``jupyterhub_config.py`` where the settings file is."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HubSection(_Strict):
    ip: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    hub_port: int = Field(default=8081, ge=1, le=65535)
    proxy_api_port: int = Field(default=8001, ge=1, le=65535)
    state_dir: Path = Path("/var/lib/tandem-hub")
    environment: Path = Path("/opt/tandem-hub/venv")
    proxy: Path = Path("/opt/tandem-hub/chp/node_modules/.bin/configurable-http-proxy")
    authenticator: Literal["pam"] = "pam"


class CohortSection(_Strict):
    workspace: Path
    course_id: str
    prefix: str = DEFAULT_PREFIX
    facilitators: list[str] = Field(min_length=1)
    exchange: Path = Path("/srv/nbgrader/exchange")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        return check_prefix(value)

    @field_validator("facilitators")
    @classmethod
    def _facilitators(cls, value: list[str]) -> list[str]:
        return [check_unix_name(name, what="facilitator account") for name in value]


class HubSettings(_Strict):
    hub: HubSection = Field(default_factory=HubSection)
    cohort: CohortSection

    @property
    def url(self) -> str:
        return f"http://{self.hub.ip}:{self.hub.port}/"


def load_settings(path: Path | str) -> HubSettings:
    """The settings in ``path``; :class:`HubError` naming the file and key otherwise."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HubError(f"cannot read the hub settings: {exc.strerror}", path=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise HubError(f"not valid TOML: {exc}", path=path) from exc
    try:
        return HubSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise HubError(first["msg"], path=path, where=where) from exc
    except Exception as exc:  # the validators' own TandemErrors, wrapped by pydantic
        raise HubError(str(exc), path=path) from exc


def dump_settings(settings: HubSettings) -> str:
    """``settings`` as the TOML text :func:`load_settings` reads back."""

    def value(item: object) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int):
            return str(item)
        if isinstance(item, list):
            return "[" + ", ".join(value(v) for v in item) + "]"
        text = str(item).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'

    lines = ["# Written by `tandem hub up`; read by deploy/jupyterhub/jupyterhub_config.py."]
    for section in ("hub", "cohort"):
        lines.append(f"\n[{section}]")
        for key, item in getattr(settings, section).model_dump().items():
            lines.append(f"{key} = {value(item)}")
    return "\n".join(lines) + "\n"


def participant_of(settings: HubSettings, account: str) -> str | None:
    """The roster id whose account is ``account`` in the settings' cohort (withdrawn
    participants included), or None for anyone else (a facilitator, a stranger)."""
    from tandem.cohort.workspace import Workspace

    cohort = Workspace(settings.cohort.workspace).load()
    for person in cohort.participants:
        if hub_user(person.id, settings.cohort.prefix) == account:
            return person.id
    return None


def withdrawn(settings: HubSettings, participant: str) -> bool:
    from tandem.cohort.workspace import Workspace

    return participant in Workspace(settings.cohort.workspace).load().withdrawn


__all__ = [
    "SETTINGS_ENV",
    "CohortSection",
    "HubSection",
    "HubSettings",
    "dump_settings",
    "load_settings",
    "participant_of",
    "withdrawn",
]
