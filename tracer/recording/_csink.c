/* The event sink in C: the native twin of tracer/recording/pysink.py.
 *
 * A Sink stamps each event with seq and the clock and keeps a fixed-size
 * record of it in a ring until the writer drains it as JSON lines.  The pure
 * sink is the reference: same class, same methods, same lines.
 *
 * The GIL is the only lock, and these are its rules:
 * - Capture runs with the GIL held.  It first turns the event into C data
 *   (a Record: numbers, exact str objects, finished JSON bytes; see Value),
 *   which may run Python code (a site namer on a cache miss, orjson for an
 *   odd value) and may let the GIL go (waiting for room).  Only then does
 *   it take the seq, read the clock and store the record, steps that call
 *   no Python code, allocate no GC-tracked object, decref nothing (the
 *   slot's old record is let go just before: str and bytes only) and never
 *   let go of the GIL, so no other thread and no signal handler can run in
 *   between: records enter the ring in seq order and drain needs none of
 *   the pure sink's gap logic.
 * - The writer drains without the GIL: the ring is made once and never
 *   moves, producers publish each record by moving `tail` on, and the drain
 *   reads the records before `tail` (only their C data and the contents of
 *   immutable str and bytes they keep alive, with no Python API call), into
 *   a Lines buffer no other thread can reach, then publishes `head` past
 *   them.  Their references are let go later with the GIL held: by the
 *   producer that reuses the slot, or by trim() when the program is quiet.
 *   So a busy recording's writer never queues for the GIL.
 * - The other places that let the GIL go are the sleeps in the
 *   backpressure wait and in wait().
 *
 * Holding no lock of its own, the sink is consistent at any os.fork()
 * (fork runs with the GIL held, so no emit is half done; a drain encoding
 * off the GIL in the parent has not yet moved head past what it reads, and
 * its mark, a pid, means nothing in the child); a child that never drains
 * keeps its copy.  The module uses single-phase init and static state, so
 * it loads in the main interpreter only.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifdef Py_GIL_DISABLED
#error "the sink relies on the GIL for its atomicity; the pure sink serves free-threaded builds"
#endif

#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define Py_T_LONGLONG T_LONGLONG
#define Py_T_PYSSIZET T_PYSSIZET
#define Py_T_OBJECT_EX T_OBJECT_EX
#define Py_READONLY READONLY
#endif

/* How long the backpressure and writer waits sleep between looks. */
#define ROOM_POLL_NS 300000L   /* 0.3 ms */
#define WAIT_POLL_NS 1000000L  /* 1 ms */
/* The ring's least size, and the slots of an emptied ring whose memory is
 * kept (the rest is given back to the OS). */
#define RING_MIN 1024
#define RING_KEEP 65536

/* ---- the clock ------------------------------------------------------------ */

/* Nanoseconds on the clock of time.monotonic_ns(), so a trace's ts compares
 * with what Python code reads.  CPython uses CLOCK_MONOTONIC on Linux and
 * mach_absolute_time (= CLOCK_UPTIME_RAW) on macOS. */
static long long
monotonic_ns(void)
{
#if defined(__linux__)
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
#elif defined(__APPLE__)
    return (long long)clock_gettime_nsec_np(CLOCK_UPTIME_RAW);
#elif PY_VERSION_HEX >= 0x030D0000
    PyTime_t t;
    (void)PyTime_MonotonicRaw(&t);
    return (long long)t;
#else
#error "no clock known to match time.monotonic_ns(); the pure sink will be used"
#endif
}

/* ---- module state (static: single-phase init) ----------------------------- */

static PyObject *thread_registry;   /* threading._active: ident -> Thread */
static PyObject *current_thread;    /* threading.current_thread */
static PyObject *str_name_attr;     /* "_name" */
static PyObject *str_thread_key;    /* the thread state dict's key for the calling Thread */
static PyTypeObject *dummy_thread_type; /* threading._DummyThread */
static PyObject *str_name;          /* "name" */
static PyObject *str_begin_seq;     /* "begin_seq" */
static PyObject *orjson_dumps;      /* orjson.dumps, or NULL when orjson is missing */
static PyObject *builtin_repr;      /* repr */
static PyObject *default_kwnames;   /* ("default",) */
static PyObject *internal_files;    /* site._internal, handed over by set_internal() */
static PyObject *site_namer;        /* site -> label, handed over by set_site_name(), or NULL */
static PyObject *this_module;       /* borrowed: lives as long as the interpreter */

/* ---- values: what a record keeps of a Python value ------------------------- */

/* A record holds no Python object that encoding would have to ask anything:
 * only C numbers, exact str objects (immutable: their characters are read
 * with no Python API call, so without the GIL) and bytes of finished JSON.
 * Every object a Value holds is a str or bytes, neither of which takes part
 * in reference cycles, so the ring needs no GC traversal. */
enum {
    V_ABSENT,  /* None: a field or obj left out, "null" anywhere else */
    V_NULL,    /* written as null: NaN, the infinities, a value nothing could render */
    V_TRUE,
    V_FALSE,
    V_INT,     /* u.i */
    V_FLOAT0,  /* u.d: an integral float below 1e16, written as its digits and ".0" */
    V_INTREPR, /* u.i: an int's repr() as a JSON string ("42"), made when encoded */
    V_STR,     /* u.o: an exact str, escaped when encoded */
    V_ASCII,   /* u.o: an ASCII str written as it is (a big int's digits, a float's repr) */
    V_JSON,    /* u.o: bytes that are already JSON (orjson's rendering of anything else) */
};

typedef struct {
    int kind;
    union {
        long long i;
        double d;
        PyObject *o;
    } u;
} Value;

static void
value_release(Value *v)
{
    if (v->kind >= V_STR)
        Py_DECREF(v->u.o);
    v->kind = V_ABSENT;
}

static Value
value_copy(const Value *v)
{
    Value copy = *v;
    if (copy.kind >= V_STR)
        Py_INCREF(copy.u.o);
    return copy;
}

/* Clear the pending exception if it is an ordinary one (1); leave a
 * KeyboardInterrupt or SystemExit for the program (0). */
static int
clear_ordinary_error(void)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return 0;
    PyErr_Clear();
    return 1;
}

/* An exact str with its characters in their final form: a str subclass is
 * copied, and on 3.11 a legacy string made ready.  New reference. */
static PyObject *
exact_str(PyObject *s)
{
    PyObject *text = PyUnicode_CheckExact(s) ? Py_NewRef(s) : PyUnicode_FromObject(s);
#if PY_VERSION_HEX < 0x030C0000
    if (text != NULL && PyUnicode_READY(text) < 0)
        Py_CLEAR(text);
#endif
    return text;
}

/* Anything but the scalars: orjson.dumps(v, default=repr), as the pure sink
 * renders it, else repr(v) as a string, else null.  May run Python code. */
static int
other_from(PyObject *v, Value *out)
{
    if (orjson_dumps != NULL) {
        PyObject *args[2] = {v, builtin_repr};
        PyObject *json = PyObject_Vectorcall(orjson_dumps, args, 1, default_kwnames);
        if (json != NULL && PyBytes_CheckExact(json)) {
            out->kind = V_JSON;
            out->u.o = json;
            return 0;
        }
        Py_XDECREF(json);
        if (PyErr_Occurred() && !clear_ordinary_error())
            return -1;
    }
    PyObject *text = PyObject_Repr(v);
    PyObject *exact = text == NULL ? NULL : exact_str(text);
    Py_XDECREF(text);
    if (exact != NULL) {
        out->kind = V_STR;
        out->u.o = exact;
        return 0;
    }
    if (!clear_ordinary_error())
        return -1;
    out->kind = V_NULL;
    return 0;
}

/* What a record keeps of v.  0, or -1 with an exception (MemoryError, or a
 * KeyboardInterrupt raised in a repr).  Runs Python code only for values
 * that are not str, int, float, bool or None (orjson's default=repr), so
 * callers convert before taking a seq. */
static int
value_from(PyObject *v, Value *out)
{
    out->kind = V_ABSENT;
    if (v == Py_None)
        return 0;
    if (v == Py_True || v == Py_False) {
        out->kind = v == Py_True ? V_TRUE : V_FALSE;
        return 0;
    }
    if (PyUnicode_Check(v)) {
        if ((out->u.o = exact_str(v)) == NULL)
            return -1;
        out->kind = V_STR;
        return 0;
    }
    if (PyLong_CheckExact(v)) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred())
            return -1;
        if (!overflow) {
            out->kind = V_INT;
            out->u.i = x;
            return 0;
        }
        PyObject *digits = PyObject_Str(v);  /* int's own str: C, no Python code */
        if (digits != NULL && PyUnicode_IS_ASCII(digits)) {
            out->kind = V_ASCII;
            out->u.o = digits;
            return 0;
        }
        Py_XDECREF(digits);
        if (PyErr_Occurred() && !clear_ordinary_error())  /* past sys.set_int_max_str_digits */
            return -1;
        return other_from(v, out);
    }
    if (PyFloat_CheckExact(v)) {
        double x = PyFloat_AS_DOUBLE(v);
        if (!isfinite(x)) {
            out->kind = V_NULL;
            return 0;
        }
        if (x == floor(x) && fabs(x) < 1e16) {  /* repr is "%lld.0": written at encode */
            out->kind = V_FLOAT0;
            out->u.d = x;
            return 0;
        }
        /* repr's shortest round-trip digits need PyOS_double_to_string, which
         * allocates with PyMem_Malloc: made here, under the GIL. */
        PyObject *text = PyObject_Repr(v);
        if (text == NULL)
            return -1;
        if (!PyUnicode_IS_ASCII(text)) {  /* never so: a float's repr is ASCII */
            Py_DECREF(text);
            out->kind = V_NULL;
            return 0;
        }
        out->kind = V_ASCII;
        out->u.o = text;
        return 0;
    }
    return other_from(v, out);
}

/* ---- the Sink ------------------------------------------------------------- */

/* One field of a line: its key (an exact str) and its value, never None. */
typedef struct {
    PyObject *key;
    Value value;
} Field;

/* Fields kept in the record itself; more go to a heap array.  Four hold
 * every fast path's line (a List's item, index, depth and value) and keep
 * a record at 192 bytes: the ring's memory is records times that. */
#define SLOTS 4

/* One captured event, everything the line needs as C data (see Value).
 * A zeroed Record is an empty one: kinds V_ABSENT, no site, no fields. */
typedef struct {
    long long seq;
    long long ts;
    unsigned long thread_id;
    Value event;
    Value thread;
    Value obj;
    PyObject *site;      /* the site's label (an exact str), or NULL for none */
    Py_ssize_t nfields;
    Field slot[SLOTS];
    Field *more;         /* fields nfields - SLOTS on (PyMem), or NULL */
} Record;

static inline Field *
field_at(Record *r, Py_ssize_t i)
{
    return i < SLOTS ? &r->slot[i] : &r->more[i - SLOTS];
}

/* Let a record's references go.  The GIL is held (decref, PyMem_Free). */
static void
record_release(Record *r)
{
    value_release(&r->event);
    value_release(&r->thread);
    value_release(&r->obj);
    Py_CLEAR(r->site);
    for (Py_ssize_t i = 0; i < r->nfields; i++) {
        Field *f = field_at(r, i);
        Py_DECREF(f->key);
        value_release(&f->value);
    }
    r->nfields = 0;
    PyMem_Free(r->more);
    r->more = NULL;
}

/* The ring is a single-producer, single-consumer queue whose producer
 * side is serialised by the GIL and whose consumer, the writer, needs no
 * GIL at all.  Records are numbered from 0 as they are stored; record i
 * lives in slot i & (capacity - 1).
 *
 * Invariants:
 * - freed <= head <= tail, and tail - freed <= capacity.
 * - Records [head, tail) are pending: stored, not yet encoded.  Their seq
 *   are consecutive and increasing.  Only a drain (one at a time, see
 *   draining) reads them, without the GIL, and publishes head past them
 *   once it has read them.
 * - Records [freed, head) are encoded but still hold their references:
 *   letting a reference go needs the GIL, which the writer does not take
 *   per batch.  The producer that stores into a slot first lets the old
 *   record of that slot go (it holds the GIL anyway), and trim() lets every
 *   encoded record go when the program is quiet.
 * - tail is written by producers only (GIL held), head by the drain only
 *   (GIL released); each side reads the other's with acquire and publishes
 *   its own with release, so a record is whole before the drain sees it
 *   and read before a producer reuses its slot.
 * - tail - head < max_pending whenever an emit stores a record (emits wait
 *   first), and capacity >= max_pending, so a producer never reuses the
 *   slot of a pending record.
 * - next_seq is the seq of the next record, and what close() hands out.
 * - last_ts is the largest ts drain has written; lines never go below it.
 * - site_names caches site -> label for the namer site_name_of, which is
 *   the module's site_namer when the cache was filled.
 * - draining is the pid of the process whose drain is encoding off the GIL,
 *   or 0; a forked child sees its parent's pid there and knows it is stale.
 */
typedef struct {
    PyObject_HEAD
    Record *ring;
    Py_ssize_t capacity;
    unsigned long long tail;   /* records ever stored */
    unsigned long long head;   /* records ever encoded */
    unsigned long long freed;  /* records whose references were let go */
    Py_ssize_t max_pending;
    long long next_seq;
    long long last_ts;
    long long dropped;
    int open;
    pid_t draining;
    PyObject *blocked;      /* dict: begin seq -> (thread, thread_id, event, obj, site, ts) */
    PyObject *site_names;   /* dict: site -> label */
    PyObject *site_name_of; /* the namer site_names belongs to, or NULL */
    PyObject *lines;        /* the Lines the last drain handed out (see lines_for_drain) */
} SinkObject;

static PyTypeObject Sink_Type;

/* Records stored and not yet encoded.  Exact for a producer (which holds
 * the GIL, so tail is its own); a racy but harmless estimate anywhere else. */
static inline Py_ssize_t
pending_of(SinkObject *self)
{
    return (Py_ssize_t)(__atomic_load_n(&self->tail, __ATOMIC_ACQUIRE) -
                        __atomic_load_n(&self->head, __ATOMIC_ACQUIRE));
}

static inline Record *
slot_of(SinkObject *self, unsigned long long i)
{
    return &self->ring[i & (unsigned long long)(self->capacity - 1)];
}

/* Room for `need` more records: 0, or -1 when there is none or no memory
 * (no exception set: the caller counts the event as dropped).
 *
 * The ring is made once, at its full size (the least power of two that
 * holds max_pending records), straight from the OS: its pages cost memory
 * only once written, and it never grows or moves, so the writer can read
 * it without the GIL while producers store further on.  Every emit waits
 * while max_pending records are pending (an event call storing two records
 * falls back to the Python path above max_pending - 2), so a record always
 * finds a slot. */
