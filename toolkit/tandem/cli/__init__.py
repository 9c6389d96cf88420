"""The command line only: parsing, printing and exit codes. Each command calls one
library function; ``tandem.cli.app`` holds the ``tandem`` application."""
