"""nbgrader's autograde in parallel, checkpoint scores, and releasing feedback."""
