"""``tracer.List``: a ``list`` whose adds and takes are traced, item by item.

Each item gets a number when it enters (1, 2, 3, ... per list), kept in a
shadow list parallel to the real one, so that the trace can say which item a
pop() took and how long it had waited, even when values repeat.
"""

from __future__ import annotations

import operator
import reprlib
from collections.abc import Iterable
from typing import Any, SupportsIndex, TypeVar, overload

from synctrace import schema
from tracer.primitives.unwind import hand_over
from tracer.recording import capture as _capture
from tracer.recording import names as _names
from tracer.recording import recorder as _recorder
from tracer.recording import site as _site
from tracer.recording.recorder import Recorder

_T = TypeVar("_T")
_SIMPLE = (int, float, str, bytes, bool, type(None))
_LIMIT = schema.VALUE_REPR_LIMIT
# Ints this small have a repr well inside the limit: taken without the
# checks of short_repr(), on the hot path.
_SMALL = 10**18
# The native sink does a simple append or pop whole in C (Sink.list_append,
# list_pop: the same steps under the same _lock, the same line) and answers
# NotImplemented, having done nothing, for every other case, which the code
# below then handles: this file stays the reference for what they do.
_NATIVE = _capture.NATIVE
# On the pure sink, pyfast's twins of those fast paths (a test may turn them off).
_PYFAST = True
_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = _LIMIT


def short_repr(value: object) -> str:
    """repr() cut to the trace's limit; never raises, never runs for long."""
    try:
        text = repr(value) if type(value) in _SIMPLE else _repr.repr(value)
    except Exception:
        return f"<{type(value).__name__} with a failing repr>"
    return text if len(text) <= _LIMIT else text[: _LIMIT - 3] + "..."


def moved(
    item: int | None, index: int | None, depth: int, value: str | None, error: str | None = None
) -> dict[str, Any]:
    """The fields of a container line (one item moved, or a take that failed)."""
    return {"item": item, "index": index, "depth": depth, "value": value, "error": error}


