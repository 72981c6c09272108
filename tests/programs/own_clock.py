"""Sleeps, then polls a deadline on its own clocks: its time must hold together.

Usage: own_clock.py SECONDS.  Sleeps SECONDS, says whether each of its
clocks saw at least that much go by, then loops ``while time.time() <
deadline`` with one-second sleeps until a deadline SECONDS away, and says
how many rounds that took (at most SECONDS when sleeps and clocks agree).
"""

import sys
import time

seconds = float(sys.argv[1])
starts = (time.time(), time.monotonic(), time.perf_counter())
start_ns = (time.time_ns(), time.monotonic_ns(), time.perf_counter_ns())
time.sleep(seconds)
ends = (time.time(), time.monotonic(), time.perf_counter())
ends_ns = (time.time_ns(), time.monotonic_ns(), time.perf_counter_ns())
saw = [b - a >= seconds for a, b in zip(starts, ends, strict=True)]
saw += [b - a >= seconds * 1e9 for a, b in zip(start_ns, ends_ns, strict=True)]
print("clocks saw the sleep:", all(saw), flush=True)

deadline = time.time() + seconds
rounds = 0
while time.time() < deadline:
    time.sleep(1)
    rounds += 1
print("rounds:", rounds)
