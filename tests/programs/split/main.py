"""A program in two files: the buffer and its signal live in buffer.py.

The producer signals before the consumer waits, and clears at once: that
signal is lost, and its item stays in the list.  A second signal, left set,
lets the consumer take the newest item.
"""

import threading

import buffer

consumer_started = threading.Barrier(2)


def consume():
    consumer_started.wait()
    buffer.ready.wait()
    print("took", buffer.items.pop())


taker = threading.Thread(target=consume)
taker.start()
buffer.items.append(1)
buffer.ready.set()
buffer.ready.clear()
consumer_started.wait()
buffer.items.append(2)
buffer.ready.set()
taker.join()