class List(list[_T]):
    """A drop-in for ``list`` whose adds and takes are traced.

    With no recording running every method is the plain list's.
    """

    # Invariant (under ``_lock``, while recording): ``_ids[i]`` is the number
    # of the item at ``self[i]``, for the recording ``_generation``.  Item
    # numbers only grow, so a larger number is a newer item.

    # Slots, which the native fast paths read and write at their offsets
    # (no dict look-up per operation); __dict__ and __weakref__ keep a List
    # as open to attributes and weak references as a list subclass is.
    __slots__ = ("__dict__", "__weakref__", "_generation", "_ids", "_last_id", "_lock", "name")

    def __init__(self, iterable: Iterable[_T] = (), *, name: str | None = None) -> None:
        super().__init__(iterable)
        self.name = _names.claim("List", name, owner=self)
        # Reentrant: a value's __repr__ may itself touch this list.  The
        # native one lets the fast paths see whether anyone holds it.
        self._lock = _capture.ListLock()
        self._ids: list[int] = []
        self._last_id = 0
        self._generation = 0

    def __reduce__(self) -> Any:
        return (_rebuild, (list(self), self.name))

    def _shadow(self, rec: Recorder) -> list[int]:
        """The item numbers, numbering any items from before this recording."""
        if self._generation != rec.generation:
            self._generation = rec.generation
            self._ids = [self._new_id() for _ in range(len(self))]
        return self._ids

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def _add(
        self, rec: Recorder, event: str, site: Any, ids: list[int], index: int, text: str
    ) -> None:
        item = self._new_id()
        ids.insert(index, item)
        rec.emit(
            event,
            self.name,
            site,
            moved(item, index, len(ids), text),
        )

    def _gone(
        self, rec: Recorder, event: str, site: Any, ids: list[int], index: int, value: Any
    ) -> None:
        item = ids.pop(index)
        rec.emit(
            event,
            self.name,
            site,
            moved(item, index, len(ids), short_repr(value)),
        )

    def _failed(self, rec: Recorder, event: str, site: Any, index: Any, exc: BaseException) -> None:
        rec.emit(
            event,
            self.name,
            site,
            moved(
                None,
                index if isinstance(index, int) else None,
                len(self),
                None,
                type(exc).__name__,
            ),
        )

    def _discard(
        self, rec: Recorder, site: Any, ids: list[int], removed: list[tuple[int, int, Any]]
    ) -> None:
        """Record items dropped in bulk (already gone from ``ids``), newest first."""
        depth = len(ids) + len(removed)
        for index, item, value in sorted(removed, key=lambda r: -r[1]):
            depth -= 1
            rec.emit(
                schema.LIST_CLEAR, self.name, site, moved(item, index, depth, short_repr(value))
            )

    # --- adds -----------------------------------------------------------------

    def append(self, value: _T) -> None:
        rec = _recorder.current
        if rec is None:
            return list.append(self, value)
        if _NATIVE and rec.sink.list_append(self, value, rec.generation) is None:
            return None
        # The commonest traced call, written out: each helper call saved is
        # paid on every append of the program.
        site = _site.caller_site()
        small = type(value) is int and -_SMALL < value < _SMALL  # type: ignore[operator]
        text = repr(value) if small else short_repr(value)
        with self._lock:
            ids = self._ids if self._generation == rec.generation else self._shadow(rec)
            list.append(self, value)
            self._last_id = item = self._last_id + 1
            ids.append(item)
            depth = len(ids)
            rec.emit(
                schema.LIST_APPEND,
                self.name,
                site,
                {"item": item, "index": depth - 1, "depth": depth, "value": text},
            )

    def insert(self, index: SupportsIndex, value: _T) -> None:
        rec = _recorder.current
        if rec is None:
            return list.insert(self, index, value)
        site, text = _site.caller_site(), short_repr(value)
        with self._lock:
            ids = self._shadow(rec)
            n = len(self)
            i = operator.index(index)
            # Where list.insert really puts it: negative counts from the end,
            # and both ends clamp.
            at = min(max(i + n if i < 0 else i, 0), n)
            list.insert(self, index, value)
            self._add(rec, schema.LIST_INSERT, site, ids, at, text)

    def extend(self, values: Iterable[_T]) -> None:
        rec = _recorder.current
        if rec is None:
            return list.extend(self, values)
        site = _site.caller_site()
        values = list(values)  # also makes extend(self) safe
        texts = [short_repr(v) for v in values]
        with self._lock:
            ids = self._shadow(rec)
            for value, text in zip(values, texts, strict=True):
                list.append(self, value)
                self._add(rec, schema.LIST_EXTEND, site, ids, len(ids), text)

    def __iadd__(self, values: Iterable[_T]) -> List[_T]:  # type: ignore[override,misc]
        self.extend(values)
        return self

    def __imul__(self, times: SupportsIndex) -> List[_T]:
        rec = _recorder.current
        n = operator.index(times)
        if rec is None:
            return list.__imul__(self, n)
        if n <= 0:
            self.clear()
        else:
            self.extend(list(self) * (n - 1))
        return self

    # --- takes ----------------------------------------------------------------

    def pop(self, index: SupportsIndex = -1) -> _T:
        rec = _recorder.current
        if rec is None:
            return list.pop(self, index)
        if _NATIVE:
            value = rec.sink.list_pop(self, index, rec.generation)
            if value is not NotImplemented:
                return value  # type: ignore[no-any-return]
        site = _site.caller_site()
        with self._lock:
            ids = self._ids if self._generation == rec.generation else self._shadow(rec)
            n = len(self)
            try:
                value = list.pop(self, index)
            except (IndexError, TypeError) as exc:
                self._failed(rec, schema.LIST_POP, site, index, exc)
                hand_over(exc)
                raise
            i = operator.index(index)
            at = i + n if i < 0 else i
            item = ids.pop(at)
            rec.emit(
                schema.LIST_POP,
                self.name,
                site,
                {
                    "item": item,
                    "index": at,
                    "depth": n - 1,
                    "value": repr(value)
                    if type(value) is int and -_SMALL < value < _SMALL  # type: ignore[operator]
                    else short_repr(value),
                },
            )
            return value

    def remove(self, value: _T) -> None:
        rec = _recorder.current
        if rec is None:
            return list.remove(self, value)
        site = _site.caller_site()
        with self._lock:
            ids = self._shadow(rec)
            try:
                i = list.index(self, value)
            except ValueError as exc:
                self._failed(rec, schema.LIST_REMOVE, site, None, exc)
                hand_over(exc)
                raise
            taken = self[i]
            list.__delitem__(self, i)
            self._gone(rec, schema.LIST_REMOVE, site, ids, i, taken)

    @overload
    def __delitem__(self, key: SupportsIndex) -> None: ...
    @overload
    def __delitem__(self, key: slice) -> None: ...

    def __delitem__(self, key: SupportsIndex | slice) -> None:
        rec = _recorder.current
        if rec is None:
            return list.__delitem__(self, key)
        site = _site.caller_site()
        with self._lock:
            ids = self._shadow(rec)
            n = len(self)
            if isinstance(key, slice):
                positions = range(n)[key]
                removed = [(p, ids[p], self[p]) for p in positions]
                list.__delitem__(self, key)
                del ids[key]
                self._discard(rec, site, ids, removed)
                return
            try:
                value = self[key]
                list.__delitem__(self, key)
            except (IndexError, TypeError) as exc:
                self._failed(rec, schema.LIST_DEL, site, key, exc)
                hand_over(exc)
                raise
            i = operator.index(key)
            self._gone(rec, schema.LIST_DEL, site, ids, i + n if i < 0 else i, value)

    def clear(self) -> None:
        rec = _recorder.current
        if rec is None:
            return list.clear(self)
        site = _site.caller_site()
        with self._lock:
            ids = self._shadow(rec)
            removed = [(p, ids[p], v) for p, v in enumerate(self)]
            list.clear(self)
            ids.clear()
            self._discard(rec, site, ids, removed)

    # --- in place ---------------------------------------------------------------

    @overload
    def __setitem__(self, key: SupportsIndex, value: _T) -> None: ...
    @overload
    def __setitem__(self, key: slice, value: Iterable[_T]) -> None: ...

    def __setitem__(self, key: Any, value: Any) -> None:
        rec = _recorder.current
        if rec is None or not isinstance(key, slice):
            # items[i] = v changes the item's value in place: not an add or take.
            return list.__setitem__(self, key, value)
        site = _site.caller_site()
        values = list(value)
        texts = [short_repr(v) for v in values]
        with self._lock:
            ids = self._shadow(rec)
            n = len(self)
            positions = range(n)[key]
            removed = [(p, ids[p], self[p]) for p in positions]
            list.__setitem__(self, key, values)  # raises before any change if sizes mismatch
            if key.step in (None, 1):
                start = min(max(positions.start, 0), n)
                del ids[start : start + len(positions)]
                self._discard(rec, site, ids, removed)
                for k, text in enumerate(texts):
                    self._add(rec, schema.LIST_INSERT, site, ids, start + k, text)
            else:  # an extended slice replaces exactly the positions it names
                for p in sorted(positions, reverse=True):
                    del ids[p]
                self._discard(rec, site, ids, removed)
                for p, text in sorted(zip(positions, texts, strict=True)):
                    self._add(rec, schema.LIST_INSERT, site, ids, p, text)

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        rec = _recorder.current
        if rec is None:
            return list.sort(self, key=key, reverse=reverse)
        with self._lock:
            ids = self._shadow(rec)
            by = (lambda pair: pair[0]) if key is None else (lambda pair: key(pair[0]))
            pairs = sorted(zip(self, ids, strict=True), key=by, reverse=reverse)
            list.__setitem__(self, slice(None), [v for v, _ in pairs])
            ids[:] = [i for _, i in pairs]

    def reverse(self) -> None:
        rec = _recorder.current
        if rec is None:
            return list.reverse(self)
        with self._lock:
            self._shadow(rec).reverse()
            list.reverse(self)