static int
ring_room(SinkObject *self, Py_ssize_t need)
{
    if (self->ring == NULL) {
        Py_ssize_t capacity = RING_MIN;
        while (capacity < self->max_pending) {
            if (capacity > PY_SSIZE_T_MAX / 2 / (Py_ssize_t)sizeof(Record))
                return -1;
            capacity *= 2;
        }
        void *ring = mmap(NULL, (size_t)capacity * sizeof(Record), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (ring == MAP_FAILED)
            return -1;
#ifdef MADV_HUGEPAGE
        /* Huge pages where the system allows them: producers fault the
         * ring in as they first fill it, and in 4 KB pages that was one
         * fault every 21 records (about a tenth of a busy recording's
         * in-run time).  Advice only: refused, nothing changes. */
        (void)madvise(ring, (size_t)capacity * sizeof(Record), MADV_HUGEPAGE);
#endif
        self->ring = ring;
        self->capacity = capacity;
    }
    return self->capacity - pending_of(self) >= need ? 0 : -1;
}

/* Let the encoded records [freed, upto) go.  The GIL is held; decrefs of
 * str and bytes run no Python code. */
static void
ring_free(SinkObject *self, unsigned long long upto)
{
    for (; self->freed < upto; self->freed++)
        record_release(slot_of(self, self->freed));
}

/* Give the memory of every slot back to the OS but the RING_KEEP that the
 * next records go to, so that a burst's memory does not stay with a
 * program that has gone quiet.  Only for an empty ring whose records have
 * all been let go (a given-back page reads as zeros: empty records). */
static void
ring_give_back(SinkObject *self)
{
    if (self->ring == NULL || self->capacity <= RING_KEEP)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *base = (char *)self->ring;
    size_t size = (size_t)self->capacity * sizeof(Record);
    size_t from = (size_t)(self->tail & (unsigned long long)(self->capacity - 1)) * sizeof(Record);
    size_t to = from + (size_t)RING_KEEP * sizeof(Record);  /* kept: [from, to) mod size */
    /* Page-aligned inward: a page partly kept is kept. */
    if (to <= size) {
        size_t a = (from / page) * page, b = (to + page - 1) / page * page;
        if (a > 0)
            (void)madvise(base, a, MADV_DONTNEED);
        if (b < size)
            (void)madvise(base + b, size - b, MADV_DONTNEED);
    }
    else {
        size_t a = (to - size + page - 1) / page * page, b = (from / page) * page;
        if (b > a)
            (void)madvise(base + a, b - a, MADV_DONTNEED);
    }
}

/* Whether the sink takes n records now, without waiting: it is open, n
 * more stay within max_pending, and the ring is made.  The fast paths
 * (whole operations in C) decline otherwise, and the Python path waits for
 * room or finds the sink closed. */
static int
fast_room(SinkObject *self, Py_ssize_t n)
{
    return self->open && pending_of(self) <= self->max_pending - n && ring_room(self, n) == 0;
}

/* Release every record, the ring detached first so a __del__ that emits
 * into this sink finds it empty and whole.  No drain is running: it would
 * hold a reference to the sink. */
static void
ring_clear(SinkObject *self)
{
    Record *ring = self->ring;
    Py_ssize_t capacity = self->capacity;
    unsigned long long freed = self->freed, tail = self->tail;
    self->ring = NULL;
    self->capacity = 0;
    self->freed = self->head = self->tail;
    for (unsigned long long i = freed; i < tail; i++)
        record_release(&ring[i & (unsigned long long)(capacity - 1)]);
    if (ring != NULL)
        munmap(ring, (size_t)capacity * sizeof(Record));
}

/* A Thread's name, read from its instance dict so no Python code runs:
 * a new reference, or NULL (with an exception if one happened) when it is
 * not there. */
static PyObject *
name_in_dict(PyObject *thread)
{
    PyObject *dict = PyObject_GenericGetDict(thread, NULL);
    if (dict == NULL)
        return NULL;
    PyObject *name = PyDict_GetItemWithError(dict, str_name_attr);
    Py_XINCREF(name);
    Py_DECREF(dict);
    return name;
}

/* The calling thread's name: threading._active[ident]._name; a thread
 * threading does not know takes threading.current_thread().name (Python
 * code, once per thread).  Returns a new reference, or NULL with an
 * exception.
 *
 * The Thread found in the registry is kept in the thread state's dict
 * (PyThreadState_GetDict), so later events skip the registry look-up; its
 * _name is read anew each time, so a rename shows at once.  That dict lives
 * and dies with the OS thread's thread state: a thread that ends takes its
 * entry along, and a new thread that reuses the ident starts with none.  A
 * _DummyThread is never kept: threading replaces it in the registry when
 * the real Thread object of that thread registers. */
/* In front of that: the instance dicts of recent threads' Thread objects,
 * by thread state id, which the interpreter never hands out twice, so an
 * entry can only ever match its own thread.  A hit is one look-up of
 * _name.  An entry keeps its dict alive until another thread's takes its
 * place (a few dead threads' dicts at most); letting one go may run
 * Python code, as thread_name() may. */
#define THREAD_CACHE 64
typedef struct {
    uint64_t id;
    PyObject *dict;
} ThreadEntry;
static ThreadEntry thread_cache[THREAD_CACHE];

static void
thread_cache_keep(uint64_t id, PyObject *thread)
{
    PyObject *dict = PyObject_GenericGetDict(thread, NULL);
    if (dict == NULL) {
        PyErr_Clear();  /* not kept: only costs the next look-up */
        return;
    }
    ThreadEntry *e = &thread_cache[id & (THREAD_CACHE - 1)];
    PyObject *old = e->dict;
    e->id = id;
    e->dict = dict;
    Py_XDECREF(old);
}

static PyObject *
thread_name(unsigned long ident)
{
    uint64_t id = PyThreadState_GetID(PyThreadState_Get());
    ThreadEntry *e = &thread_cache[id & (THREAD_CACHE - 1)];
    if (e->id == id && e->dict != NULL) {
        PyObject *name = PyDict_GetItemWithError(e->dict, str_name_attr);
        if (name != NULL)
            return Py_NewRef(name);
        if (PyErr_Occurred())
            return NULL;
    }
    PyObject *state = PyThreadState_GetDict();  /* borrowed; NULL: none, no exception */
    if (state != NULL) {
        PyObject *kept = PyDict_GetItemWithError(state, str_thread_key);
        if (kept != NULL) {
            Py_INCREF(kept);
            PyObject *name = name_in_dict(kept);
            if (name != NULL)
                thread_cache_keep(id, kept);
            Py_DECREF(kept);
            if (name != NULL || PyErr_Occurred())
                return name;
        }
        else if (PyErr_Occurred())
            return NULL;
    }
    PyObject *key = PyLong_FromUnsignedLong(ident);
    if (key == NULL)
        return NULL;
    PyObject *thread = PyDict_GetItemWithError(thread_registry, key); /* borrowed */
    Py_DECREF(key);
    if (thread != NULL) {
        Py_INCREF(thread);
        PyObject *name = name_in_dict(thread);
        if (name != NULL && !PyObject_TypeCheck(thread, dummy_thread_type)) {
            if (state != NULL && PyDict_SetItem(state, str_thread_key, thread) < 0)
                PyErr_Clear();  /* not kept: only costs the next look-up */
            thread_cache_keep(id, thread);
        }
        if (name == NULL && !PyErr_Occurred())
            name = PyObject_GetAttr(thread, str_name);
        Py_DECREF(thread);
        return name;
    }
    if (PyErr_Occurred())
        return NULL;
    thread = PyObject_CallNoArgs(current_thread);
    if (thread == NULL)
        return NULL;
    PyObject *name = PyObject_GetAttr(thread, str_name);
    Py_DECREF(thread);
    return name;
}

/* Patience before an event waiting for room is dropped: the module's
 * ROOM_PATIENCE_S, read when a wait starts, so tests can shorten it. */
static long long
room_patience_ns(void)
{
    double seconds = 5.0;
    PyObject *value = PyObject_GetAttrString(this_module, "ROOM_PATIENCE_S");
    if (value != NULL) {
        double v = PyFloat_AsDouble(value);
        if (!(v == -1.0 && PyErr_Occurred()))
            seconds = v;
        Py_DECREF(value);
    }
    PyErr_Clear();
    return (long long)(seconds * 1e9);
}

/* Wait, GIL released between looks, until the writer drained below
 * max_pending.  1: there is room; 0: closed or out of patience; -1: a signal
 * handler raised. */
static int
wait_for_room(SinkObject *self)
{
    long long deadline = monotonic_ns() + room_patience_ns();
    /* Wait off the GIL until the writer has taken a good part of the ring
     * (a quarter of it), looking at the count without the GIL (other
     * producers may store meanwhile: a stale value costs one more poll).  Taking the GIL back at
     * every look had the waiting threads and the writer queue for it in
     * turn, so the writer fell further behind exactly when it had to catch
     * up.  The GIL is taken back every 50 ms to let signal handlers run. */
    const volatile int *open = &self->open;
    Py_ssize_t low = self->max_pending - Py_MAX(self->max_pending / 4, 1);
    while (pending_of(self) >= self->max_pending) {
        if (!self->open || monotonic_ns() > deadline)
            return 0;
        Py_BEGIN_ALLOW_THREADS
        long long until = Py_MIN(deadline, monotonic_ns() + 50000000LL);
        while (pending_of(self) > low && *open && monotonic_ns() < until) {
            struct timespec t = {0, ROOM_POLL_NS};
            nanosleep(&t, NULL);
        }
        Py_END_ALLOW_THREADS
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
    return 1;
}

/* site.site_name in C, for a sink used with no namer handed over:
 * "basename:LINE" for a (filename, line) pair, str(site) for anything else. */
static PyObject *
default_site_name(PyObject *site)
{
    if (PyTuple_CheckExact(site) && PyTuple_GET_SIZE(site) == 2 &&
        PyUnicode_Check(PyTuple_GET_ITEM(site, 0))) {
        PyObject *path = PyTuple_GET_ITEM(site, 0);
        Py_ssize_t n = PyUnicode_GetLength(path);
        Py_ssize_t slash = PyUnicode_FindChar(path, '/', 0, n, -1);
        if (slash == -2)
            return NULL;
        PyObject *base = PyUnicode_Substring(path, slash + 1, n);
        if (base == NULL)
            return NULL;
        PyObject *name = PyUnicode_FromFormat("%U:%S", base, PyTuple_GET_ITEM(site, 1));
        Py_DECREF(base);
        return name;
    }
    return PyObject_Str(site);
}

/* A site's label: from the sink's cache, else the namer's answer (Python
 * code: callers ask before taking a seq).  New reference to an exact str,
 * or NULL with an exception. */
static PyObject *
site_label(SinkObject *self, PyObject *site)
{
    if (self->site_name_of != site_namer) {  /* set_site_name() named sites anew */
        PyDict_Clear(self->site_names);
        Py_XSETREF(self->site_name_of, Py_XNewRef(site_namer));
    }
    PyObject *name = PyDict_GetItemWithError(self->site_names, site);
    if (name != NULL)
        return Py_NewRef(name);
    int cacheable = 1;
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError))
            return NULL;
        PyErr_Clear();  /* unhashable: name it every time */
        cacheable = 0;
    }
    PyObject *namer = Py_XNewRef(site_namer);  /* the call may replace it */
    PyObject *answer =
        namer == NULL ? default_site_name(site) : PyObject_CallOneArg(namer, site);
    if (answer == NULL) {
        Py_XDECREF(namer);
        return NULL;
    }
    name = PyUnicode_Check(answer) ? exact_str(answer) : PyObject_Str(answer);
    Py_DECREF(answer);
    int same = self->site_name_of == namer;
    Py_XDECREF(namer);
    if (name == NULL || !cacheable || !same)
        return name;
    if (PyDict_GET_SIZE(self->site_names) >= RING_KEEP)  /* keep the cache bounded */
        PyDict_Clear(self->site_names);
    if (PyDict_SetItem(self->site_names, site, name) < 0)
        Py_CLEAR(name);
    return name;
}

/* Room for `total` fields: the slots, and a heap array past them.  0, or
 * -1 with MemoryError. */
