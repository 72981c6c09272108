"""A correct use of Event: workers wait for a start signal, poll a queue with a
timeout until told to stop, and collect results in a list only appended to.

Nothing here is a bug: the report must have nothing above info.
"""

import queue
import threading

start = threading.Event()
stop = threading.Event()
work = queue.Queue()
results = []


def worker(factor):
    start.wait()
    while not stop.is_set():
        try:
            item = work.get(timeout=0.02)
        except queue.Empty:
            continue
        results.append(item * factor)
        work.task_done()


workers = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
for w in workers:
    w.start()
start.set()
for i in range(30):
    work.put(i)
work.join()
stop.set()
for w in workers:
    w.join()
print(len(results))
