"""A Condition producer/consumer that finishes by itself, slowly, and correctly.

The producer makes ten items, one every ``SECONDS`` (41 s in all at the
default); the consumer waits on the Condition in a while loop and takes each
as it comes.
"""

import sys
import threading
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 4.1
COUNT = 10
items = []
cond = threading.Condition()


def producer():
    for i in range(COUNT):
        time.sleep(SECONDS)
        with cond:
            items.append(i)
            cond.notify()


def consumer():
    for _ in range(COUNT):
        with cond:
            while not items:
                cond.wait()
            item = items.pop(0)
        print("consumed", item)


threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
