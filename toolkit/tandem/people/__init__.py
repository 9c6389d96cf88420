"""Participants before they are a cohort: the roster and matching juniors with seniors."""
