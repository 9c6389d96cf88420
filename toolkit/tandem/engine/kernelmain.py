"""Start an ipykernel kernel with Tandem's output cap: ``python -m tandem.engine.kernelmain``.

What ``python -m ipykernel_launcher`` does, after taking the cap's argument out of the
command line and installing it (:mod:`tandem.engine.kernelcap`). The cold-start
provisioner (:class:`tandem.engine.kernels.PlainProvisioner`) runs it in place of
``ipykernel_launcher`` when the engine sets a cap. Import-light: the kernel imports
ipykernel itself, once the cap is in place.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    # As ipykernel_launcher: the kernel's folder off sys.path while ipykernel is imported
    # (IPython puts it back at start-up).
    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]
    from tandem.engine import kernelcap

    args, limit = kernelcap.take(list(sys.argv[1:] if argv is None else argv))
    if limit:
        kernelcap.install(limit)
    sys.argv = [sys.argv[0], *args]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=args)


if __name__ == "__main__":
    main()
