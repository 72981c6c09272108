"""The shared state of split/main.py, in a module of its own."""

import threading

items = []
ready = threading.Event()
