/* The event sink in C: the native twin of tracer/recording/pysink.py.
 *
 * A Sink stamps each event with seq and the clock and keeps a fixed-size
 * record of it in a ring until the writer drains it as JSON lines.  The pure
 * sink is the reference: same class, same methods, same lines.
 *
 * The GIL is the only lock.  Every method runs with the GIL held; the only
 * places that let it go are the sleeps in the backpressure wait and in
 * wait(), and the Python calls drain makes (site_name, orjson, repr).  In
 * particular the steps of an emit from "take seq" to "record stored" call
 * no Python code, allocate no GC-tracked object and decref nothing, so no
 * other thread and no signal handler can run in between: records enter the
 * ring in seq order and drain needs none of the pure sink's gap logic.
 *
 * Holding no lock of its own, the sink is consistent at any os.fork()
 * (fork runs with the GIL held, so no emit is half done); a child that never
 * drains just keeps its copy.  The module uses single-phase init and static
 * state, so it loads in the main interpreter only.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <math.h>
#include <stddef.h>
#include <time.h>

#ifdef Py_GIL_DISABLED
#error "the sink relies on the GIL for its atomicity; the pure sink serves free-threaded builds"
#endif

#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define Py_T_LONGLONG T_LONGLONG
#define Py_T_OBJECT_EX T_OBJECT_EX
#define Py_READONLY READONLY
#endif

/* How long the backpressure and writer waits sleep between looks. */
#define ROOM_POLL_NS 300000L   /* 0.3 ms */
#define WAIT_POLL_NS 1000000L  /* 1 ms */
/* The ring's first size, and the size above which an emptied ring is freed. */
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

/* Sleep ns nanoseconds with the GIL released; the caller holds the GIL. */
static void
nap(long ns)
{
    struct timespec t = {0, ns};
    Py_BEGIN_ALLOW_THREADS
    nanosleep(&t, NULL);
    Py_END_ALLOW_THREADS
}

/* ---- module state (static: single-phase init) ----------------------------- */

static PyObject *thread_registry;   /* threading._active: ident -> Thread */
static PyObject *current_thread;    /* threading.current_thread */
static PyObject *str_name_attr;     /* "_name" */
static PyObject *str_name;          /* "name" */
static PyObject *str_begin_seq;     /* "begin_seq" */
static PyObject *orjson_dumps;      /* orjson.dumps, imported by the first drain that needs it */
static PyObject *builtin_repr;      /* repr */
static PyObject *default_kwnames;   /* ("default",) */
static PyObject *internal_files;    /* site._internal, handed over by set_internal() */
static PyObject *this_module;       /* borrowed: lives as long as the interpreter */

/* ---- the Sink ------------------------------------------------------------- */

/* One captured event.  The five objects are strong references, never NULL
 * (a missing obj, site or fields is Py_None). */
typedef struct {
    long long seq;
    long long ts;
    unsigned long thread_id;
    PyObject *event;
    PyObject *thread;
    PyObject *obj;
    PyObject *site;
    PyObject *fields;
} Record;

/* Invariants:
 * - ring holds `count` records from slot `head` on, wrapping at `capacity`,
 *   a power of two (or 0 with ring == NULL); their seq are consecutive and
 *   increasing from the oldest.
 * - count < max_pending whenever an emit stores a record (emits wait first).
 * - next_seq is the seq of the next record, and what close() hands out.
 * - last_ts is the largest ts drain has written; lines never go below it.
 * - site_names caches site -> site_name_of(site) for the drains that passed
 *   that very site_name_of.
 */
typedef struct {
    PyObject_HEAD
    Record *ring;
    Py_ssize_t capacity;
    Py_ssize_t head;
    Py_ssize_t count;
    Py_ssize_t max_pending;
    long long next_seq;
    long long last_ts;
    long long dropped;
    int open;
    PyObject *blocked;      /* dict: begin seq -> (thread, thread_id, event, obj, site, ts) */
    PyObject *site_names;   /* dict: site -> str */
    PyObject *site_name_of; /* the site_name callable site_names belongs to, or NULL */
} SinkObject;

