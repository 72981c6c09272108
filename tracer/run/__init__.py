"""Running an unmodified program under a recording (``tracer run``).

``program`` runs the script or module and ends the trace however the run
ends; ``patch`` swaps ``threading`` and ``queue`` primitives for the
program's own code; ``rewrite`` and ``imports`` name objects after the names
the program binds them to and trace its shared lists.
"""
