"""A correct pool: producers put work on a queue.Queue, consumers get it until a sentinel.

Usage: queue_workers.py PRODUCERS CONSUMERS ITEMS.  Every item is consumed,
nothing waits on anything that will not come: the trace must have no error
or warning finding.
"""

import queue
import sys
import threading

producers, consumers, per_producer = (int(a) for a in sys.argv[1:4])
work = queue.Queue(maxsize=4)
done = []
done_lock = threading.Lock()


def produce(k):
    for i in range(per_producer):
        work.put((k, i))


def consume():
    while True:
        item = work.get()
        if item is None:
            work.task_done()
            return
        with done_lock:
            done.append(item)
        work.task_done()


threads = [threading.Thread(target=consume) for _ in range(consumers)]
threads += [threading.Thread(target=produce, args=(k,)) for k in range(producers)]
for t in threads:
    t.start()
for t in threads[consumers:]:
    t.join()
for _ in range(consumers):
    work.put(None)
work.join()
for t in threads[:consumers]:
    t.join()
print("consumed", len(done))
