"""``python -m tandem.cli``: the ``tandem`` command."""

from tandem.cli.app import main

main()
