"""The hub's settings file and ``deploy/jupyterhub/jupyterhub_config.py`` read with it."""

from __future__ import annotations

import runpy
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from tandem.cohort.membership import withdraw
from tandem.cohort.workspace import Workspace
from tandem.errors import HubError
from tandem.hub.settings import (
    SETTINGS_ENV,
    CohortSection,
    HubSettings,
    dump_settings,
    load_settings,
    participant_of,
)
from tests.factories import run_cli

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"


def _settings(ws: Workspace, tmp_path: Path) -> HubSettings:
    return HubSettings(
        cohort=CohortSection(
            workspace=ws.root,
            course_id=ws.load().course_id,
            prefix="tdm-",
            facilitators=["tdm-lead"],
            exchange=tmp_path / "exchange",
        )
    )


def test_the_shipped_example_settings_are_valid() -> None:
    settings = load_settings(ROOT / "deploy" / "jupyterhub" / "tandem-hub.toml")
    assert settings.hub.ip == "127.0.0.1" and settings.cohort.prefix == "tdm-"


def test_written_settings_read_back_the_same(
    cohort_at: Callable[..., Workspace], tmp_path: Path
) -> None:
    settings = _settings(cohort_at("initialised"), tmp_path)
    path = tmp_path / "hub.toml"
    path.write_text(dump_settings(settings))
    assert load_settings(path) == settings


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (
            '[hub]\nport = 99999\n[cohort]\nworkspace = "/x"\ncourse_id = "c"\n'
            'facilitators = ["f"]\n',
            "hub.port",
            "less than or equal",
        ),
        (
            '[cohort]\nworkspace = "/x"\ncourse_id = "c"\nfacilitators = ["f"]\ncolour = 1\n',
            "cohort.colour",
            "Extra inputs",
        ),
        (
            '[cohort]\nworkspace = "/x"\ncourse_id = "c"\nfacilitators = ["Root!"]\n',
            "",
            "facilitator account 'Root!'",
        ),
        ("[cohort\n", "", "not valid TOML"),
    ],
)
def test_a_bad_settings_file_is_refused_naming_the_file_and_key(
    tmp_path: Path, text: str, where: str, says: str
) -> None:
    path = tmp_path / "hub.toml"
    path.write_text(text)
    with pytest.raises(HubError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert str(path) in message and says in message and where in message


def test_the_reverse_mapping_finds_the_roster_id_of_an_account(
    cohort_at: Callable[..., Workspace], tmp_path: Path
) -> None:
    settings = _settings(cohort_at("initialised"), tmp_path)
    assert participant_of(settings, "tdm-j1") == "j1"
    assert participant_of(settings, "tdm-lead") is None  # the facilitator
    assert participant_of(settings, "j1") is None  # not an account of this cohort


def test_the_hub_config_takes_everything_from_the_settings(
    cohort_at: Callable[..., Workspace], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = cohort_at("initialised")
    settings = _settings(ws, tmp_path)
    path = tmp_path / "hub.toml"
    path.write_text(dump_settings(settings))
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    c = Config()
    runpy.run_path(str(CONFIG), init_globals={"c": c})

    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.port == 8000
    assert c.JupyterHub.spawner_class == "localprocess"
    assert c.Spawner.cmd == ["/opt/tandem-hub/venv/bin/jupyterhub-singleuser"]
    course = ws.load().course_id
    assert c.LocalAuthenticator.allowed_groups == {
        f"tdm-{course}-participants",
        f"tdm-{course}-facilitators",
    }
    assert c.Authenticator.admin_users == set()  # an admin could open anyone's server
    variable = c.Spawner.environment["TANDEM_PARTICIPANT"]

    def spawner(name: str) -> SimpleNamespace:
        return SimpleNamespace(user=SimpleNamespace(name=name))

    assert variable(spawner("tdm-s1")) == "s1"
    assert variable(spawner("tdm-lead")) == ""
    c.Spawner.pre_spawn_hook(spawner("tdm-s1"))  # allowed
    withdraw(ws.root, "s1")
    with pytest.raises(RuntimeError, match="s1 has withdrawn"):
        c.Spawner.pre_spawn_hook(spawner("tdm-s1"))


def test_without_root_hub_up_and_down_refuse_and_start_nothing(
    cohort_at: Callable[..., Workspace],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tandem.hub.unix.is_root", lambda: False)
    ws = cohort_at("initialised")
    state = tmp_path / "state"
    argv = [
        "hub",
        "up",
        str(ws.root),
        "--state-dir",
        str(state),
        "--environment",
        str(tmp_path / "env"),
    ]
    code, _, err = run_cli(argv, capsys)
    assert code == 1
    assert "needs root" in err and "Nothing was started" in err
    assert not state.exists() and not (tmp_path / "env").exists()
    code, _, err = run_cli(["hub", "down", "--state-dir", str(state)], capsys)
    assert code == 1 and "needs root" in err
    settings = tmp_path / "hub.toml"
    settings.write_text(dump_settings(_settings(ws, tmp_path)))
    code, _, err = run_cli(["hub", "prepare", "--settings", str(settings)], capsys)
    assert code == 1 and "needs root" in err
    assert not (tmp_path / "exchange").exists()