static PyTypeObject Sink_Type;

static void
record_release(Record *r)
{
    Py_DECREF(r->event);
    Py_DECREF(r->thread);
    Py_DECREF(r->obj);
    Py_DECREF(r->site);
    Py_DECREF(r->fields);
}

/* Detach the oldest n records into `out` (n <= count).  No Python code runs,
 * so the ring is consistent again before any other thread can look. */
static void
ring_take(SinkObject *self, Record *out, Py_ssize_t n)
{
    Py_ssize_t first = Py_MIN(n, self->capacity - self->head);
    memcpy(out, self->ring + self->head, (size_t)first * sizeof(Record));
    memcpy(out + first, self->ring, (size_t)(n - first) * sizeof(Record));
    self->head = (self->head + n) & (self->capacity - 1);
    self->count -= n;
}

/* Make room for one more record: 0, or -1 when memory ran out (no
 * exception set: the caller counts the event as dropped). */
static int
ring_grow(SinkObject *self)
{
    if (self->count < self->capacity)
        return 0;
    Py_ssize_t capacity = self->capacity ? self->capacity * 2 : RING_MIN;
    if (capacity > PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(Record))
        return -1;
    /* PyMem_Malloc needs the GIL (held) and never collects garbage, so no
     * Python code runs here. */
    Record *ring = PyMem_Malloc((size_t)capacity * sizeof(Record));
    if (ring == NULL)
        return -1;
    if (self->count)
        ring_take(self, ring, self->count);
    self->count = self->capacity;
    PyMem_Free(self->ring);
    self->ring = ring;
    self->capacity = capacity;
    self->head = 0;
    return 0;
}

/* Release every record, the ring detached first so a __del__ that emits
 * into this sink finds it empty and whole. */
static void
ring_clear(SinkObject *self)
{
    Record *ring = self->ring;
    Py_ssize_t capacity = self->capacity, head = self->head, count = self->count;
    self->ring = NULL;
    self->capacity = self->head = self->count = 0;
    for (Py_ssize_t i = 0; i < count; i++)
        record_release(&ring[(head + i) & (capacity - 1)]);
    PyMem_Free(ring);
}

/* The calling thread's name: threading._active[ident]._name, read from the
 * instance dict so no Python code runs; a thread threading does not know
 * takes threading.current_thread().name (Python code, once per thread).
 * Returns a new reference, or NULL with an exception. */
