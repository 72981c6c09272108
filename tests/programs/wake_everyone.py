"""Two consumers trust one Event for one item: the second finds the list empty.

The item is added and the Event set before either consumer starts; each
waits (the flag is up, so wait() returns at once) and pops.  The first
takes the item, the second's pop() raises IndexError and ends its thread.
The consumers run one after the other (joined in turn), so this happens on
every run.
"""

import threading

ready = threading.Event()
items = []


def consume():
    ready.wait()
    print("took", items.pop())


items.append("job")
ready.set()
for name in ("first", "second"):
    t = threading.Thread(target=consume, name=name)
    t.start()
    t.join()
