"""Exports of a recorded run to other tools' formats.

``perfetto`` writes Chrome Trace Event JSON for ui.perfetto.dev and
chrome://tracing, from the same per-run view the timeline picture draws.
"""
