"""A thread holds a lock while it waits on an Event; another thread wants the lock.

`holder` takes the lock, says so, and waits (still holding it) until
`wanter` reports that its acquire(timeout=0.2) gave up.  So `wanter` waited
for the lock while `holder` was blocked on something else (the finding is
that overlap), and its 0.2 s wait is over the 20 ms contention threshold.
The only timing this relies on: `holder` reaches its wait() within the
0.2 s `wanter` waits.
"""

import threading

lock = threading.Lock()
holding = threading.Event()
gave_up = threading.Event()


def holder():
    with lock:
        holding.set()
        gave_up.wait()


def wanter():
    holding.wait()
    got = lock.acquire(timeout=0.2)
    print("got" if got else "gave up")
    gave_up.set()


threads = [
    threading.Thread(target=holder, name="holder"),
    threading.Thread(target=wanter, name="wanter"),
]
for t in threads:
    t.start()
for t in threads:
    t.join()
