"""Nine workers take turns holding one lock across a sleep: slow, and correct.

As a tutorial writes it: each worker sleeps inside the critical section, so
the others queue for the lock.  Nothing is hung; the run just takes
``9 * SECONDS`` (57 s at the default).
"""

import sys
import threading
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 6.3
lock = threading.Lock()
done = []


def worker(n):
    with lock:
        time.sleep(SECONDS)
        done.append(n)


threads = [threading.Thread(target=worker, args=(n,)) for n in range(9)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done", len(done))