static int
record_reserve(Record *r, Py_ssize_t total)
{
    if (total <= SLOTS)
        return 0;
    r->more = PyMem_New(Field, (size_t)(total - SLOTS));
    if (r->more == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* Turn an event's parts into a record's C data (a zeroed *r on entry).
 * Runs Python code (the site namer on a cache miss, orjson for odd values),
 * so it comes before the seq is taken.  `begin_seq` (or NULL) is the first
 * field, as in {"begin_seq": begin_seq, **fields}.  0, or -1 with an
 * exception and *r released. */
static int
record_fill(SinkObject *self, Record *r, PyObject *event, PyObject *thread, PyObject *obj,
            PyObject *site, PyObject *begin_seq, PyObject *fields)
{
    if (value_from(event, &r->event) < 0 || value_from(thread, &r->thread) < 0 ||
        value_from(obj, &r->obj) < 0)
        goto error;
    if (site != Py_None && (r->site = site_label(self, site)) == NULL)
        goto error;
    Py_ssize_t room = (begin_seq != NULL) + (fields == Py_None ? 0 : PyDict_GET_SIZE(fields));
    if (record_reserve(r, room) < 0)
        goto error;
    if (begin_seq != NULL) {
        /* {"begin_seq": b, **fields}: a begin_seq among the fields wins. */
        PyObject *given = fields == Py_None ? NULL
                                            : PyDict_GetItemWithError(fields, str_begin_seq);
        if (given == NULL && PyErr_Occurred())
            goto error;
        PyObject *value = given != NULL ? given : begin_seq;
        if (value != Py_None) {
            Field *f = &r->slot[0];
            if (value_from(value, &f->value) < 0)
                goto error;
            f->key = Py_NewRef(str_begin_seq);
            r->nfields = 1;
        }
    }
    if (fields == Py_None)
        return 0;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    /* A repr run by value_from may change the dict: PyDict_Next stays safe,
     * and never more than `room` fields are kept. */
    while (r->nfields < room && PyDict_Next(fields, &pos, &key, &value)) {
        if (value == Py_None)
            continue;
        Py_INCREF(key);
        Py_INCREF(value);
        int skip = begin_seq != NULL && PyUnicode_Check(key) &&
                   PyUnicode_Compare(key, str_begin_seq) == 0;
        Field *f = field_at(r, r->nfields);
        PyObject *text = NULL;
        int rc = 0;
        if (!skip) {
            text = PyUnicode_Check(key) ? exact_str(key) : PyObject_Str(key);
            rc = text == NULL || value_from(value, &f->value) < 0 ? -1 : 0;
        }
        Py_DECREF(key);
        Py_DECREF(value);
        if (rc < 0) {
            Py_XDECREF(text);
            goto error;
        }
        if (!skip) {
            f->key = text;
            r->nfields++;
        }
    }
    return 0;
error:
    record_release(r);
    return -1;
}

/* Store a filled record as the next event, taking over its references (*r
 * is left empty); the caller made sure of room (ring_room).  Returns the
 * seq; *ts_out (if given) gets the ts.
 *
 * GIL rule: from taking the seq to storing the record no Python code runs
 * and the GIL is never let go, so no other thread and no signal handler can
 * come in between: records enter the ring in seq order. */
static long long
store_now(SinkObject *self, Record *r, unsigned long ident, long long *ts_out)
{
    unsigned long long tail = self->tail;
    /* The slot's last record was encoded long ago (tail - head <
     * max_pending <= capacity) and still holds its references: let them go
     * here, where the GIL is held anyway, rather than make the writer take
     * the GIL for them.  Decrefs of str and bytes run no Python code. */
    if (tail - self->freed >= (unsigned long long)self->capacity)
        ring_free(self, tail - (unsigned long long)self->capacity + 1);
    Record *slot = slot_of(self, tail);
    long long seq = r->seq = self->next_seq++;
    r->ts = monotonic_ns();
    if (ts_out != NULL)
        *ts_out = r->ts;
    r->thread_id = ident;
    *slot = *r;
    /* The record is whole before the writer can see it. */
    __atomic_store_n(&self->tail, tail + 1, __ATOMIC_RELEASE);
    memset(r, 0, sizeof *r);
    return seq;
}

/* Store a filled record as the next event (takes ownership of *r).  Returns
 * its seq (>= 0), -1 when it was not kept (closed, no room in time, no
 * memory), -2 with an exception set.  *ts_out gets the record's ts. */
static long long
store(SinkObject *self, Record *r, unsigned long ident, long long *ts_out)
{
    if (pending_of(self) >= self->max_pending) {
        int room = wait_for_room(self);
        if (room <= 0) {
            self->dropped++;
            record_release(r);
            return room < 0 ? -2 : -1;
        }
    }
    if (!self->open) {
        record_release(r);
        return -1;
    }
    if (ring_room(self, 1) < 0) {
        self->dropped++;
        record_release(r);
        return -1;
    }
    return store_now(self, r, ident, ts_out);
}

/* A conversion failed: an ordinary error only costs the event (counted as
 * dropped; the program must not fail for our sake), a KeyboardInterrupt
 * goes on to the program. */
static long long
capture_failed(SinkObject *self)
{
    if (!clear_ordinary_error())
        return -2;
    self->dropped++;
    return -1;
}

/* Capture one event.  Returns its seq (>= 0), -1 when it was not kept,
 * -2 with an exception set.  `thread` is borrowed; *ts_out gets the ts. */
static long long
capture(SinkObject *self, PyObject *event, PyObject *obj, PyObject *site, PyObject *begin_seq,
        PyObject *fields, PyObject *thread, unsigned long ident, long long *ts_out)
{
    if (!self->open)
        return -1;
    if (fields != Py_None && !PyDict_Check(fields)) {
        PyErr_Format(PyExc_TypeError, "fields must be a dict or None, not %.100s",
                     Py_TYPE(fields)->tp_name);
        return -2;
    }
    Record r;
    memset(&r, 0, sizeof r);
    if (record_fill(self, &r, event, thread, obj, site, begin_seq, fields) < 0)
        return capture_failed(self);
    return store(self, &r, ident, ts_out);
}

static PyObject *
seq_result(long long seq)
{
    return seq == -2 ? NULL : PyLong_FromLongLong(seq);
}

/* Capture an event of the calling thread; *name_out (if given) gets a new
 * reference to its name. */
static long long
capture_here(SinkObject *self, PyObject *event, PyObject *obj, PyObject *site,
             PyObject *begin_seq, PyObject *fields, PyObject **name_out,
             unsigned long *ident_out, long long *ts_out)
{
    if (!self->open)
        return -1;
    unsigned long ident = PyThread_get_thread_ident();
    /* May run Python code on the rare path, so it comes before the seq. */
    PyObject *name = thread_name(ident);
    if (name == NULL)
        return -2;
    long long seq = capture(self, event, obj, site, begin_seq, fields, name, ident, ts_out);
    if (name_out != NULL && seq >= 0) {
        *name_out = name;
        *ident_out = ident;
    }
    else
        Py_DECREF(name);
    return seq;
}

/* Match a fast call's arguments to `names` (positional or keyword), like
 * a Python signature: out[i] gets a borrowed reference, Py_None for a
 * missing optional one.  0, or -1 with a TypeError. */
static int
parse_args(const char *func, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
           const char *const *names, Py_ssize_t required, Py_ssize_t n, PyObject **out)
{
    if (nargs > n) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd arguments (%zd given)",
                     func, n, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = i < nargs ? args[i] : NULL;
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t i = 0;
        while (i < n && PyUnicode_CompareWithASCIIString(key, names[i]) != 0)
            i++;
        if (i == n || out[i] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got %s argument '%U'", func,
                         i == n ? "an unexpected keyword" : "multiple values for", key);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (out[i] != NULL)
            continue;
        if (i < required) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", func,
                         names[i]);
            return -1;
        }
        out[i] = Py_None;
    }
    return 0;
}

static const char *const EMIT_ARGS[] = {"event", "obj", "site", "fields", "thread", "thread_id"};
static const char *const END_ARGS[] = {"begin_seq", "event", "obj", "site", "fields"};

static PyObject *
Sink_emit(SinkObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[4];
    long long ts;
    if (parse_args("emit", args, nargs, kwnames, EMIT_ARGS, 3, 4, a) < 0)
        return NULL;
    return seq_result(capture_here(self, a[0], a[1], a[2], NULL, a[3], NULL, NULL, &ts));
}

