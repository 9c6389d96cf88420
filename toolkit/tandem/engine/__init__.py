"""Running notebooks as jobs, knowing nothing of cohorts: the batch manifest, jobs,
executors (a process pool or Dask), fork-started kernels and their client, the pool's
template process, prewarming, deferred imports and progress.

It is a small library of its own: ``tandem batch`` is its front, and everything above it
(grading, reports) hands it jobs. It imports only Tandem's foundation modules
(``errors``, ``fsutil``, ``htmlpage``)."""
