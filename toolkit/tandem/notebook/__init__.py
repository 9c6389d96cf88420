"""What runs inside participants' kernels: the widgets, the private store and check-ins.

Notebook authors import the widgets as ``from tandem.widgets import ...`` (a stable
re-export of :mod:`tandem.notebook.widgets`)."""