static PyObject *
Sink_emit_as(SinkObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[6];
    long long ts;
    if (parse_args("emit_as", args, nargs, kwnames, EMIT_ARGS, 6, 6, a) < 0)
        return NULL;
    unsigned long ident = PyLong_AsUnsignedLong(a[5]);
    if (ident == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    return seq_result(capture(self, a[0], a[1], a[2], NULL, a[3], a[4], ident, &ts));
}

static PyObject *
Sink_begin(SinkObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[4];
    PyObject *name = NULL;
    unsigned long ident = 0;
    long long ts = 0;
    if (parse_args("begin", args, nargs, kwnames, EMIT_ARGS, 3, 4, a) < 0)
        return NULL;
    long long seq = capture_here(self, a[0], a[1], a[2], NULL, a[3], &name, &ident, &ts);
    if (seq < 0)
        return seq_result(seq);
    /* The event is kept whatever happens below: a begin missing from
     * `blocked` only leaves it out of trace.end's list. */
    PyObject *key = PyLong_FromLongLong(seq);
    PyObject *value = Py_BuildValue("(OkOOOL)", name, ident, a[0], a[1], a[2], ts);
    Py_DECREF(name);
    if (key == NULL || value == NULL || PyDict_SetItem(self->blocked, key, value) < 0)
        PyErr_Clear();
    Py_XDECREF(key);
    Py_XDECREF(value);
    return PyLong_FromLongLong(seq);
}

static PyObject *
Sink_end(SinkObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[5];
    long long ts;
    if (parse_args("end", args, nargs, kwnames, END_ARGS, 5, 5, a) < 0)
        return NULL;
    PyObject *begin_seq = a[0], *fields = a[4];
    if (fields != Py_None && !PyDict_Check(fields)) {
        PyErr_Format(PyExc_TypeError, "fields must be a dict, not %.100s",
                     Py_TYPE(fields)->tp_name);
        return NULL;
    }
    /* blocked.pop(begin_seq, None) */
    PyObject *begun = PyDict_GetItemWithError(self->blocked, begin_seq);
    if (begun != NULL) {
        if (PyDict_DelItem(self->blocked, begin_seq) < 0)
            return NULL;
    }
    else if (PyErr_Occurred())
        return NULL;
    return seq_result(capture_here(self, a[1], a[2], a[3], begin_seq, fields, NULL, NULL, &ts));
}

static PyObject *
Sink_close(SinkObject *self, PyObject *Py_UNUSED(ignored))
{
    self->open = 0;
    return PyLong_FromLongLong(self->next_seq++);
}

static PyObject *
Sink_wait(SinkObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"timeout", "threshold", NULL};
    double timeout;
    Py_ssize_t threshold;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "dn:wait", kwlist, &timeout, &threshold))
        return NULL;
    if (!(timeout > 0))  /* NaN too */
        timeout = 0;
    long long deadline = monotonic_ns() + (long long)(Py_MIN(timeout, 1e9) * 1e9);
    /* The whole wait is off the GIL: taking it back after every look would
     * make the writer queue for it (up to a switch interval each time, with
     * the program's threads busy) only to read two ints.  Producers store
     * meanwhile: a stale count only makes the next look come one poll
     * later.  Signals are checked once back. */
    const volatile int *open = &self->open;
    Py_BEGIN_ALLOW_THREADS
    while (pending_of(self) < threshold && *open) {
        long long left = deadline - monotonic_ns();
        if (left <= 0)
            break;
        struct timespec t = {0, (long)Py_MIN(left, WAIT_POLL_NS)};
        nanosleep(&t, NULL);
    }
    Py_END_ALLOW_THREADS
    if (PyErr_CheckSignals() < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* ---- drain: records to JSON lines, off the GIL ------------------------------ */

/* GIL rule: everything from here to encode_range runs WITHOUT the GIL.  It
 * touches only pending records (which no producer writes over, see the
 * ring's invariants) and the encoding buffer (the draining thread's own),
 * and reads str and bytes objects the records hold strong references to,
 * through macros that read their immutable contents (no Python API call,
 * no reference count touched).  Memory comes from the raw allocator,
 * the one that needs no GIL; errors are return codes, never exceptions. */

/* A growable byte buffer (PyMem_Raw*). */
typedef struct {
    char *data;
    Py_ssize_t len;
    Py_ssize_t cap;
} Buf;

static int
buf_reserve(Buf *b, Py_ssize_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    if (extra > PY_SSIZE_T_MAX / 2 - b->len)
        return -1;
    Py_ssize_t cap = Py_MAX(b->cap * 2, b->len + extra);
    char *data = PyMem_RawRealloc(b->data, (size_t)cap);
    if (data == NULL)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}


/* ---- Lines: a drain's encoded lines, handed to the writer without a copy ---- */

/* The writer only writes the lines out (os.write, or a compressor), so
 * drain_lines() hands it the encoding buffer itself, read-only through the
 * buffer protocol, instead of copying it into a new bytes object; and the
 * next drain encodes into the same buffer again once nobody else holds it.
 * A recording that drains 16 MB at a time so neither copies each batch nor
 * faults in fresh pages for every one. */
typedef struct {
    PyObject_HEAD
    Buf buf;
    Py_ssize_t exports;  /* buffer views open on it: while any is, it is never reused */
} LinesObject;

static PyTypeObject Lines_Type;

static int
Lines_getbuffer(LinesObject *self, Py_buffer *view, int flags)
{
    static char empty[1];
    void *data = self->buf.data != NULL ? self->buf.data : empty;
    if (PyBuffer_FillInfo(view, (PyObject *)self, data, self->buf.len, 1, flags) < 0)
        return -1;
    self->exports++;
    return 0;
}

static void
Lines_releasebuffer(LinesObject *self, Py_buffer *Py_UNUSED(view))
{
    self->exports--;
}

static Py_ssize_t
Lines_length(LinesObject *self)
{
    return self->buf.len;
}

static void
Lines_dealloc(LinesObject *self)
{
    PyMem_RawFree(self->buf.data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Lines_repr(LinesObject *self)
{
    return PyUnicode_FromFormat("<Lines of %zd bytes>", self->buf.len);
}

static PyBufferProcs Lines_as_buffer = {
    .bf_getbuffer = (getbufferproc)Lines_getbuffer,
    .bf_releasebuffer = (releasebufferproc)Lines_releasebuffer,
};

static PySequenceMethods Lines_as_sequence = {
    .sq_length = (lenfunc)Lines_length,
};

static PyTypeObject Lines_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer.recording._csink.Lines",
    .tp_basicsize = sizeof(LinesObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "JSON lines a drain encoded: a read-only buffer (bytes(lines) copies it). "
              "Valid as long as it is held; the sink reuses it only once nobody holds it.",
    .tp_dealloc = (destructor)Lines_dealloc,
    .tp_repr = (reprfunc)Lines_repr,
    .tp_as_buffer = &Lines_as_buffer,
    .tp_as_sequence = &Lines_as_sequence,
};

/* A Lines to encode the next batch into, emptied: the last one handed out
 * when only the sink still holds it and no view is open on it (so no other
 * thread can reach its buffer while it is encoded off the GIL), else a new
 * one.  New reference, or NULL with an exception.  The GIL is held. */
static LinesObject *
lines_for_drain(SinkObject *self)
{
    PyObject *last = self->lines;
    if (last != NULL && Py_REFCNT(last) == 1 && ((LinesObject *)last)->exports == 0) {
        ((LinesObject *)last)->buf.len = 0;
        return (LinesObject *)Py_NewRef(last);
    }
    LinesObject *fresh = PyObject_New(LinesObject, &Lines_Type);
    if (fresh == NULL)
        return NULL;
    fresh->buf = (Buf){NULL, 0, 0};
    fresh->exports = 0;
    /* Freeing the last one (if nobody else holds it) runs no Python code. */
    Py_XSETREF(self->lines, Py_NewRef((PyObject *)fresh));
    return fresh;
}

/* The encoder writes each line into room reserved for it at once (an
 * upper bound of its length, see record_bound), through the w_* writers
 * below, which check nothing: reserving once per line instead of once per
 * piece was a third of the encoding's instructions.  Names that recur on
 * every line (event, thread, object, site and field key, all str) are
 * encoded once per batch and copied from a NameCache after that. */

/* Bytes a short copy may write (and read) past its end: a line's room, the
 * name arena and HighDigits keep this much to spare. */
#define SLACK 32

/* "00" to "99": two digits per division. */
static const char DIGIT_PAIRS[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

#define W_LITERAL(o, s) (memcpy((o), (s), sizeof(s) - 1), (o) + sizeof(s) - 1)

static const unsigned long long POWERS_OF_TEN[] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
    10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL,
};

/* How many decimal digits u has: from its bit length, which says it to
 * within one, and one comparison. */
static inline int
digit_count(unsigned long long u)
{
    if (u == 0)
        return 1;
    int n = ((64 - __builtin_clzll(u)) * 1233) >> 12;  /* 1233 / 4096 ~ log10(2) */
    return n + (u >= POWERS_OF_TEN[n]);
}

/* Decimal digits, written from the last one back, in place. */
static inline char *
w_uint(char *o, unsigned long long u)
{
    int n = digit_count(u);
    char *p = o + n;
    while (u >= 100) {
        unsigned pair = (unsigned)(u % 100);
        u /= 100;
        p -= 2;
        memcpy(p, DIGIT_PAIRS + 2 * pair, 2);
    }
    if (u >= 10)
        memcpy(p - 2, DIGIT_PAIRS + 2 * u, 2);
    else
        p[-1] = (char)('0' + u);
    return o + n;
}

static inline char *
w_int(char *o, long long x)
{
    if (x < 0) {
        *o++ = '-';
        return w_uint(o, 0ULL - (unsigned long long)x);
    }
    return w_uint(o, (unsigned long long)x);
}

/* The leading digits of a big number (all but its last eight), as last
 * written: a ts keeps them for a tenth of a second, a thread id for the
 * thread's life. */
typedef struct {
    unsigned long long high;
    int len;           /* 0: empty */
    char text[SLACK];  /* at most 12 digits, and room for a SLACK-sized copy */
} HighDigits;

static inline char *
w_two(char *o, unsigned pair)
{
    memcpy(o, DIGIT_PAIRS + 2 * pair, 2);
    return o + 2;
}

/* A number of nine digits or more as its leading digits, through `cache`,
 * and its last eight: a third of the instructions of writing all of them. */
static inline char *
w_big(char *o, unsigned long long u, HighDigits *ways, unsigned mask)
{
    if (u < 100000000ULL)
        return w_uint(o, u);
    unsigned long long high = u / 100000000ULL;
    unsigned low = (unsigned)(u - high * 100000000ULL);
    HighDigits *cache = &ways[high & mask];
    if (cache->len == 0 || cache->high != high) {
        cache->high = high;
        cache->len = (int)(w_uint(cache->text, high) - cache->text);
    }
    memcpy(o, cache->text, SLACK);
    o += cache->len;
    unsigned a = low / 10000, b = low % 10000;
    o = w_two(o, a / 100);
    o = w_two(o, a % 100);
    o = w_two(o, b / 100);
    return w_two(o, b % 100);
}

/* ASCII characters a JSON string must escape. */
static const unsigned char ESCAPED[128] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  /* '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,  /* '\\' */
};

static const char HEX[] = "0123456789abcdef";

/* An ASCII character JSON escapes: \" \\ \b \f \n \r \t, the other control
 * characters as \u00XX (orjson's choices). */
static inline char *
w_escape(char *o, unsigned c)
{
    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
        memcpy(o, "u00", 3);
        o[3] = HEX[c >> 4];
        o[4] = HEX[c & 0xf];
        o += 5;
    }
    return o;
}

/* At most how many bytes w_str writes for `s`: no code point takes more
 * than 6, and the quotes. */
static inline size_t
str_bound(PyObject *s)
{
    return 6 * (size_t)PyUnicode_GET_LENGTH(s) + 2;
}

/* A str as a JSON string, escaped as orjson does, the rest as UTF-8; a lone
 * surrogate, which UTF-8 cannot hold, as its \uXXXX escape.  `s` is an
 * exact str, ready (see exact_str), read through its canonical
 * representation.  An ASCII str (nearly every one) is copied in runs. */
static char *
w_str(char *o, PyObject *s)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    *o++ = '"';
    if (PyUnicode_IS_ASCII(s)) {
        const unsigned char *p = (const unsigned char *)PyUnicode_DATA(s);
        Py_ssize_t i = 0;
        for (;;) {
            Py_ssize_t j = i;
            while (j < n && !ESCAPED[p[j]])
                j++;
            memcpy(o, p + i, (size_t)(j - i));
            o += j - i;
            if (j == n)
                break;
            o = w_escape(o, p[j]);
            i = j + 1;
        }
        *o++ = '"';
        return o;
    }
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x80) {
            if (ESCAPED[c])
                o = w_escape(o, c);
            else
                *o++ = (char)c;
        }
        else if (c < 0x800) {
            *o++ = (char)(0xc0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
        else if (c >= 0xd800 && c <= 0xdfff) {
            *o++ = '\\';
            *o++ = 'u';
            for (int shift = 12; shift >= 0; shift -= 4)
                *o++ = HEX[(c >> shift) & 0xf];
        }
        else if (c < 0x10000) {
            *o++ = (char)(0xe0 | (c >> 12));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
        else {
            *o++ = (char)(0xf0 | (c >> 18));
            *o++ = (char)(0x80 | ((c >> 12) & 0x3f));
            *o++ = (char)(0x80 | ((c >> 6) & 0x3f));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
    }
    *o++ = '"';
    return o;
}

/* Encoded names of one batch, by object.  An entry's key is an object a
 * record of the batch holds a reference to, so its address cannot be
 * reused by another object before the batch ends (a producer lets a record
 * go only once head is past it, which is after the batch); the cache is
 * emptied before each batch. */
#define NAME_CACHE 256    /* entries, a power of two */
#define NAME_ARENA 32768  /* bytes of encoded names per batch */
#define NAME_LONGEST 256  /* longer encodings are not kept */
typedef struct {
    PyObject *key;
    uint32_t at;
    uint32_t len;
} NameEntry;

typedef struct {
    NameEntry entry[NAME_CACHE];
    size_t used;
    char arena[NAME_ARENA + SLACK];
    HighDigits ts;         /* kept from batch to batch: numbers, not objects */
    HighDigits thread[8];  /* by a thread id's leading digits */
} NameCache;

static void
names_empty(NameCache *names)
{
    memset(names->entry, 0, sizeof names->entry);
    names->used = 0;
}

/* w_str(s) through the cache. */
static inline char *
w_name(NameCache *names, char *o, PyObject *s)
{
    uintptr_t h = (uintptr_t)s;
    NameEntry *e = &names->entry[((h >> 4) ^ (h >> 12)) & (NAME_CACHE - 1)];
    if (e->key == s) {
        /* Most names are short: one fixed-size copy, which the compiler
         * inlines, where the arena and the line both have SLACK to spare. */
        if (e->len <= SLACK)
            memcpy(o, names->arena + e->at, SLACK);
        else
            memcpy(o, names->arena + e->at, e->len);
        return o + e->len;
    }
    char *start = o;
    o = w_str(o, s);
    size_t len = (size_t)(o - start);
    if (len <= NAME_LONGEST && names->used + len <= NAME_ARENA) {
        memcpy(names->arena + names->used, start, len);
        e->key = s;
        e->at = (uint32_t)names->used;
        e->len = (uint32_t)len;
        names->used += len;
    }
    return o;
}

/* At most how many bytes w_value writes for `v`. */
static inline size_t
value_bound(const Value *v)
{
    switch (v->kind) {
    case V_STR:
        return str_bound(v->u.o);
    case V_ASCII:
        return (size_t)PyUnicode_GET_LENGTH(v->u.o);
    case V_JSON:
        return (size_t)PyBytes_GET_SIZE(v->u.o);
    default:  /* a number (20 digits, a sign, quotes or ".0") or a literal */
        return 24;
    }
}

/* A value; a str through the name cache when `is_name`. */
static char *
w_value(NameCache *names, char *o, const Value *v, int is_name)
{
    switch (v->kind) {
    case V_TRUE:
        return W_LITERAL(o, "true");
    case V_FALSE:
        return W_LITERAL(o, "false");
    case V_INT:
        return w_int(o, v->u.i);
    case V_INTREPR:
        *o++ = '"';
        o = w_int(o, v->u.i);
        *o++ = '"';
        return o;
    case V_FLOAT0:
        if (v->u.d == 0 && signbit(v->u.d))
            return W_LITERAL(o, "-0.0");
        o = w_int(o, (long long)v->u.d);
        return W_LITERAL(o, ".0");
    case V_STR:
        return is_name ? w_name(names, o, v->u.o) : w_str(o, v->u.o);
    case V_ASCII: {
        size_t n = (size_t)PyUnicode_GET_LENGTH(v->u.o);
        memcpy(o, PyUnicode_DATA(v->u.o), n);
        return o + n;
    }
    case V_JSON: {
        size_t n = (size_t)PyBytes_GET_SIZE(v->u.o);
        memcpy(o, PyBytes_AS_STRING(v->u.o), n);
        return o + n;
    }
    default:  /* V_ABSENT, V_NULL */
        return W_LITERAL(o, "null");
    }
}

/* At most how many bytes put_record writes for `r`, or 0 when that does
 * not fit in a Py_ssize_t (a str of more than a sixth of the memory). */
static size_t
record_bound(Record *r)
{
    /* The keys and punctuation of the fixed part, three integers, and the
     * slack of a short copy. */
    size_t need = 64 + 3 * 24 + SLACK;
    const size_t limit = (size_t)PY_SSIZE_T_MAX / 4;
    need += value_bound(&r->event) + value_bound(&r->thread) + value_bound(&r->obj);
    if (r->site != NULL)
        need += str_bound(r->site);
    for (Py_ssize_t i = 0; i < r->nfields && need < limit; i++) {
        Field *f = field_at(r, i);
        need += str_bound(f->key) + 2 + value_bound(&f->value);
    }
    return need < limit ? need : 0;
}

/* One record as one line, in the pure sink's key order; *last_ts is the
 * largest ts written so far.  0, or -1 when memory ran out. */
static int
put_record(Buf *b, NameCache *names, Record *r, long long *last_ts)
{
    size_t need = record_bound(r);
    if (need == 0 || buf_reserve(b, (Py_ssize_t)need) < 0)
        return -1;
    long long ts = Py_MAX(r->ts, *last_ts);
    *last_ts = ts;
    char *o = b->data + b->len;
    o = W_LITERAL(o, "{\"event\":");
    o = w_value(names, o, &r->event, 1);
    o = W_LITERAL(o, ",\"ts\":");
    o = ts >= 0 ? w_big(o, (unsigned long long)ts, &names->ts, 0) : w_int(o, ts);
    o = W_LITERAL(o, ",\"seq\":");
    o = w_int(o, r->seq);
    o = W_LITERAL(o, ",\"thread\":");
    o = w_value(names, o, &r->thread, 1);
    o = W_LITERAL(o, ",\"thread_id\":");
    o = w_big(o, r->thread_id, names->thread, 7);
    if (r->obj.kind != V_ABSENT) {
        o = W_LITERAL(o, ",\"obj\":");
        o = w_value(names, o, &r->obj, 1);
    }
    if (r->site != NULL) {
        o = W_LITERAL(o, ",\"site\":");
        o = w_name(names, o, r->site);
    }
    for (Py_ssize_t i = 0; i < r->nfields; i++) {
        Field *f = field_at(r, i);
        *o++ = ',';
        o = w_name(names, o, f->key);
        *o++ = ':';
        o = w_value(names, o, &f->value, 0);
    }
    o = W_LITERAL(o, "}\n");
    b->len = o - b->data;
    return 0;
}

/* Records [from, from + n) of the ring, without the GIL: 0, or -1 when
 * memory ran out.  The ring never moves, and producers store only past
 * them (see the ring's invariants). */
static int
encode_range(Buf *b, NameCache *names, SinkObject *self, unsigned long long from, Py_ssize_t n,
             long long *last_ts)
{
    names_empty(names);
    if (buf_reserve(b, Py_MIN(n, 8192) * 128) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (put_record(b, names, slot_of(self, from + (unsigned long long)i), last_ts) < 0)
            return -1;
    return 0;
}

/* Whether a drain may start here: 0, or -1 with RuntimeError when another
 * thread of this process is draining (a mark left by a drain in the parent
 * of a fork means nothing in the child). */
static int
drain_may_start(SinkObject *self)
{
    if (self->draining == getpid()) {
        PyErr_SetString(PyExc_RuntimeError,
                        "another thread is draining this sink: drains must not overlap, "
                        "or their lines would leave seq order");
        return -1;
    }
    return 0;
}

/* write() all n bytes, retrying when interrupted: 0, or the errno. */
static int
write_all(int fd, const char *data, Py_ssize_t n)
{
    while (n > 0) {
        ssize_t done = write(fd, data, (size_t)Py_MIN(n, (Py_ssize_t)1 << 30));
        if (done < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        data += done;
        n -= done;
    }
    return 0;
}

/* What one drain did, off the GIL, for the caller to account with it. */
typedef struct {
    long long encoded;  /* records encoded (and, with a fd, written) */
    long long lost;     /* records past head that reached no line: no memory, or write failed */
    int nomem;          /* encoding ran out of memory */
    int err;            /* write()'s errno, or 0 */
} Drained;

/* Encode pending records into `lines`, `limit` at a time, and, with fd >=
 * 0, write each batch there; `batches` at most (or until the ring is
 * empty).  Without fd, one batch, left in `lines`.  Runs with the GIL
 * released from the first record to the last: only this thread moves head
 * (drains never overlap), producers store past tail meanwhile.  The GIL
 * is held on entry and on return. */
static Drained
drain_off_gil(SinkObject *self, LinesObject *lines, Py_ssize_t limit, int fd)
{
    Drained d = {0, 0, 0, 0};
    Buf *b = &lines->buf;
    long long last_ts = self->last_ts;
    self->draining = getpid();
    Py_BEGIN_ALLOW_THREADS
    NameCache *names = PyMem_RawCalloc(1, sizeof *names);
    for (;;) {
        unsigned long long head = self->head;
        unsigned long long tail = __atomic_load_n(&self->tail, __ATOMIC_ACQUIRE);
        Py_ssize_t n = (Py_ssize_t)Py_MIN(tail - head, (unsigned long long)limit);
        if (n <= 0)
            break;
        b->len = 0;
        if (names == NULL || encode_range(b, names, self, head, n, &last_ts) < 0) {
            d.nomem = 1;
            d.lost += n;
        }
        else if (fd >= 0 && (d.err = write_all(fd, b->data, b->len)) != 0) {
            d.lost += n;
        }
        else {
            d.encoded += n;
        }
        /* Read: the slots may be reused. */
        __atomic_store_n(&self->head, head + (unsigned long long)n, __ATOMIC_RELEASE);
        if (fd < 0 || d.nomem || d.err)
            break;
    }
    PyMem_RawFree(names);
    Py_END_ALLOW_THREADS
    self->draining = 0;
    self->last_ts = last_ts;
    if (d.nomem) {
        b->len = 0;
        self->dropped += d.lost;
        PyErr_NoMemory();
    }
    return d;
}

/* drain() and drain_lines(): the lines as a Lines (empty bytes when there
 * are none), *count how many. */
static PyObject *
drain_batch(SinkObject *self, PyObject *args, PyObject *kwds, const char *format,
            Py_ssize_t *count)
{
    static char *kwlist[] = {"limit", "site_name", "final", NULL};
    Py_ssize_t limit;
    PyObject *site_name_of;
    int final = 0;
    *count = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, format, kwlist, &limit, &site_name_of,
                                     &final))
        return NULL;
    /* `final` changes nothing here: records are in seq order already, with
     * no gap to hold back.  `site_name` neither: sites were named at
     * capture, by the namer set_site_name() handed over (capture gives it
     * site.site_name, which is what the recorder passes here too). */
    if (limit <= 0 || pending_of(self) <= 0)
        return PyBytes_FromStringAndSize(NULL, 0);
    if (drain_may_start(self) < 0)
        return NULL;
    LinesObject *lines = lines_for_drain(self);
    if (lines == NULL)
        return NULL;
    Drained d = drain_off_gil(self, lines, limit, -1);
    if (d.nomem) {
        Py_DECREF(lines);
        return NULL;
    }
    *count = (Py_ssize_t)d.encoded;  /* one line per record */
    return (PyObject *)lines;
}

/* pump(fd, limit) -> (written, lost, errno): the writer's loop for a plain
 * trace file, in C.  It drains the ring into `fd`, `limit` records a
 * batch, until the ring is empty, without the GIL from the first batch to
 * the last: producers go on storing meanwhile, and references of written
 * records are let go later, by the producer that reuses their slot or by
 * trim().  `written` counts the lines written; when write() fails, the
 * batch it failed on is `lost` (a line of it may be on disk cut short),
 * `errno` says why, and pump returns at once: the caller stops writing. */
static PyObject *
Sink_pump(SinkObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "pump(fd, limit) takes 2 arguments");
        return NULL;
    }
    long fd_long = PyLong_AsLong(args[0]);
    Py_ssize_t limit = PyLong_AsSsize_t(args[1]);
    if ((fd_long == -1 || limit == -1) && PyErr_Occurred())
        return NULL;
    int fd = (int)fd_long;
    if (fd_long < 0 || fd_long > INT_MAX || limit <= 0) {
        PyErr_SetString(PyExc_ValueError, "pump(fd, limit): fd >= 0 and limit > 0");
        return NULL;
    }
    if (pending_of(self) <= 0)
        return Py_BuildValue("(LLi)", 0LL, 0LL, 0);
    if (drain_may_start(self) < 0)
        return NULL;
    LinesObject *lines = lines_for_drain(self);
    if (lines == NULL)
        return NULL;
    Drained d = drain_off_gil(self, lines, limit, fd);
    lines->buf.len = 0;
    Py_DECREF(lines);
    if (d.nomem)
        return NULL;
    return Py_BuildValue("(LLi)", d.encoded, d.lost, d.err);
}

