"""Ends the way its first argument says: ok, exit N, raise, thread-raise, block.

Prints its argv, sys.path[0] and thread names first, so a test can compare a
run under the tracer with a plain one.
"""

import os
import sys
import threading

print("argv", sys.argv[1:])
print("path0", sys.path[0] == os.path.dirname(os.path.abspath(__file__)))
print("name", __name__)
ready = threading.Event()
worker = threading.Thread(target=ready.set)
worker.start()
worker.join()
print("thread", worker.name)
sys.stdout.flush()

how = sys.argv[1]
if how == "exit":
    sys.exit(int(sys.argv[2]))
elif how == "raise":
    raise RuntimeError("the program failed")
elif how == "thread-raise":

    def fail():
        raise KeyError("in a thread")

    t = threading.Thread(target=fail, name="failing")
    t.start()
    t.join()
elif how == "fork":
    # The child uses traced objects and exits normally: it must not write
    # into the parent's trace, nor wait for a writer it does not have.
    pid = os.fork()
    if pid == 0:
        ready.set()
        ready.clear()
        sys.exit(0)
    os.waitpid(pid, 0)
elif how == "busy":
    # Keeps the recorder busy with lock lines until it is killed.
    lock = threading.Lock()
    print("busy", flush=True)
    while True:
        with lock:
            pass
elif how == "block":
    # A daemon thread and then the main thread block in waits that nothing
    # will end; the test ends the run with a signal or a timeout.
    also_never = threading.Event()
    waiter = threading.Thread(target=also_never.wait, name="waiter", daemon=True)
    waiter.start()
    never = threading.Event()
    print("blocking", flush=True)
    never.wait()
print("done")
