"""The recording machinery: call sites and names, the capture sink, the writer.

``site`` and ``names`` say where and on what an operation happened;
``capture`` picks the event sink (native or pure Python) that stamps each
event with ``seq`` and the clock; ``recorder`` owns one trace's lifecycle and
its writer thread; ``writer`` turns captured events into lines on disk.
"""