/* trim(): let every written record's references go and, when nothing is
 * pending, give the memory of all but RING_KEEP slots back to the OS.  The
 * writer calls it when the program has gone quiet: under load the
 * producers let references go as they reuse slots. */
static PyObject *
Sink_trim(SinkObject *self, PyObject *Py_UNUSED(ignored))
{
    /* Safe beside a drain of another thread: it reads only from head on. */
    ring_free(self, __atomic_load_n(&self->head, __ATOMIC_ACQUIRE));
    if (self->freed == self->tail)
        ring_give_back(self);
    Py_RETURN_NONE;
}

static PyObject *
Sink_drain(SinkObject *self, PyObject *args, PyObject *kwds)
{
    Py_ssize_t count;
    PyObject *lines = drain_batch(self, args, kwds, "nO|p:drain", &count);
    if (lines == NULL || PyBytes_CheckExact(lines))
        return lines;
    Buf *b = &((LinesObject *)lines)->buf;
    PyObject *copy = PyBytes_FromStringAndSize(b->data, b->len);
    Py_DECREF(lines);
    return copy;
}

static PyObject *
Sink_drain_lines(SinkObject *self, PyObject *args, PyObject *kwds)
{
    Py_ssize_t count;
    PyObject *lines = drain_batch(self, args, kwds, "nO|p:drain_lines", &count);
    if (lines == NULL)
        return NULL;
    return Py_BuildValue("(Nn)", lines, count);
}

/* ---- tracer.List's commonest operations, whole in C ------------------------- */

/* list_append and list_pop do what List.append and List.pop do while
 * recording (tracer/primitives/lists.py, the reference), in one call:
 * with the list's own _lock free (a ListLock nobody holds), change the
 * list and its item numbers and capture the line.  They answer
 * NotImplemented, having changed nothing, whenever the case is not the
 * simple one (the lock is held, the
 * numbering belongs to another recording, a value that is not a str, int,
 * float, bytes, bool or None, an index out of range, a full ring...), and
 * List runs its Python code instead: one behaviour, one set of lines.
 *
 * GIL rule: from looking at the lock's count to storing the line no Python
 * code runs and the GIL is never let go (repr of those exact types is C),
 * so the steps are atomic for every other thread, as the seq-to-store
 * steps of any capture are (see ListLock and fast_lock). */

static PyFrameObject *find_frame(Py_ssize_t depth);
static PyObject *find_site(Py_ssize_t depth);

static PyObject *rlock_type;       /* _thread.RLock */
static PyObject *rlock_acquire, *rlock_release;  /* its methods (descriptors) */
static PyObject *lock_type;                      /* _thread.LockType */
static PyObject *lock_locked;                    /* its locked() (a descriptor) */
static PyObject *str_lock_attr, *str_item, *str_index, *str_depth, *str_value;
static PyObject *str_list_append, *str_list_pop;  /* schema.LIST_APPEND, schema.LIST_POP */

/* ---- ListLock: tracer.List's _lock, whose holds C can count ---------------- */

/* A reentrant lock: a _thread.RLock that does the locking, and `held`, how
 * many holds it has right now (its holder's depth).  tracer.List takes it
 * where it took an RLock (acquire, release, with).  Each method changes
 * `held` in the same C call that takes or lets go of the RLock, and no
 * other thread runs in between (the GIL is held from the RLock's answer to
 * the count), so to a thread holding the GIL, held == 0 means nobody holds
 * the lock.
 *
 * That is what the List fast paths need: they run whole with the GIL held
 * and no Python code, so when held == 0 they do their steps without
 * taking the lock at all, as if they had taken and let go of it (an RLock's
 * acquire(False) and release() were a fifth of a fast append).  A thread
 * that is about to take it runs none of its critical section until it has
 * the GIL back, after the fast path's steps: the same order.  When held >
 * 0 the fast path declines and the Python path waits for the lock. */
typedef struct {
    PyObject_HEAD
    PyObject *lock;  /* the _thread.RLock */
    Py_ssize_t held;
} ListLockObject;

static PyTypeObject ListLock_Type;

static PyObject *
ListLock_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, ":ListLock", kwlist))
        return NULL;
    ListLockObject *self = (ListLockObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->lock = PyObject_CallNoArgs(rlock_type);
    if (self->lock == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void
ListLock_dealloc(ListLockObject *self)
{
    Py_XDECREF(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* acquire(blocking=True, timeout=-1): the RLock's, counted when it took. */
static PyObject *
ListLock_acquire(ListLockObject *self, PyObject *const *args, Py_ssize_t nargs,
                 PyObject *kwnames)
{
    Py_ssize_t total = nargs + (kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames));
    if (total > 2) {
        PyErr_SetString(PyExc_TypeError, "acquire() takes at most 2 arguments");
        return NULL;
    }
    PyObject *call[3] = {self->lock, NULL, NULL};
    for (Py_ssize_t i = 0; i < total; i++)
        call[i + 1] = args[i];
    PyObject *got = PyObject_Vectorcall(rlock_acquire, call, nargs + 1, kwnames);
    if (got == Py_True)
        self->held++;
    return got;
}

/* release(): the RLock's, counted down only when it let go. */
static PyObject *
ListLock_release(ListLockObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *done = PyObject_Vectorcall(rlock_release, &self->lock, 1, NULL);
    if (done != NULL)
        self->held--;
    return done;
}

static PyObject *
ListLock_enter(ListLockObject *self, PyObject *Py_UNUSED(ignored))
{
    return ListLock_acquire(self, NULL, 0, NULL);
}

static PyObject *
ListLock_exit(ListLockObject *self, PyObject *Py_UNUSED(args))
{
    PyObject *done = ListLock_release(self, NULL);
    if (done == NULL)
        return NULL;
    Py_DECREF(done);
    Py_RETURN_FALSE;
}

static PyObject *
ListLock_is_owned(ListLockObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyObject_CallMethod(self->lock, "_is_owned", NULL);
}

static PyObject *
ListLock_repr(ListLockObject *self)
{
    return PyUnicode_FromFormat("<ListLock held=%zd %R>", self->held, self->lock);
}

static PyMethodDef ListLock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))ListLock_acquire, METH_FASTCALL | METH_KEYWORDS,
     "acquire(blocking=True, timeout=-1) -> bool\n\nAs _thread.RLock.acquire."},
    {"release", (PyCFunction)ListLock_release, METH_NOARGS,
     "release() -> None\n\nAs _thread.RLock.release."},
    {"__enter__", (PyCFunction)ListLock_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)ListLock_exit, METH_VARARGS, NULL},
    {"_is_owned", (PyCFunction)ListLock_is_owned, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef ListLock_members[] = {
    {"held", Py_T_PYSSIZET, offsetof(ListLockObject, held), Py_READONLY,
     "How many holds the lock has right now (its holder's depth)."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject ListLock_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer.recording._csink.ListLock",
    .tp_basicsize = sizeof(ListLockObject),
    .tp_dealloc = (destructor)ListLock_dealloc,
    .tp_repr = (reprfunc)ListLock_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "ListLock()\n\n"
              "tracer.List's reentrant lock: an RLock whose holds the native fast paths can see.",
    .tp_methods = ListLock_methods,
    .tp_members = ListLock_members,
    .tp_new = ListLock_new,
};

/* short_repr(v) for an exact str, int, float, bytes, bool or None: repr, cut
 * to VALUE_REPR_LIMIT as text[:77] + "...".  New reference; NULL with no
 * exception for any other value (or a repr that failed: the Python path
 * writes its placeholder); NULL with an exception only for MemoryError or
 * a KeyboardInterrupt. */
#define VALUE_REPR_LIMIT 80
static PyObject *
simple_repr(PyObject *v)
{
    PyTypeObject *t = Py_TYPE(v);
    if (!(t == &PyLong_Type || t == &PyUnicode_Type || t == &PyFloat_Type ||
          t == &PyBytes_Type || t == &PyBool_Type || v == Py_None))
        return NULL;
    PyObject *text = PyObject_Repr(v);
    if (text == NULL) {  /* e.g. past sys.set_int_max_str_digits */
        clear_ordinary_error();
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GetLength(text);
    if (n > VALUE_REPR_LIMIT) {
        PyObject *head = PyUnicode_Substring(text, 0, VALUE_REPR_LIMIT - 3);
        Py_SETREF(text, NULL);
        if (head == NULL)
            return NULL;
        PyObject *dots = PyUnicode_FromString("...");
        text = dots == NULL ? NULL : PyUnicode_Concat(head, dots);
        Py_DECREF(head);
        Py_XDECREF(dots);
        if (text == NULL)
            clear_ordinary_error();
    }
    return text;
}

/* What a record keeps of a value's repr(): an exact int that fits in 64
 * bits as its number (V_INTREPR, its digits written when encoded: no str
 * is made per operation), any other value simple_repr takes as its text
 * (V_STR, a new reference).  1 when *out is filled; 0 when the value is not
 * a simple one (no exception) or on MemoryError or KeyboardInterrupt
 * (exception set), as simple_repr. */
static int
value_repr(PyObject *v, Value *out)
{
    if (PyLong_CheckExact(v)) {
        int overflow;
        long long i = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (!overflow && !(i == -1 && PyErr_Occurred())) {
            out->kind = V_INTREPR;
            out->u.i = i;
            return 1;
        }
        PyErr_Clear();
    }
    PyObject *text = simple_repr(v);
    if (text == NULL)
        return 0;
    out->kind = V_STR;
    out->u.o = text;
    return 1;
}

/* The pending exception as one object (NULL for none), and back. */
static PyObject *
raised_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

static void
restore_exception(PyObject *exc)
{
    if (exc == NULL)
        return;
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
}

/* Call sites by (code object, instruction): a direct-mapped cache of the
 * site tuple caller_site() answers and of its label, which spares every
 * capture the line-number look-up and the tuple, and the fast paths the
 * namer too.  Each entry holds its code object, so an address is never
 * reused while it is cached; labels are emptied when the namer changes.
 * Letting an entry go may run Python code (a weakref callback on a code
 * object): callers look up before any seq is taken or lock held. */
#define SITE_CACHE 4096
typedef struct {
    PyObject *code;
    int lasti;
    PyObject *site;   /* (filename, line) */
    PyObject *label;  /* its label under label_cache_namer, or NULL */
} SiteEntry;
static SiteEntry site_cache[SITE_CACHE];
static PyObject *label_cache_namer;  /* the namer the cache's labels came from */

static void
label_cache_clear(void)
{
    for (Py_ssize_t i = 0; i < SITE_CACHE; i++)
        Py_CLEAR(site_cache[i].label);
}

/* The site of caller_site(depth), through the cache: 1 with *site (a new
 * reference) and *entry (its cache entry, or NULL if that went meanwhile);
 * 0 when there is no such frame; -1 with an exception. */
static int
cached_site(Py_ssize_t depth, PyObject **site, SiteEntry **entry)
{
    PyFrameObject *frame = find_frame(depth);
    if (frame == NULL)
        return PyErr_Occurred() ? -1 : 0;
    PyCodeObject *code = PyFrame_GetCode(frame);
    int lasti = PyFrame_GetLasti(frame);
    SiteEntry *e =
        &site_cache[(((uintptr_t)code >> 4) * 31u + (unsigned)lasti) & (SITE_CACHE - 1)];
    if (e->code == (PyObject *)code && e->lasti == lasti) {
        Py_DECREF(code);
        Py_DECREF(frame);
        *site = Py_NewRef(e->site);
        *entry = e;
        return 1;
    }
    *site = Py_BuildValue("(Oi)", code->co_filename, PyFrame_GetLineNumber(frame));
    Py_DECREF(frame);
    if (*site == NULL) {
        Py_DECREF(code);
        return -1;
    }
    /* Detach the old entry before letting it go: a callback run by the
     * decrefs finds the cache whole. */
    PyObject *old_code = e->code, *old_site = e->site, *old_label = e->label;
    e->code = (PyObject *)code;  /* the reference goes to the cache */
    e->lasti = lasti;
    e->site = Py_NewRef(*site);
    e->label = NULL;
    Py_XDECREF(old_code);
    Py_XDECREF(old_site);
    Py_XDECREF(old_label);
    *entry = e->site == *site ? e : NULL;
    return 1;
}

/* The label of caller_site(depth), as site_label names it: a new reference
 * to a str, Py_None for no site, NULL with an exception.  May run Python
 * code (the namer, on a miss; an entry let go from the cache). */
static PyObject *
caller_label(SinkObject *self, Py_ssize_t depth)
{
    if (label_cache_namer != site_namer) {
        label_cache_clear();
        Py_XSETREF(label_cache_namer, Py_XNewRef(site_namer));
    }
    PyObject *site;
    SiteEntry *e;
    int found = cached_site(depth, &site, &e);
    if (found <= 0)
        return found < 0 ? NULL : Py_NewRef(Py_None);
    if (e != NULL && e->label != NULL) {
        Py_DECREF(site);
        return Py_NewRef(e->label);
    }
    PyObject *label = site_label(self, site);
    /* The namer may have changed the cache or the namer: keep the label
     * only where it still belongs. */
    if (label != NULL && e != NULL && e->site == site && e->label == NULL &&
        label_cache_namer == site_namer)
        e->label = Py_NewRef(label);
    Py_DECREF(site);
    return label;
}

/* What a fast path gathers before it touches its object. */
typedef struct {
    PyObject *dict;     /* the object's instance dict (new reference) */
    PyObject *holder;   /* what keeps `lock` alive besides dict (new reference), or NULL */
    PyObject *lock;     /* the lock to look at (new reference), or NULL */
    int counted;        /* lock is a ListLock (else a _thread.lock) */
    Record r;           /* the first line, its event, thread, obj and site filled */
    unsigned long ident;
} FastCall;

static void
fast_release(FastCall *c)
{
    record_release(&c->r);
    Py_CLEAR(c->lock);
    Py_CLEAR(c->holder);
    Py_CLEAR(c->dict);
}

/* Prepare a fast call on `obj`, which will store `records` lines, its site
 * found at caller_site(depth): 1 ready, 0 declined, -1 with an exception.  Runs Python code only where a capture
 * may (a thread threading does not know, a site namer on a cache miss), so
 * it comes before any lock is looked up or taken. */
static int fast_prepare_named(SinkObject *self, FastCall *c, PyObject *name, PyObject *event,
                              Py_ssize_t depth);

static int
fast_prepare(SinkObject *self, FastCall *c, PyObject *obj, PyObject *event, Py_ssize_t records,
             Py_ssize_t depth)
{
    memset(c, 0, sizeof *c);
    if (!self->open || pending_of(self) > self->max_pending - records)
        return 0;
    c->dict = PyObject_GenericGetDict(obj, NULL);
    if (c->dict == NULL)
        return clear_ordinary_error() ? 0 : -1;
    PyObject *name = PyDict_GetItemWithError(c->dict, str_name);
    if (name == NULL || !PyUnicode_Check(name)) {
        fast_release(c);
        return PyErr_Occurred() && !clear_ordinary_error() ? -1 : 0;
    }
    return fast_prepare_named(self, c, name, event, depth);
}

/* fast_prepare's steps once the object's name (borrowed, a str) is known. */
static int
fast_prepare_named(SinkObject *self, FastCall *c, PyObject *name, PyObject *event,
                   Py_ssize_t depth)
{
    Py_INCREF(name);  /* the code below may run Python code that renames obj */
    /* The Python path asks caller_site() from the primitive's method: depth
     * 2 from a Sink method called there; 1 from a method installed on the
     * class itself (no frame of ours: the current one is the caller's). */
    PyObject *label = caller_label(self, depth);
    if (label == NULL) {
        Py_DECREF(name);
        fast_release(c);
        return clear_ordinary_error() ? 0 : -1;
    }
    c->ident = PyThread_get_thread_ident();
    PyObject *thread = thread_name(c->ident);
    int rc = thread == NULL
                 ? -1
                 : record_fill(self, &c->r, event, thread, name, Py_None, NULL, Py_None);
    Py_XDECREF(thread);
    Py_DECREF(name);
    if (rc < 0) {
        Py_DECREF(label);
        fast_release(c);  /* record_fill released the record */
        return clear_ordinary_error() ? 0 : -1;
    }
    if (label != Py_None)
        c->r.site = label;  /* the reference goes to the record */
    else
        Py_DECREF(label);
    return 1;
}

/* `lock` of `type` (exactly), from `dict`: c->lock set, 1; 0 when it is
 * missing or of another type (declined).  A dict look-up with an interned
 * key, no Python code. */
static int
fast_find_lock(FastCall *c, PyObject *dict, PyObject *type)
{
    PyObject *lock = PyDict_GetItemWithError(dict, str_lock_attr);
    if (lock == NULL || Py_TYPE(lock) != (PyTypeObject *)type) {
        PyErr_Clear();
        return 0;
    }
    c->lock = Py_NewRef(lock);
    return 1;
}

/* Whether the fast path may do its steps as if it held the lock: 1 free,
 * 0 held, -1 error.  Neither lock is taken, so there is nothing to let go
 * after the steps.
 *
 * A ListLock is free when its count of holds is 0 (see ListLock).
 *
 * A _thread.lock is only asked locked(), a call with no
 * arguments that costs a fraction of acquire(False) and release() (about
 * 120 ns of an Event's 360, measured): while the GIL is held and no Python
 * code runs, a lock nobody holds may as well be held by us.  A thread
 * blocked in acquire() may grab it meanwhile, off the GIL, but it runs
 * nothing of its critical section until it has the GIL back, which is
 * after our steps: the order is the same as if we had taken the lock and
 * let it go.  (On 3.11 and 3.12 locked() may even say False to a thread
 * that has the lock and waits for the GIL: the same holds.) */
static int
fast_lock(FastCall *c)
{
    if (c->counted)
        return ((ListLockObject *)c->lock)->held == 0;
    PyObject *args[1] = {c->lock};
    PyObject *got = PyObject_Vectorcall(lock_locked, args, 1, NULL);
    if (got == NULL)
        return -1;
    int free = got == Py_False;
    Py_DECREF(got);
    return free;
}

/* tracer.List keeps its state in slots (__slots__), which C reads and
 * writes at their offsets in the instance: a dict look-up each was a
 * fifth of a fast append.  list_methods() finds the offsets in the class
 * it is given; until then, or if they are not there, the fast paths
 * decline.  A subclass keeps its base's slots where they are. */
typedef struct {
    PyTypeObject *cls;  /* tracer.List (a strong reference), or NULL */
    Py_ssize_t name, lock, ids, last_id, generation;
} ListSlots;
static ListSlots list_slots;

#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

/* The offset of `cls`'s slot `attr` (a writable object member), or -1. */
static Py_ssize_t
slot_offset(PyTypeObject *cls, const char *attr)
{
    PyObject *descr = PyDict_GetItemString(cls->tp_dict, attr);  /* borrowed */
    if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type))
        return -1;
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != Py_T_OBJECT_EX || (member->flags & Py_READONLY))
        return -1;
    return member->offset;
}

