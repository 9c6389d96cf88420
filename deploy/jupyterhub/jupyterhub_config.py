"""Tandem's JupyterHub: one cohort, one Unix account per person, nbgrader's exchange.

Read by ``jupyterhub -f deploy/jupyterhub/jupyterhub_config.py``. Everything that differs
between two hubs is in the settings file named by ``$TANDEM_HUB_SETTINGS`` (default:
``tandem-hub.toml`` beside this file; ``tandem hub up`` writes one for a trial hub). What
the settings mean, and what ``tandem hub up`` prepares around this file (the single-user
environment, the exchange, the accounts, the facilitator's formgrader), is in
``docs/deployment.md``. Verified with JupyterHub 6.1.1, configurable-http-proxy 5.3.0,
nbgrader 0.9.6 and JupyterLab 4.6.

The hub runs as root: PAM checks passwords against /etc/shadow and the LocalProcessSpawner
starts each user's server as their own Unix user.
"""

# ruff: noqa: F821  (``c`` is the config object JupyterHub passes in)
from __future__ import annotations

import os
from pathlib import Path

from tandem.hub.accounts import group_names
from tandem.hub.settings import SETTINGS_ENV, load_settings, participant_of, withdrawn

settings = load_settings(
    os.environ.get(SETTINGS_ENV) or Path(__file__).with_name("tandem-hub.toml")
)
hub, cohort = settings.hub, settings.cohort
environment = hub.environment
participants_group, facilitators_group = group_names(cohort.course_id, cohort.prefix)

# Where the hub listens; the hub's own API and the proxy's API stay on the loopback.
c.JupyterHub.ip = hub.ip
c.JupyterHub.port = hub.port
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = hub.hub_port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{hub.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [str(hub.proxy)]
c.ConfigurableHTTPProxy.pid_file = str(hub.state_dir / "proxy.pid")

# The hub's state: its database and cookie secret (both secret: state_dir is root's, 0700).
c.JupyterHub.db_url = f"sqlite:///{hub.state_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(hub.state_dir / "jupyterhub_cookie_secret")

# Who may log in: the cohort's participants and its facilitators, by Unix group (so an
# account that `tandem hub users --apply` adds later may log in without a restart). No one
# is a hub admin: an admin could open every participant's server, private reflections
# included.
c.JupyterHub.authenticator_class = hub.authenticator  # "pam": the only one built
c.LocalAuthenticator.allowed_groups = {participants_group, facilitators_group}
c.Authenticator.admin_users = set()

# Each user's server: the single-user environment, as their own Unix user, in their home.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(environment / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120


def _participant(spawner) -> str:  # type: ignore[no-untyped-def]
    """The roster id of the account being spawned ("" for a facilitator): the lessons'
    widgets, nbgrader's student id and "My programme" all read it."""
    return participant_of(settings, spawner.user.name) or ""


c.Spawner.environment = {
    "TANDEM_PARTICIPANT": _participant,
    # nbgrader runs `alembic` by name: the environment's bin first.
    "PATH": f"{environment / 'bin'}:/usr/local/bin:/usr/bin:/bin",
}


def _refuse_withdrawn(spawner) -> None:  # type: ignore[no-untyped-def]
    participant = participant_of(settings, spawner.user.name)
    if participant is not None and withdrawn(settings, participant):
        raise RuntimeError(f"{participant} has withdrawn from {cohort.course_id}")


c.Spawner.pre_spawn_hook = _refuse_withdrawn
