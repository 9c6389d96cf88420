"""The programme manifest (``program.yml``), its validation, and the module scaffold."""
