"""Tandem on a shared JupyterHub: the Unix accounts and groups of a cohort's roster."""
