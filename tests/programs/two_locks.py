"""Two threads take two locks in opposite orders: the textbook deadlock.

Each thread takes its first lock, then waits on a Barrier until the other has
taken its own, so the deadlock happens every run, not just on unlucky ones.
Run it with --timeout: it never ends by itself.
"""

import threading

a = threading.Lock()
b = threading.Lock()
both_hold_one = threading.Barrier(2)


def one():
    with a:
        both_hold_one.wait()
        with b:
            print("one done")


def two():
    with b:
        both_hold_one.wait()
        with a:
            print("two done")


t1 = threading.Thread(target=one, name="one")
t2 = threading.Thread(target=two, name="two")
t1.start()
t2.start()
t1.join()
t2.join()
