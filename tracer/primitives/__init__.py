"""The drop-in primitives: ``threading`` and ``queue`` objects, and ``list``, that record.

Each module is one family (events, conditions, locks, semaphores, barriers,
queues, lists, and the thread lifecycle hooks).  They record through
``tracer.recording`` and cost one attribute read when no recording runs.
"""
