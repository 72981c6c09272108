"""Five workers share a pool of two connections guarded by a Semaphore: slow, correct.

Each worker holds a connection for ``SECONDS``; with two at a time the run
takes about ``3 * SECONDS`` (31 s at the default).
"""

import sys
import threading
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10.3
pool = threading.Semaphore(2)
served = []


def worker(n):
    with pool:
        time.sleep(SECONDS)
        served.append(n)


threads = [threading.Thread(target=worker, args=(n,)) for n in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("served", len(served))