static PyObject *
thread_name(unsigned long ident)
{
    PyObject *key = PyLong_FromUnsignedLong(ident);
    if (key == NULL)
        return NULL;
    PyObject *thread = PyDict_GetItemWithError(thread_registry, key); /* borrowed */
    Py_DECREF(key);
    if (thread != NULL) {
        PyObject *dict = PyObject_GenericGetDict(thread, NULL);
        if (dict != NULL) {
            PyObject *name = PyDict_GetItemWithError(dict, str_name_attr);
            Py_XINCREF(name);
            Py_DECREF(dict);
            if (name != NULL)
                return name;
        }
        if (PyErr_Occurred())
            return NULL;
        return PyObject_GetAttr(thread, str_name);
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
    while (self->count >= self->max_pending) {
        if (!self->open || monotonic_ns() > deadline)
            return 0;
        nap(ROOM_POLL_NS);
        if (PyErr_CheckSignals() < 0)
            return -1;
    }
    return 1;
}

/* Capture one event.  Returns its seq (>= 0), -1 when it was not kept
 * (closed, no room in time, no memory), -2 with an exception set.
 * `thread` is borrowed; *ts_out gets the record's ts. */
static long long
capture(SinkObject *self, PyObject *event, PyObject *obj, PyObject *site,
        PyObject *fields, PyObject *thread, unsigned long ident, long long *ts_out)
{
    if (!self->open)
        return -1;
    if (fields != Py_None && !PyDict_Check(fields)) {
        PyErr_Format(PyExc_TypeError, "fields must be a dict or None, not %.100s",
                     Py_TYPE(fields)->tp_name);
        return -2;
    }
    if (self->count >= self->max_pending) {
        int room = wait_for_room(self);
        if (room <= 0) {
            self->dropped++;
            return room < 0 ? -2 : -1;
        }
    }
    if (!self->open)
        return -1;
    /* From here to the end no Python code runs (see the top of the file). */
    if (ring_grow(self) < 0) {
        self->dropped++;
        return -1;
    }
    Record *r = &self->ring[(self->head + self->count) & (self->capacity - 1)];
    r->seq = self->next_seq++;
    r->ts = *ts_out = monotonic_ns();
    r->thread_id = ident;
    r->event = Py_NewRef(event);
    r->thread = Py_NewRef(thread);
    r->obj = Py_NewRef(obj);
    r->site = Py_NewRef(site);
    r->fields = Py_NewRef(fields);
    self->count++;
    return r->seq;
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
             PyObject *fields, PyObject **name_out, unsigned long *ident_out,
             long long *ts_out)
{
    if (!self->open)
        return -1;
    unsigned long ident = PyThread_get_thread_ident();
    /* May run Python code on the rare path, so it comes before the seq. */
    PyObject *name = thread_name(ident);
    if (name == NULL)
        return -2;
    long long seq = capture(self, event, obj, site, fields, name, ident, ts_out);
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
    return seq_result(capture_here(self, a[0], a[1], a[2], a[3], NULL, NULL, &ts));
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
    return seq_result(capture(self, a[0], a[1], a[2], a[3], a[4], ident, &ts));
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
    long long seq = capture_here(self, a[0], a[1], a[2], a[3], &name, &ident, &ts);
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
    if (!self->open)
        return PyLong_FromLong(-1);
    /* {"begin_seq": begin_seq, **fields} */
    PyObject *line = PyDict_New();
    if (line == NULL || PyDict_SetItem(line, str_begin_seq, begin_seq) < 0 ||
        (fields != Py_None && PyDict_Update(line, fields) < 0)) {
        Py_XDECREF(line);
        PyErr_Clear();
        self->dropped++;
        return PyLong_FromLong(-1);
    }
    long long seq = capture_here(self, a[1], a[2], a[3], line, NULL, NULL, &ts);
    Py_DECREF(line);
    return seq_result(seq);
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
    while (self->count < threshold && self->open) {
        long long left = deadline - monotonic_ns();
        if (left <= 0)
            break;
        nap((long)Py_MIN(left, WAIT_POLL_NS));
        if (PyErr_CheckSignals() < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- drain: records to JSON lines ------------------------------------------ */

/* A growable byte buffer. */
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
    if (extra > PY_SSIZE_T_MAX / 2 - b->len) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t cap = Py_MAX(b->cap * 2, b->len + extra);
    char *data = PyMem_Realloc(b->data, (size_t)cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static int
buf_put(Buf *b, const char *s, Py_ssize_t n)
{
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, (size_t)n);
    b->len += n;
    return 0;
}

#define PUT_LITERAL(b, s) buf_put((b), (s), (Py_ssize_t)sizeof(s) - 1)

/* Decimal digits (snprintf costs more than the rest of a line). */
static int
put_uint(Buf *b, unsigned long long u, int negative)
{
    char digits[24];
    char *p = digits + sizeof digits;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (negative)
        *--p = '-';
    return buf_put(b, p, digits + sizeof digits - p);
}

static int
put_int(Buf *b, long long x)
{
    return x < 0 ? put_uint(b, 0ULL - (unsigned long long)x, 1)
                 : put_uint(b, (unsigned long long)x, 0);
}

/* A str as a JSON string, escaped as orjson does: \" \\ \b \f \n \r \t,
 * other control characters as \u00XX, the rest as UTF-8.  A lone surrogate,
 * which UTF-8 cannot hold, is written as its \uXXXX escape. */
static int
put_str(Buf *b, PyObject *s)
{
    static const char hex[] = "0123456789abcdef";
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0)
        return -1;
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    /* No code point takes more than 6 bytes: reserve once, then write. */
    if (n > (PY_SSIZE_T_MAX / 2 - 2) / 6) {
        PyErr_NoMemory();
        return -1;
    }
    if (buf_reserve(b, 6 * n + 2) < 0)
        return -1;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    char *o = b->data + b->len;
    *o++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            *o++ = (char)c;
        }
        else if (c < 0x80) {
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
                o[3] = hex[c >> 4];
                o[4] = hex[c & 0xf];
                o += 5;
            }
        }
        else if (c < 0x800) {
            *o++ = (char)(0xc0 | (c >> 6));
            *o++ = (char)(0x80 | (c & 0x3f));
        }
        else if (c >= 0xd800 && c <= 0xdfff) {
            *o++ = '\\';
            *o++ = 'u';
            for (int shift = 12; shift >= 0; shift -= 4)
                *o++ = hex[(c >> shift) & 0xf];
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
    b->len = o - b->data;
    return 0;
}

/* Anything but the scalars: orjson.dumps(v, default=repr) as the pure
 * sink's renderer would, else repr(v) as a string, else null. */
static int
put_other(Buf *b, PyObject *v)
{
    if (orjson_dumps == NULL) {
        PyObject *orjson = PyImport_ImportModule("orjson");
        if (orjson != NULL) {
            orjson_dumps = PyObject_GetAttrString(orjson, "dumps");
            Py_DECREF(orjson);
        }
        PyErr_Clear();
    }
    if (orjson_dumps != NULL) {
        PyObject *args[2] = {v, builtin_repr};
        PyObject *json = PyObject_Vectorcall(orjson_dumps, args, 1, default_kwnames);
        if (json != NULL && PyBytes_Check(json)) {
            int rc = buf_put(b, PyBytes_AS_STRING(json), PyBytes_GET_SIZE(json));
            Py_DECREF(json);
            return rc;
        }
        Py_XDECREF(json);
        PyErr_Clear();
    }
    PyObject *text = PyObject_Repr(v);
    if (text != NULL) {
        int rc = put_str(b, text);
        Py_DECREF(text);
        return rc;
    }
    PyErr_Clear();
    return PUT_LITERAL(b, "null");
}

/* One value: the JSON scalars written here, the rest through put_other. */
static int
put_value(Buf *b, PyObject *v)
{
    if (v == Py_None)
        return PUT_LITERAL(b, "null");
    if (v == Py_True)
        return PUT_LITERAL(b, "true");
    if (v == Py_False)
        return PUT_LITERAL(b, "false");
    if (PyUnicode_Check(v))
        return put_str(b, v);
    if (PyLong_CheckExact(v)) {
        int overflow;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (x == -1 && PyErr_Occurred())
            return -1;
        if (overflow) {  /* a big int: its decimal digits (int's own str) */
            PyObject *digits = PyObject_Str(v);
            if (digits == NULL) {  /* past sys.set_int_max_str_digits */
                PyErr_Clear();
                return put_other(b, v);
            }
            Py_ssize_t n;
            const char *s = PyUnicode_AsUTF8AndSize(digits, &n);
            int rc = s == NULL ? -1 : buf_put(b, s, n);
            Py_DECREF(digits);
            return rc;
        }
        return put_int(b, x);
    }
    if (PyFloat_CheckExact(v)) {
        double x = PyFloat_AS_DOUBLE(v);
        if (!isfinite(x))
            return PUT_LITERAL(b, "null");
        char *s = PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
        if (s == NULL)
            return -1;
        int rc = buf_put(b, s, (Py_ssize_t)strlen(s));
        PyMem_Free(s);
        return rc;
    }
    return put_other(b, v);
}

/* The trace's name for a site: site_name_of(site), once per distinct site.
 * New reference, or NULL with an exception. */
static PyObject *
site_label(SinkObject *self, PyObject *site, PyObject *site_name_of)
{
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
    name = PyObject_CallOneArg(site_name_of, site);
    if (name == NULL || !cacheable)
        return name;
    if (PyDict_GET_SIZE(self->site_names) >= RING_KEEP)  /* keep the cache bounded */
        PyDict_Clear(self->site_names);
    if (PyDict_SetItem(self->site_names, site, name) < 0)
        Py_CLEAR(name);
    return name;
}

/* One record as one line, in the pure sink's key order. */
static int
put_record(SinkObject *self, Buf *b, const Record *r, PyObject *site_name_of)
{
    long long ts = Py_MAX(r->ts, self->last_ts);
    self->last_ts = ts;
    if (PUT_LITERAL(b, "{\"event\":") < 0 || put_value(b, r->event) < 0 ||
        PUT_LITERAL(b, ",\"ts\":") < 0 || put_int(b, ts) < 0 ||
        PUT_LITERAL(b, ",\"seq\":") < 0 || put_int(b, r->seq) < 0 ||
        PUT_LITERAL(b, ",\"thread\":") < 0 || put_value(b, r->thread) < 0 ||
        PUT_LITERAL(b, ",\"thread_id\":") < 0 || put_uint(b, r->thread_id, 0) < 0)
        return -1;
    if (r->obj != Py_None && (PUT_LITERAL(b, ",\"obj\":") < 0 || put_value(b, r->obj) < 0))
        return -1;
    if (r->site != Py_None) {
        PyObject *name = site_label(self, r->site, site_name_of);
        if (name == NULL)
            return -1;
        int rc = PUT_LITERAL(b, ",\"site\":") < 0 ? -1 : put_value(b, name);
        Py_DECREF(name);
        if (rc < 0)
            return -1;
    }
    if (PyDict_Check(r->fields)) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (PyDict_Next(r->fields, &pos, &key, &value)) {
            if (value == Py_None)
                continue;
            /* Encoding value may run Python code: hold both meanwhile. */
            Py_INCREF(key);
            Py_INCREF(value);
            PyObject *text = PyUnicode_Check(key) ? Py_NewRef(key) : PyObject_Str(key);
            int rc = text == NULL || PUT_LITERAL(b, ",") < 0 || put_str(b, text) < 0 ||
                             PUT_LITERAL(b, ":") < 0 || put_value(b, value) < 0
                         ? -1
                         : 0;
            Py_XDECREF(text);
            Py_DECREF(key);
            Py_DECREF(value);
            if (rc < 0)
                return -1;
        }
    }
    return PUT_LITERAL(b, "}\n");
}

static PyObject *
Sink_drain(SinkObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"limit", "site_name", "final", NULL};
    Py_ssize_t limit;
    PyObject *site_name_of;
    int final = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nO|p:drain", kwlist, &limit, &site_name_of,
                                     &final))
        return NULL;
    /* `final` changes nothing here: records are in seq order already, with
     * no gap to hold back. */
    Py_ssize_t n = Py_MIN(self->count, limit);
    if (n <= 0)
        return PyBytes_FromStringAndSize(NULL, 0);
    /* Take the batch out of the ring before any Python code runs: encoding
     * calls site_name, orjson and repr, during which other threads emit,
     * and the ring may grow and move. */
    Record *batch = PyMem_Malloc((size_t)n * sizeof(Record));
    if (batch == NULL)
        return PyErr_NoMemory();
    ring_take(self, batch, n);
    if (self->count == 0 && self->capacity > RING_KEEP) {  /* give a burst's memory back */
        PyMem_Free(self->ring);
        self->ring = NULL;
        self->capacity = self->head = 0;
    }
    if (site_name_of != self->site_name_of) {
        Py_XSETREF(self->site_name_of, Py_NewRef(site_name_of));
        PyDict_Clear(self->site_names);
    }
    Buf b = {NULL, 0, 0};
    Py_ssize_t done = 0;
    if (buf_reserve(&b, Py_MIN(n, 8192) * 128) == 0) {
        while (done < n && put_record(self, &b, &batch[done], site_name_of) == 0)
            done++;
    }
    PyObject *lines = done == n ? PyBytes_FromStringAndSize(b.data, b.len) : NULL;
    PyMem_Free(b.data);
    if (lines == NULL)  /* the exception goes up; the batch is gone: say so */
        self->dropped += n;
    for (Py_ssize_t i = 0; i < n; i++)
        record_release(&batch[i]);
    PyMem_Free(batch);
    return lines;
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
    for (Py_ssize_t i = 0; i < self->count; i++) {
        Record *r = &self->ring[(self->head + i) & (self->capacity - 1)];
        Py_VISIT(r->event);
        Py_VISIT(r->thread);
        Py_VISIT(r->obj);
        Py_VISIT(r->site);
        Py_VISIT(r->fields);
    }
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
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Sink_repr(SinkObject *self)
{
    return PyUnicode_FromFormat("<Sink %s next_seq=%lld pending=%zd dropped=%lld>",
                                self->open ? "open" : "closed", self->next_seq, self->count,
                                self->dropped);
}