static void
list_slots_find(PyTypeObject *cls)
{
    ListSlots found = {
        cls,
        slot_offset(cls, "name"),
        slot_offset(cls, "_lock"),
        slot_offset(cls, "_ids"),
        slot_offset(cls, "_last_id"),
        slot_offset(cls, "_generation"),
    };
    if (found.name < 0 || found.lock < 0 || found.ids < 0 || found.last_id < 0 ||
        found.generation < 0)
        found.cls = NULL;
    PyTypeObject *old = list_slots.cls;
    Py_XINCREF(found.cls);
    list_slots = found;
    Py_XDECREF(old);
}

/* Prepare a List call: its line, then its _lock (a ListLock). */
static int
listcall_prepare(SinkObject *self, FastCall *c, PyObject *lst, PyObject *event, Py_ssize_t depth)
{
    memset(c, 0, sizeof *c);
    if (list_slots.cls == NULL || !PyObject_TypeCheck(lst, list_slots.cls) || !self->open ||
        pending_of(self) > self->max_pending - 1)
        return 0;
    PyObject *name = SLOT(lst, list_slots.name);
    if (name == NULL || !PyUnicode_Check(name))
        return 0;
    int ready = fast_prepare_named(self, c, name, event, depth);
    if (ready <= 0)
        return ready;
    /* Read after: the steps above may run Python code. */
    PyObject *lock = SLOT(lst, list_slots.lock);
    if (lock == NULL || !Py_IS_TYPE(lock, &ListLock_Type)) {
        fast_release(c);
        return 0;
    }
    c->lock = Py_NewRef(lock);
    c->counted = 1;  /* see ListLock */
    return 1;
}

/* Under the lock: the item numbers (_ids) and _last_id, when they belong
 * to this recording and look as List keeps them.  1, or 0 (decline). */
static int
listcall_ids(PyObject *lst, PyObject *generation, PyObject **ids, long long *last_id)
{
    PyObject *gen = SLOT(lst, list_slots.generation);
    PyObject *list = SLOT(lst, list_slots.ids);
    PyObject *last = SLOT(lst, list_slots.last_id);
    if (gen == NULL || list == NULL || last == NULL || !PyLong_CheckExact(gen) ||
        !PyLong_CheckExact(generation) || !PyList_CheckExact(list) || !PyLong_CheckExact(last)) {
        PyErr_Clear();
        return 0;
    }
    int overflow;
    long long g = PyLong_AsLongLongAndOverflow(gen, &overflow);
    if (overflow || g != PyLong_AsLongLongAndOverflow(generation, &overflow) || overflow)
        return 0;
    *last_id = PyLong_AsLongLongAndOverflow(last, &overflow);
    if (overflow || *last_id < 0 || *last_id == LLONG_MAX) {
        PyErr_Clear();
        return 0;
    }
    *ids = list;
    return 1;
}

/* The line's fields: item, index, depth, value (repr, from value_repr,
 * taken over).  The record has room: record_fill reserved none past the
 * slots. */
static void
listcall_fields(FastCall *c, long long item, Py_ssize_t index, Py_ssize_t depth, Value repr)
{
    Field *f = c->r.slot;
    f[0].key = Py_NewRef(str_item);
    f[0].value.kind = V_INT;
    f[0].value.u.i = item;
    f[1].key = Py_NewRef(str_index);
    f[1].value.kind = V_INT;
    f[1].value.u.i = index;
    f[2].key = Py_NewRef(str_depth);
    f[2].value.kind = V_INT;
    f[2].value.u.i = depth;
    f[3].key = Py_NewRef(str_value);
    f[3].value = repr;
    c->r.nfields = 4;
}

/* List.append(lst, value) in the recording of `self` numbered `generation`,
 * the site at caller_site(depth): None, NotImplemented (declined, nothing
 * changed) or NULL with an exception.  New reference. */
static PyObject *
list_append_in(SinkObject *self, PyObject *lst, PyObject *value, PyObject *generation,
               Py_ssize_t site_depth)
{
    Value repr;
    if (!value_repr(value, &repr))
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_NotImplemented);
    FastCall c;
    int ready = listcall_prepare(self, &c, lst, str_list_append, site_depth);
    if (ready <= 0) {
        value_release(&repr);
        return ready < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    }
    int locked = fast_lock(&c);
    if (locked <= 0) {
        value_release(&repr);
        fast_release(&c);
        return locked < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    }
    PyObject *result = Py_NotImplemented;
    PyObject *ids, *item_obj = NULL;
    long long last_id;
    if (!listcall_ids(lst, generation, &ids, &last_id) || !fast_room(self, 1))
        goto done;
    /* Everything that can fail before the list changes. */
    if ((item_obj = PyLong_FromLongLong(last_id + 1)) == NULL) {
        result = NULL;
        goto done;
    }
    if (PyList_Append(lst, value) < 0) {
        result = NULL;
        goto done;
    }
    if (PyList_Append(ids, item_obj) < 0) {  /* undo, so the two stay parallel */
        Py_ssize_t n = PyList_GET_SIZE(lst);
        PyObject *error = raised_exception();
        (void)PyList_SetSlice(lst, n - 1, n, NULL);
        PyErr_Clear();
        restore_exception(error);
        result = NULL;
        goto done;
    }
    /* A slot: replacing its value allocates nothing, and the old one, an
     * int, runs no code as it goes. */
    Py_SETREF(SLOT(lst, list_slots.last_id), Py_NewRef(item_obj));
    Py_ssize_t depth = PyList_GET_SIZE(ids);
    listcall_fields(&c, last_id + 1, depth - 1, depth, repr);
    repr.kind = V_ABSENT;
    store_now(self, &c.r, c.ident, NULL);
    result = Py_None;
done:
    Py_XDECREF(item_obj);
    value_release(&repr);
    if (PyErr_Occurred())
        result = NULL;
    fast_release(&c);
    return Py_XNewRef(result);
}

static PyObject *
Sink_list_append(SinkObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "list_append() takes 3 arguments (%zd given)", nargs);
        return NULL;
    }
    return list_append_in(self, args[0], args[1], args[2], 2);
}

/* List.pop(lst, i) as list_append_in does List.append: the value taken,
 * NotImplemented or NULL.  New reference. */
static PyObject *
list_pop_in(SinkObject *self, PyObject *lst, Py_ssize_t i, PyObject *generation,
            Py_ssize_t site_depth)
{
    FastCall c;
    int ready = listcall_prepare(self, &c, lst, str_list_pop, site_depth);
    if (ready <= 0)
        return ready < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    int locked = fast_lock(&c);
    if (locked <= 0) {
        fast_release(&c);
        return locked < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    }
    PyObject *result = Py_NotImplemented, *value = NULL;
    Value repr = {V_ABSENT, {0}};
    PyObject *ids;
    long long last_id;
    Py_ssize_t n = PyList_GET_SIZE(lst);
    Py_ssize_t at = i < 0 ? i + n : i;
    /* A pop that fails (out of range) is the Python path's to write. */
    if (at < 0 || at >= n || !listcall_ids(lst, generation, &ids, &last_id) ||
        PyList_GET_SIZE(ids) != n || !PyLong_CheckExact(PyList_GET_ITEM(ids, at)) ||
        !fast_room(self, 1))
        goto done;
    int overflow;
    long long item = PyLong_AsLongLongAndOverflow(PyList_GET_ITEM(ids, at), &overflow);
    if (overflow)
        goto done;
    value = Py_NewRef(PyList_GET_ITEM(lst, at));
    if (!value_repr(value, &repr)) {
        if (PyErr_Occurred())
            result = NULL;
        goto done;
    }
    if (PyList_SetSlice(lst, at, at + 1, NULL) < 0) {
        result = NULL;
        goto done;
    }
    if (PyList_SetSlice(ids, at, at + 1, NULL) < 0) {  /* put the value back */
        PyObject *error = raised_exception();
        (void)PyList_Insert(lst, at, value);
        PyErr_Clear();
        restore_exception(error);
        result = NULL;
        goto done;
    }
    listcall_fields(&c, item, at, n - 1, repr);
    repr.kind = V_ABSENT;
    store_now(self, &c.r, c.ident, NULL);
    result = value;  /* the reference goes to the caller */
    value = NULL;
done:
    value_release(&repr);
    int raised = PyErr_Occurred() != NULL;
    fast_release(&c);
    if (result == Py_NotImplemented || result == NULL) {
        Py_XDECREF(value);
        return raised || result == NULL ? NULL : Py_NewRef(Py_NotImplemented);
    }
    if (raised) {
        Py_DECREF(result);
        return NULL;
    }
    return result;
}

/* An index list.pop would take as an exact int: 1 with *i, 0 (declined). */
static int
exact_index(PyObject *index, Py_ssize_t *i)
{
    if (!PyLong_CheckExact(index))
        return 0;
    *i = PyLong_AsSsize_t(index);
    if (*i == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

static PyObject *
Sink_list_pop(SinkObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "list_pop() takes 3 arguments (%zd given)", nargs);
        return NULL;
    }
    Py_ssize_t i;
    if (!exact_index(args[1], &i))
        return Py_NewRef(Py_NotImplemented);
    return list_pop_in(self, args[0], i, args[2], 2);
}

/* ---- List.append and List.pop themselves, while a recording runs ---------- */

/* While a recording runs with this sink, List's append and pop are the
 * method descriptors list_methods() makes, over the two functions below:
 * `items.append(x)` is one C call with no Python frame, so the caller's
 * frame is the current one (caller_site depth 1).  They record into the
 * sink the recorder handed over (set_recording) and hand every call the
 * fast path declines, or any call while no sink is handed over, to the
 * traced Python method with the same arguments: that stays the reference.
 *
 * Races: the sink and generation are read and held together with no Python
 * code between.  A recording that stops meanwhile (the fast path may run a
 * site namer) closes its sink first-come: the path then declines, and the
 * Python method, finding no recording, does the plain operation.  One that
 * has not yet closed the sink gets the line, as any capture racing a stop
 * does. */

static SinkObject *recording_sink;      /* the sink handed over, or NULL */
static PyObject *recording_generation;  /* its recording's generation, or NULL */
static PyObject *traced_append, *traced_pop;  /* List's Python methods, from list_methods() */

/* The handed-over sink and generation, new references: 1, or 0 for none. */
static int
recording_take(SinkObject **sink, PyObject **generation)
{
    if (recording_sink == NULL || recording_generation == NULL)
        return 0;
    *sink = (SinkObject *)Py_NewRef(recording_sink);
    *generation = Py_NewRef(recording_generation);
    return 1;
}

/* The traced Python method `fallback` (a borrowed global) called with args. */
static PyObject *
call_traced(PyObject *fallback, const char *name, PyObject *const *args, Py_ssize_t nargs)
{
    if (fallback == NULL) {
        PyErr_Format(PyExc_RuntimeError, "List.%s: list_methods() was never called", name);
        return NULL;
    }
    Py_INCREF(fallback);  /* list_methods() may replace it while it runs */
    PyObject *result = PyObject_Vectorcall(fallback, args, nargs, NULL);
    Py_DECREF(fallback);
    return result;
}

static PyObject *
List_append(PyObject *self, PyObject *value)
{
    SinkObject *sink;
    PyObject *generation;
    if (recording_take(&sink, &generation)) {
        PyObject *done = list_append_in(sink, self, value, generation, 1);
        Py_DECREF(generation);
        Py_DECREF(sink);
        if (done != Py_NotImplemented)
            return done;
        Py_DECREF(done);
    }
    PyObject *args[2] = {self, value};
    return call_traced(traced_append, "append", args, 2);
}

