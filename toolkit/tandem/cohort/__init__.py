"""The programme's state and its lifecycle: the workspace (``cohort.yml`` and the nbgrader
course directory), membership changes, and the exchange (release, fetch, submit,
collect)."""