static PyObject *
Sink_get_pending(SinkObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSsize_t(self->count);
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
    {"wait", (PyCFunction)(void (*)(void))Sink_wait, METH_VARARGS | METH_KEYWORDS,
     "wait(timeout, threshold)\n\n"
     "Return after `timeout` seconds, or sooner once `threshold` events wait or the sink "
     "closed; the GIL is released meanwhile."},
    {"close", (PyCFunction)Sink_close, METH_NOARGS,
     "close() -> seq\n\nAccept no more events; return the seq the next event would have had."},
    {"drain", (PyCFunction)(void (*)(void))Sink_drain, METH_VARARGS | METH_KEYWORDS,
     "drain(limit, site_name, final=False) -> bytes\n\n"
     "Encode up to `limit` events, in seq order, as JSON lines, and let them go."},
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
    /* A C function has no frame of its own: the current frame is the Python
     * function that called us, the one sys._getframe(1) names there. */
    PyFrameObject *frame = (PyFrameObject *)Py_XNewRef(PyEval_GetFrame());
    for (Py_ssize_t i = 1; i < depth && frame != NULL; i++)
        Py_SETREF(frame, PyFrame_GetBack(frame));
    while (frame != NULL) {
        PyCodeObject *code = PyFrame_GetCode(frame);
        PyObject *filename = Py_NewRef(code->co_filename);
        Py_DECREF(code);
        int ours = internal_files == NULL ? 0 : PySet_Contains(internal_files, filename);
        if (ours == 0) {
            PyObject *site = Py_BuildValue("(Oi)", filename, PyFrame_GetLineNumber(frame));
            Py_DECREF(filename);
            Py_DECREF(frame);
            return site;
        }
        Py_DECREF(filename);
        if (ours < 0) {
            Py_DECREF(frame);
            return NULL;
        }
        Py_SETREF(frame, PyFrame_GetBack(frame));
    }
    Py_RETURN_NONE;
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

static PyMethodDef csink_functions[] = {
    {"caller_site", (PyCFunction)(void (*)(void))csink_caller_site, METH_FASTCALL,
     "caller_site(depth=2) -> (filename, lineno) or None\n\n"
     "The first frame at or above `depth` that is the program's own code."},
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
    if (PyType_Ready(&Sink_Type) < 0)
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
    PyObject *patience = PyFloat_FromDouble(5.0);
    int added = patience != NULL &&
                PyModule_AddObjectRef(module, "ROOM_PATIENCE_S", patience) == 0 &&
                PyModule_AddObjectRef(module, "Sink", (PyObject *)&Sink_Type) == 0;
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