static PyObject *
List_pop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs > 1) {  /* list.pop's own words */
        PyErr_Format(PyExc_TypeError, "pop expected at most 1 argument, got %zd", nargs);
        return NULL;
    }
    SinkObject *sink;
    PyObject *generation;
    Py_ssize_t i = -1;
    if ((nargs == 0 || exact_index(args[0], &i)) && recording_take(&sink, &generation)) {
        PyObject *done = list_pop_in(sink, self, i, generation, 1);
        Py_DECREF(generation);
        Py_DECREF(sink);
        if (done != Py_NotImplemented)
            return done;
        Py_DECREF(done);
    }
    PyObject *call[2] = {self, nargs == 1 ? args[0] : NULL};
    return call_traced(traced_pop, "pop", call, 1 + nargs);
}

static PyMethodDef List_append_def = {
    "append", (PyCFunction)List_append, METH_O,
    "Append object to the end of the list (traced: a recording is running)."};
static PyMethodDef List_pop_def = {
    "pop", (PyCFunction)(void (*)(void))List_pop, METH_FASTCALL,
    "Remove and return item at index (default last) (traced: a recording is running).\n\n"
    "Raises IndexError if list is empty or index is out of range."};

static PyObject *
csink_list_methods(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "list_methods() takes 3 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *cls = args[0];
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &PyList_Type)) {
        PyErr_SetString(PyExc_TypeError, "list_methods() wants a subclass of list");
        return NULL;
    }
    if (!PyCallable_Check(args[1]) || !PyCallable_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "list_methods() wants the two traced methods");
        return NULL;
    }
    PyObject *append = PyDescr_NewMethod((PyTypeObject *)cls, &List_append_def);
    PyObject *pop = append == NULL ? NULL : PyDescr_NewMethod((PyTypeObject *)cls, &List_pop_def);
    PyObject *pair = pop == NULL ? NULL : PyTuple_Pack(2, append, pop);
    Py_XDECREF(append);
    Py_XDECREF(pop);
    if (pair == NULL)
        return NULL;
    Py_XSETREF(traced_append, Py_NewRef(args[1]));
    Py_XSETREF(traced_pop, Py_NewRef(args[2]));
    list_slots_find((PyTypeObject *)cls);
    return pair;
}

static PyObject *
csink_set_recording(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "set_recording() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *sink = args[0], *generation = args[1];
    if (sink == Py_None) {
        /* Detach both before letting either go: a finalizer run by the
         * decrefs finds no half-handed-over state. */
        PyObject *old_sink = (PyObject *)recording_sink, *old_generation = recording_generation;
        recording_sink = NULL;
        recording_generation = NULL;
        Py_XDECREF(old_sink);
        Py_XDECREF(old_generation);
        Py_RETURN_NONE;
    }
    if (Py_TYPE(sink) != &Sink_Type || !PyLong_CheckExact(generation)) {
        PyErr_SetString(PyExc_TypeError, "set_recording() wants a Sink and an int, or None");
        return NULL;
    }
    PyObject *old_sink = (PyObject *)recording_sink, *old_generation = recording_generation;
    recording_sink = (SinkObject *)Py_NewRef(sink);
    recording_generation = Py_NewRef(generation);
    Py_XDECREF(old_sink);
    Py_XDECREF(old_generation);
    Py_RETURN_NONE;
}

/* ---- tracer.Event's commonest operations, whole in C ------------------------ */

/* event_set, event_clear and event_wait do what Event.set, clear and wait do
 * while recording (tracer/primitives/event.py, the reference) in their
 * common case, in one call: take the Event's raw lock (its Condition's
 * _thread.lock) with acquire(False), change _flag and _seen, capture the
 * line(s), let the lock go.  They answer NotImplemented, having changed
 * nothing, whenever the case is not the simple one: the lock is busy, a
 * recorded waiter is blocked (a set() that releases it writes its waker
 * into _waiting), the Condition has waiters of its own (a set() must notify
 * them), a wait() finds the flag down, an odd timeout, a full ring...
 *
 * GIL rule: as for the List paths, from acquire(False) to release() no
 * Python code runs and the GIL is never let go.  The values replaced in the
 * Event's dict are checked to be True or False first, so letting them go
 * runs no finalizer. */

static PyObject *condition_type;           /* threading.Condition */
static PyObject *deque_type;               /* collections.deque */
static PyObject *str_cond, *str_flag_attr, *str_waiting, *str_seen, *str_waiters_attr,
    *str_waiters, *str_flag, *str_timeout, *str_result, *str_timed_out;
static PyObject *str_event_set, *str_event_clear, *str_event_wait_begin, *str_event_wait_end;

/* Prepare a call on an Event: its first line, then the raw lock of its
 * Condition.  c->holder keeps the Condition's dict. */
static int
eventcall_prepare(SinkObject *self, FastCall *c, PyObject *ev, PyObject *event,
                  Py_ssize_t records)
{
    int ready = fast_prepare(self, c, ev, event, records, 2);
    if (ready <= 0)
        return ready;
    PyObject *cond = PyDict_GetItemWithError(c->dict, str_cond);
    if (cond == NULL || Py_TYPE(cond) != (PyTypeObject *)condition_type) {
        fast_release(c);
        return PyErr_Occurred() && !clear_ordinary_error() ? -1 : 0;
    }
    c->holder = PyObject_GenericGetDict(cond, NULL);
    if (c->holder == NULL) {
        fast_release(c);
        return clear_ordinary_error() ? 0 : -1;
    }
    if (!fast_find_lock(c, c->holder, lock_type)) {
        fast_release(c);
        return 0;
    }
    return 1;
}

/* Under the lock: the Event's _flag (1 True, 0 False), or -1 when it, or
 * _seen, is not a bool, or the Condition has waiters (decline). */
static int
eventcall_flag(FastCall *c)
{
    PyObject *flag = PyDict_GetItemWithError(c->dict, str_flag_attr);
    PyObject *seen = PyDict_GetItemWithError(c->dict, str_seen);
    PyObject *waiters = PyDict_GetItemWithError(c->holder, str_waiters_attr);
    if (flag == NULL || seen == NULL || waiters == NULL || !PyBool_Check(flag) ||
        !PyBool_Check(seen) || Py_TYPE(waiters) != (PyTypeObject *)deque_type) {
        PyErr_Clear();
        return -1;
    }
    /* An exact deque's length: C, no Python code. */
    Py_ssize_t n = PyObject_Length(waiters);
    if (n != 0) {
        PyErr_Clear();
        return -1;
    }
    return flag == Py_True;
}

/* One bool field of a record's slots. */
static void
bool_field(Record *r, PyObject *key, int value)
{
    Field *f = &r->slot[r->nfields++];
    f->key = Py_NewRef(key);
    f->value.kind = value ? V_TRUE : V_FALSE;
}

/* Set two of the Event's attributes to bools (keys there already: no
 * allocation, and the old values, bools, need no finalizer).  0, or -1
 * with an exception. */
static int
eventcall_store(FastCall *c, PyObject *key, int value)
{
    return PyDict_SetItem(c->dict, key, value ? Py_True : Py_False);
}

/* The end of a fast call: release, and the answer (none once an exception
 * was raised). */
static PyObject *
eventcall_done(FastCall *c, PyObject *result)
{
    if (PyErr_Occurred())
        result = NULL;
    fast_release(c);
    return Py_XNewRef(result);
}

/* The start of set() or clear() in C: prepare the call and take the
 * Event's lock.  1 when both are done; else 0 with *answer what the call
 * answers (NotImplemented, or NULL with an exception), nothing held. */
static int
eventcall_begin(SinkObject *self, FastCall *c, PyObject *ev, PyObject *event,
                PyObject **answer)
{
    int ready = eventcall_prepare(self, c, ev, event, 1);
    if (ready <= 0) {
        *answer = ready < 0 ? NULL : Py_NewRef(Py_NotImplemented);
        return 0;
    }
    int locked = fast_lock(c);
    if (locked <= 0) {
        fast_release(c);
        *answer = locked < 0 ? NULL : Py_NewRef(Py_NotImplemented);
        return 0;
    }
    return 1;
}

static PyObject *
Sink_event_set(SinkObject *self, PyObject *ev)
{
    FastCall c;
    PyObject *declined;
    if (!eventcall_begin(self, &c, ev, str_event_set, &declined))
        return declined;
    int flag = eventcall_flag(&c);
    PyObject *waiting = PyDict_GetItemWithError(c.dict, str_waiting);
    if (flag < 0 || waiting == NULL || !PyDict_CheckExact(waiting) || !fast_room(self, 1)) {
        PyErr_Clear();
        return eventcall_done(&c, Py_NotImplemented);
    }
    /* A recorded waiter still blocked: the Python path names this set() as
     * its waker. */
    Py_ssize_t pos = 0;
    PyObject *key, *by;
    while (PyDict_Next(waiting, &pos, &key, &by))
        if (by == Py_None)
            return eventcall_done(&c, Py_NotImplemented);
    Field *f = &c.r.slot[0];
    f->key = Py_NewRef(str_waiters);
    f->value.kind = V_INT;
    f->value.u.i = 0;
    c.r.nfields = 1;
    bool_field(&c.r, str_flag, flag);
    if (eventcall_store(&c, str_seen, 0) < 0 || eventcall_store(&c, str_flag_attr, 1) < 0)
        return eventcall_done(&c, NULL);
    store_now(self, &c.r, c.ident, NULL);
    return eventcall_done(&c, Py_None);
}

static PyObject *
Sink_event_clear(SinkObject *self, PyObject *ev)
{
    FastCall c;
    PyObject *declined;
    if (!eventcall_begin(self, &c, ev, str_event_clear, &declined))
        return declined;
    /* clear() notifies nobody, but a Condition with waiters is unusual for
     * an Event whose every wait is recorded: the Python path takes it. */
    int flag = eventcall_flag(&c);
    if (flag < 0 || !fast_room(self, 1))
        return eventcall_done(&c, Py_NotImplemented);
    bool_field(&c.r, str_flag, flag);
    if (eventcall_store(&c, str_flag_attr, 0) < 0)
        return eventcall_done(&c, NULL);
    store_now(self, &c.r, c.ident, NULL);
    return eventcall_done(&c, Py_None);
}

/* seconds(timeout) for None, an exact float or an exact int: *out gets a
 * new reference (None or a float); 0 declines (anything else, or an int
 * too big for a float). */