def _rebuild(values: list[Any], name: str) -> List[Any]:
    # A copy is a new container: it gets its own name (``name#2``).
    return List(values, name=name)


_site.internal(__file__)


# With no recording running, the hot list methods of List are list's own, so
# a List costs what a list does; a recording puts the traced ones back (each
# still checks for a recording, since one may end mid-call).
_SWITCHED = ("append", "insert", "extend", "pop", "remove", "clear")
_TRACED = {name: List.__dict__[name] for name in _SWITCHED}
# With the native sink, append and pop while recording are C method
# descriptors: items.append(x) is one C call with no frame of ours.  They
# record into the sink the recorder hands the C module as it starts, and
# call _TRACED's method with the same arguments whenever they decline.
_FAST: dict[str, Any] = {}
if _NATIVE:
    from tracer.recording import _csink

    _FAST = dict(
        zip(
            ("append", "pop"),
            _csink.list_methods(List, _TRACED["append"], _TRACED["pop"]),
            strict=True,
        )
    )


def _switch(recording: bool) -> None:
    # _NATIVE read now: a test may turn the native paths off.
    fast = _FAST if _NATIVE else {}
    rec = _recorder.current
    if recording and not _NATIVE and _PYFAST and rec is not None:
        # Imported here: where the native sink records it is never needed.
        from tracer.recording import pyfast

        if pyfast.serves(rec.sink):
            # The pure sink's twins of the native methods, bound to this recording.
            methods = pyfast.list_methods(
                rec.sink, rec.generation, _TRACED["append"], _TRACED["pop"], short_repr
            )
            fast = dict(zip(("append", "pop"), methods, strict=True))
    for name in _SWITCHED:
        if recording:
            setattr(List, name, fast.get(name, _TRACED[name]))
        else:
            setattr(List, name, getattr(list, name))


_switch(False)
_recorder.on_recording(_switch)
