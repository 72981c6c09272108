"""A worker logs through logging and structlog (routed into logging) and the
main thread through a logger that does not propagate: each record must land in
the trace once, with its thread, between the queue operations around it, and
the program's output must be the same recorded or not.
"""

import logging
import queue
import sys
import threading

import structlog

logging.basicConfig(
    level=logging.INFO,
    stream=sys.stderr,
    format="%(levelname)s %(name)s %(threadName)s %(message)s",
)
structlog.configure(
    processors=[structlog.processors.KeyValueRenderer(sort_keys=True)],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
)
main_log = logging.getLogger("main")
main_log.propagate = False
main_log.addHandler(logging.StreamHandler(sys.stdout))
work = queue.Queue()


def worker():
    item = work.get()
    logging.getLogger("worker").info("got %s", item)
    structlog.get_logger("worker").warning("done", item=item, size=(1, 2))


thread = threading.Thread(target=worker, name="worker")
thread.start()
main_log.warning("putting 7")
work.put(7)
thread.join()
logging.getLogger("worker").debug("below the level")
