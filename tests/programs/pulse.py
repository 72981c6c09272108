"""The cookbook's bug, quickly: set() then clear() at once, a consumer that sleeps and waits.

Usage: pulse.py ITEMS PERIOD.  The producer makes ITEMS items every PERIOD
seconds; the consumer waits 1.5 PERIOD between takes, so it misses every
other signal and, after the last one, blocks forever on a cleared flag.  The
main thread gives it three periods to get there, then exits (the consumer is
a daemon thread, so the run ends).

With ITEMS = 2k the timeline is exact to half a period: k signals lost,
k + 1 waits on a cleared flag (the last never returns), k items taken
newest first and k left in the list.
"""

import sys
import time
from threading import Event, Thread

items = []
event = Event()


def producer(count, period):
    for i in range(count):
        time.sleep(period)
        items.append(i)
        event.set()
        event.clear()


def consumer(period):
    while True:
        time.sleep(1.5 * period)
        event.wait()
        print("took", items.pop(), flush=True)


count, period = int(sys.argv[1]), float(sys.argv[2])
making = Thread(target=producer, args=(count, period))
making.start()
Thread(target=consumer, args=(period,), daemon=True).start()
making.join()
time.sleep(3 * period)
