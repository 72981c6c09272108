"""A consumer stops on q.empty() while the producer is about to put: the item is left.

The consumer takes the one item, sees empty() True and tells the main
thread, which puts a second item before the consumer goes on and returns.
Handshakes order the threads, so the check is stale on every run.  With
the argument `drain`, the main thread instead ends its producer first and
drains with `while not q.empty(): q.get()`: correct, and quiet.
"""

import queue
import sys
import threading

q = queue.Queue()
saw_empty = threading.Event()
refilled = threading.Event()


def consumer():
    q.get()
    if q.empty():
        saw_empty.set()
        refilled.wait()


def producer():
    for i in range(3):
        q.put(i)


if sys.argv[1:] == ["drain"]:
    p = threading.Thread(target=producer)
    p.start()
    p.join()
    taken = 0
    while not q.empty():
        q.get()
        taken += 1
    print("drained", taken)
else:
    q.put(1)
    c = threading.Thread(target=consumer, name="consumer")
    c.start()
    saw_empty.wait()
    q.put(2)
    refilled.set()
    c.join()
    print("left", q.qsize())