static int
wait_timeout(PyObject *timeout, PyObject **out)
{
    if (timeout == Py_None || PyFloat_CheckExact(timeout)) {
        *out = Py_NewRef(timeout);
        return 1;
    }
    if (!PyLong_CheckExact(timeout))
        return 0;
    double d = PyLong_AsDouble(timeout);
    if (d == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = PyFloat_FromDouble(d);
    if (*out == NULL) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

static PyObject *
Sink_event_wait(SinkObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "event_wait() takes 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *ev = args[0], *seconds = NULL;
    if (!wait_timeout(args[1], &seconds))
        return Py_NewRef(Py_NotImplemented);
    /* Both lines are made before the lock: the end line as a copy of the
     * begin line's head (thread, obj, site). */
    FastCall c;
    Record end;
    memset(&end, 0, sizeof end);
    int ready = eventcall_prepare(self, &c, ev, str_event_wait_begin, 2);
    if (ready <= 0) {
        Py_DECREF(seconds);
        return ready < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    }
    Value timeout;
    if (value_from(seconds, &timeout) < 0) {  /* None or a float: only MemoryError */
        Py_DECREF(seconds);
        fast_release(&c);
        return NULL;
    }
    Py_DECREF(seconds);
    end.event.kind = V_STR;
    end.event.u.o = Py_NewRef(str_event_wait_end);
    end.thread = value_copy(&c.r.thread);
    end.obj = value_copy(&c.r.obj);
    end.site = Py_XNewRef(c.r.site);
    bool_field(&c.r, str_flag, 1);
    if (timeout.kind != V_ABSENT) {
        Field *f = &c.r.slot[c.r.nfields++];
        f->key = Py_NewRef(str_timeout);
        f->value = timeout;  /* the reference goes to the record */
    }
    Field *f = &end.slot[end.nfields++];
    f->key = Py_NewRef(str_begin_seq);
    f->value.kind = V_INT;
    bool_field(&end, str_result, 1);
    bool_field(&end, str_timed_out, 0);
    PyObject *result = Py_NotImplemented;
    int locked = fast_lock(&c);
    if (locked <= 0) {
        record_release(&end);
        fast_release(&c);
        return locked < 0 ? NULL : Py_NewRef(Py_NotImplemented);
    }
    /* A wait() that finds the flag down may block: the Python path's. */
    if (eventcall_flag(&c) != 1 || !fast_room(self, 2))
        goto done;
    if (eventcall_store(&c, str_seen, 1) < 0) {
        result = NULL;
        goto done;
    }
    /* Begin and end together, as the Python path writes them for a wait
     * that cannot block; `blocked` never sees a call that ends at once. */
    f->value.u.i = store_now(self, &c.r, c.ident, NULL);
    store_now(self, &end, c.ident, NULL);
    result = Py_True;
done:
    record_release(&end);
    return eventcall_done(&c, result);
}

/* ---- the type --------------------------------------------------------------- */

static PyObject *
Sink_new(PyTypeObject *type, PyObject *Py_UNUSED(args), PyObject *Py_UNUSED(kwds))
{
    SinkObject *self = (SinkObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->max_pending = 1 << 18;
    self->open = 1;
    self->blocked = PyDict_New();
    self->site_names = PyDict_New();
    if (self->blocked == NULL || self->site_names == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
Sink_init(SinkObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"first_seq", "max_pending", NULL};
    long long first_seq = 0;
    Py_ssize_t max_pending = 1 << 18;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|Ln:Sink", kwlist, &first_seq, &max_pending))
        return -1;
    self->next_seq = first_seq;
    self->max_pending = max_pending;
    return 0;
}

static int
Sink_traverse(SinkObject *self, visitproc visit, void *arg)
{
    /* The ring holds only str and bytes (see Value): nothing to visit. */
    Py_VISIT(self->blocked);
    Py_VISIT(self->site_names);
    Py_VISIT(self->site_name_of);
    return 0;
}

/* Break cycles but keep the dicts, so a sink that is still reached (by a
 * finalizer) stays usable. */
static int
Sink_clear(SinkObject *self)
{
    ring_clear(self);
    if (self->blocked != NULL)
        PyDict_Clear(self->blocked);
    if (self->site_names != NULL)
        PyDict_Clear(self->site_names);
    Py_CLEAR(self->site_name_of);
    return 0;
}

static void
Sink_dealloc(SinkObject *self)
{
    PyObject_GC_UnTrack(self);
    ring_clear(self);
    Py_XDECREF(self->blocked);
    Py_XDECREF(self->site_names);
    Py_XDECREF(self->site_name_of);
    Py_XDECREF(self->lines);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Sink_repr(SinkObject *self)
{
    return PyUnicode_FromFormat("<Sink %s next_seq=%lld pending=%zd dropped=%lld>",
                                self->open ? "open" : "closed", self->next_seq, pending_of(self),
                                self->dropped);
}

static PyObject *
Sink_get_pending(SinkObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(pending_of(self));
}

static PyMethodDef Sink_methods[] = {
    {"emit", (PyCFunction)(void (*)(void))Sink_emit, METH_FASTCALL | METH_KEYWORDS,
     "emit(event, obj, site, fields=None) -> seq, or -1 once closed\n\n"
     "Capture one event of the calling thread."},
    {"emit_as", (PyCFunction)(void (*)(void))Sink_emit_as, METH_FASTCALL | METH_KEYWORDS,
     "emit_as(event, obj, site, fields, thread, thread_id) -> seq\n\n"
     "Capture one event on behalf of `thread` (a thread's first and last lines)."},
    {"begin", (PyCFunction)(void (*)(void))Sink_begin, METH_FASTCALL | METH_KEYWORDS,
     "begin(event, obj, site, fields=None) -> seq\n\n"
     "Capture a blocking call's begin line and remember it in `blocked` until its end."},
    {"end", (PyCFunction)(void (*)(void))Sink_end, METH_FASTCALL | METH_KEYWORDS,
     "end(begin_seq, event, obj, site, fields) -> seq\n\n"
     "Capture a blocking call's end line (begin_seq first) and forget its begin."},
    {"trim", (PyCFunction)Sink_trim, METH_NOARGS,
     "trim() -> None\n\n"
     "Let written records' references go and, when nothing is pending, give\n"
     "the ring's spare memory back to the OS (the writer calls it when quiet)."},
    {"list_append", (PyCFunction)(void (*)(void))Sink_list_append, METH_FASTCALL,
     "list_append(lst, value, generation) -> None, or NotImplemented\n\n"
     "tracer.List.append(value) while recording, whole in C; NotImplemented (nothing "
     "done) when the case is not the simple one, for the Python code to handle."},
    {"list_pop", (PyCFunction)(void (*)(void))Sink_list_pop, METH_FASTCALL,
     "list_pop(lst, index, generation) -> the value, or NotImplemented\n\n"
     "tracer.List.pop(index) while recording, whole in C; NotImplemented (nothing "
     "done) when the case is not the simple one, a failing pop included."},
    {"event_set", (PyCFunction)Sink_event_set, METH_O,
     "event_set(ev) -> None, or NotImplemented\n\n"
     "tracer.Event.set() while recording, whole in C, when no recorded waiter is "
     "blocked; NotImplemented (nothing done) otherwise."},
    {"event_clear", (PyCFunction)Sink_event_clear, METH_O,
     "event_clear(ev) -> None, or NotImplemented\n\n"
     "tracer.Event.clear() while recording, whole in C; NotImplemented (nothing done) "
     "when the case is not the simple one."},
    {"event_wait", (PyCFunction)(void (*)(void))Sink_event_wait, METH_FASTCALL,
     "event_wait(ev, timeout) -> True, or NotImplemented\n\n"
     "tracer.Event.wait(timeout) while recording, whole in C, when the flag is set; "
     "NotImplemented (nothing done) when it may block or is not the simple case."},
    {"wait", (PyCFunction)(void (*)(void))Sink_wait, METH_VARARGS | METH_KEYWORDS,
     "wait(timeout, threshold)\n\n"
     "Return after `timeout` seconds, or sooner once `threshold` events wait or the sink "
     "closed; the GIL is released meanwhile."},
    {"close", (PyCFunction)Sink_close, METH_NOARGS,
     "close() -> seq\n\nAccept no more events; return the seq the next event would have had."},
    {"drain", (PyCFunction)(void (*)(void))Sink_drain, METH_VARARGS | METH_KEYWORDS,
     "drain(limit, site_name, final=False) -> bytes\n\n"
     "Encode up to `limit` events, in seq order, as JSON lines, and let them go."},
    {"pump", (PyCFunction)(void (*)(void))Sink_pump, METH_FASTCALL,
     "pump(fd, limit) -> (written, lost, errno)\n\n"
     "Drain every event into the file descriptor, `limit` a batch, needing the GIL once "
     "a batch; errno is 0 unless a write failed (then the batch it failed on is lost)."},
    {"drain_lines", (PyCFunction)(void (*)(void))Sink_drain_lines,
     METH_VARARGS | METH_KEYWORDS,
     "drain_lines(limit, site_name, final=False) -> (Lines or b\"\", lines)\n\n"
     "drain()'s lines as a read-only buffer, not copied (let it go before the next "
     "drain and its memory is reused), and how many lines it holds."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Sink_members[] = {
    {"dropped", Py_T_LONGLONG, offsetof(SinkObject, dropped), 0,
     "Events that could not be kept (no room in time, no memory, a failed drain)."},
    {"blocked", Py_T_OBJECT_EX, offsetof(SinkObject, blocked), Py_READONLY,
     "begin seq -> (thread, thread_id, event, obj, site, ts) of every blocking call that "
     "has begun and not ended."},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef Sink_getset[] = {
    {"pending", (getter)Sink_get_pending, NULL, "Events captured and not yet drained.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject Sink_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "tracer.recording._csink.Sink",
    .tp_basicsize = sizeof(SinkObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Sink(first_seq=0, max_pending=1 << 18)\n\n"
              "Events of one recording between capture and the writer.",
    .tp_new = Sink_new,
    .tp_init = (initproc)Sink_init,
    .tp_dealloc = (destructor)Sink_dealloc,
    .tp_traverse = (traverseproc)Sink_traverse,
    .tp_clear = (inquiry)Sink_clear,
    .tp_repr = (reprfunc)Sink_repr,
    .tp_methods = Sink_methods,
    .tp_members = Sink_members,
    .tp_getset = Sink_getset,
};

/* ---- call sites ---------------------------------------------------------------- */


static PyObject *
csink_caller_site(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    static const char *const names[] = {"depth"};
    PyObject *a[1];
    Py_ssize_t depth = 2;
    if (parse_args("caller_site", args, nargs, NULL, names, 0, 1, a) < 0)
        return NULL;
    if (a[0] != Py_None) {
        depth = PyLong_AsSsize_t(a[0]);
        if (depth == -1 && PyErr_Occurred())
            return NULL;
    }
    return find_site(depth);
}

/* caller_site(depth) for C callers: a new reference (a tuple, or None), or
 * NULL with an exception. */
static PyObject *
find_site(Py_ssize_t depth)
{
    PyObject *site;
    SiteEntry *e;
    int found = cached_site(depth, &site, &e);
    return found < 0 ? NULL : found ? site : Py_NewRef(Py_None);
}

/* The frame caller_site(depth) reports: a new reference, or NULL (with an
 * exception if one happened, without when there is no such frame). */
static PyFrameObject *
find_frame(Py_ssize_t depth)
{
    /* A C function has no frame of its own: the current frame is the Python
     * function that called us, the one sys._getframe(1) names there. */
    PyFrameObject *frame = (PyFrameObject *)Py_XNewRef(PyEval_GetFrame());
    for (Py_ssize_t i = 1; i < depth && frame != NULL; i++)
        Py_SETREF(frame, PyFrame_GetBack(frame));
    while (frame != NULL) {
        PyCodeObject *code = PyFrame_GetCode(frame);
        int ours = internal_files == NULL ? 0 : PySet_Contains(internal_files, code->co_filename);
        Py_DECREF(code);
        if (ours == 0)
            return frame;
        if (ours < 0) {
            Py_DECREF(frame);
            return NULL;
        }
        Py_SETREF(frame, PyFrame_GetBack(frame));
    }
    return NULL;
}

static PyObject *
csink_set_internal(PyObject *Py_UNUSED(module), PyObject *files)
{
    if (!PyAnySet_Check(files)) {
        PyErr_Format(PyExc_TypeError, "set_internal() wants a set, not %.100s",
                     Py_TYPE(files)->tp_name);
        return NULL;
    }
    Py_XSETREF(internal_files, Py_NewRef(files));
    Py_RETURN_NONE;
}

static PyObject *
csink_set_site_name(PyObject *Py_UNUSED(module), PyObject *namer)
{
    if (namer != Py_None && !PyCallable_Check(namer)) {
        PyErr_Format(PyExc_TypeError, "set_site_name() wants a callable or None, not %.100s",
                     Py_TYPE(namer)->tp_name);
        return NULL;
    }
    Py_XSETREF(site_namer, namer == Py_None ? NULL : Py_NewRef(namer));
    Py_RETURN_NONE;
}

static PyMethodDef csink_functions[] = {
    {"caller_site", (PyCFunction)(void (*)(void))csink_caller_site, METH_FASTCALL,
     "caller_site(depth=2) -> (filename, lineno) or None\n\n"
     "The first frame at or above `depth` that is the program's own code."},
    {"set_site_name", (PyCFunction)csink_set_site_name, METH_O,
     "set_site_name(namer)\n\n"
     "How sinks label a call site, asked once per distinct site when an event is "
     "captured (None: \"file.py:LINE\" for a (filename, line) pair, str() otherwise)."},
    {"list_methods", (PyCFunction)(void (*)(void))csink_list_methods, METH_FASTCALL,
     "list_methods(cls, append, pop) -> (append, pop)\n\n"
     "Method descriptors of cls (a list subclass) doing append and pop in C into the "
     "sink set_recording() handed over, handing what they decline to the given "
     "traced methods."},
    {"set_recording", (PyCFunction)(void (*)(void))csink_set_recording, METH_FASTCALL,
     "set_recording(sink, generation)\n\n"
     "The recording list_methods()' methods record into; set_recording(None, None) "
     "when it stops."},
    {"set_internal", (PyCFunction)csink_set_internal, METH_O,
     "set_internal(files)\n\n"
     "The set of files whose frames are never a call site (site._internal), read live."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef csink_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tracer.recording._csink",
    .m_doc = "The event sink in C: the native twin of tracer.recording.pysink.",
    .m_size = -1,
    .m_methods = csink_functions,
};

PyMODINIT_FUNC
PyInit__csink(void)
{
    if (PyType_Ready(&Sink_Type) < 0 || PyType_Ready(&Lines_Type) < 0 ||
        PyType_Ready(&ListLock_Type) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&csink_module);
    if (module == NULL)
        return NULL;
    PyObject *threading = PyImport_ImportModule("threading");
    PyObject *builtins = PyImport_ImportModule("builtins");
    if (threading == NULL || builtins == NULL)
        goto error;
    thread_registry = PyObject_GetAttrString(threading, "_active");
    current_thread = PyObject_GetAttrString(threading, "current_thread");
    builtin_repr = PyObject_GetAttrString(builtins, "repr");
    str_name_attr = PyUnicode_InternFromString("_name");
    str_thread_key = PyUnicode_InternFromString("tracer.recording._csink.thread");
    dummy_thread_type = (PyTypeObject *)PyObject_GetAttrString(threading, "_DummyThread");
    if (str_thread_key == NULL || dummy_thread_type == NULL)
        goto error;
    if (!PyType_Check(dummy_thread_type)) {
        PyErr_SetString(PyExc_ImportError, "threading._DummyThread is not a type");
        goto error;
    }
    str_name = PyUnicode_InternFromString("name");
    str_begin_seq = PyUnicode_InternFromString("begin_seq");
    /* Interned: orjson matches keyword names by identity first. */
    PyObject *str_default = PyUnicode_InternFromString("default");
    default_kwnames = str_default == NULL ? NULL : PyTuple_Pack(1, str_default);
    Py_XDECREF(str_default);
    if (thread_registry == NULL || current_thread == NULL || builtin_repr == NULL ||
        str_name_attr == NULL || str_name == NULL || str_begin_seq == NULL ||
        default_kwnames == NULL)
        goto error;
    if (!PyDict_Check(thread_registry)) {
        PyErr_SetString(PyExc_ImportError, "threading._active is not a dict");
        goto error;
    }
    PyObject *thread_module = PyImport_ImportModule("_thread");
    if (thread_module == NULL)
        goto error;
    rlock_type = PyObject_GetAttrString(thread_module, "RLock");
    lock_type = PyObject_GetAttrString(thread_module, "LockType");
    Py_DECREF(thread_module);
    PyObject *collections = PyImport_ImportModule("collections");
    if (collections == NULL)
        goto error;
    deque_type = PyObject_GetAttrString(collections, "deque");
    Py_DECREF(collections);
    condition_type = PyObject_GetAttrString(threading, "Condition");
    if (rlock_type == NULL || lock_type == NULL || deque_type == NULL ||
        condition_type == NULL || !PyType_Check(rlock_type) || !PyType_Check(lock_type) ||
        !PyType_Check(deque_type) || !PyType_Check(condition_type)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ImportError, "_thread's or threading's types are not types");
        goto error;
    }
    rlock_acquire = PyObject_GetAttrString(rlock_type, "acquire");
    rlock_release = PyObject_GetAttrString(rlock_type, "release");
    lock_locked = PyObject_GetAttrString(lock_type, "locked");
    str_cond = PyUnicode_InternFromString("_cond");
    str_flag_attr = PyUnicode_InternFromString("_flag");
    str_waiting = PyUnicode_InternFromString("_waiting");
    str_seen = PyUnicode_InternFromString("_seen");
    str_waiters_attr = PyUnicode_InternFromString("_waiters");
    str_waiters = PyUnicode_InternFromString("waiters");
    str_flag = PyUnicode_InternFromString("flag");
    str_timeout = PyUnicode_InternFromString("timeout");
    str_result = PyUnicode_InternFromString("result");
    str_timed_out = PyUnicode_InternFromString("timed_out");
    str_event_set = PyUnicode_InternFromString("event.set");
    str_event_clear = PyUnicode_InternFromString("event.clear");
    str_event_wait_begin = PyUnicode_InternFromString("event.wait.begin");
    str_event_wait_end = PyUnicode_InternFromString("event.wait.end");
    if (rlock_acquire == NULL || rlock_release == NULL || lock_locked == NULL || str_cond == NULL || str_flag_attr == NULL ||
        str_waiting == NULL || str_seen == NULL || str_waiters_attr == NULL ||
        str_waiters == NULL || str_flag == NULL || str_timeout == NULL || str_result == NULL ||
        str_timed_out == NULL || str_event_set == NULL || str_event_clear == NULL ||
        str_event_wait_begin == NULL || str_event_wait_end == NULL)
        goto error;
    str_lock_attr = PyUnicode_InternFromString("_lock");
    str_item = PyUnicode_InternFromString("item");
    str_index = PyUnicode_InternFromString("index");
    str_depth = PyUnicode_InternFromString("depth");
    str_value = PyUnicode_InternFromString("value");
    str_list_append = PyUnicode_InternFromString("list.append");
    str_list_pop = PyUnicode_InternFromString("list.pop");
    if (rlock_type == NULL || !PyType_Check(rlock_type) || str_lock_attr == NULL ||
        str_item == NULL ||
        str_index == NULL || str_depth == NULL || str_value == NULL ||
        str_list_append == NULL || str_list_pop == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ImportError, "_thread.RLock is not a type");
        goto error;
    }
    /* orjson renders values that are not JSON scalars; without it they are
     * written as their repr. */
    PyObject *orjson = PyImport_ImportModule("orjson");
    if (orjson != NULL) {
        orjson_dumps = PyObject_GetAttrString(orjson, "dumps");
        Py_DECREF(orjson);
    }
    if (orjson_dumps == NULL)
        PyErr_Clear();
    PyObject *patience = PyFloat_FromDouble(5.0);
    int added = patience != NULL &&
                PyModule_AddObjectRef(module, "ROOM_PATIENCE_S", patience) == 0 &&
                PyModule_AddObjectRef(module, "Sink", (PyObject *)&Sink_Type) == 0 &&
                PyModule_AddObjectRef(module, "ListLock", (PyObject *)&ListLock_Type) == 0;
    Py_XDECREF(patience);
    if (!added)
        goto error;
    Py_DECREF(threading);
    Py_DECREF(builtins);
    this_module = Py_NewRef(module);
    return module;
error:
    Py_XDECREF(threading);
    Py_XDECREF(builtins);
    Py_DECREF(module);
    return NULL;
}
