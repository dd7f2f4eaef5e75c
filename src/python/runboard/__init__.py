"""Runboard's Python client: log metrics, params, tags and artifacts from a training script.

Standard library only, Python >= 3.8.

Inside a Runboard run (``RUNBOARD_RUN_DIR`` set by the launcher) everything is written to that
folder, which Runboard watches. Outside one, the first call creates
``./.runboard/runs/local-<timestamp>-<pid>/`` (under ``RUNBOARD_HOME`` when set) with a
``run.json``, to load later with ``runboard import DIR``.

Files of a run folder:

* ``metrics.jsonl``: one ``{"step": 3, "wall": 1730000000123, "metrics": {"loss": 0.2}}`` per
  ``log`` call (wall in epoch ms; NaN/Infinity as Python's json writes them). The step is always
  explicit, so ingesting the file twice never duplicates a point.
* ``params.json``, ``tags.json``: the merged dicts, rewritten whole.
* ``artifacts/NAME``: copies made by ``log_artifact``; ``artifacts.jsonl`` holds one
  ``{"path": "artifacts/NAME", "kind": "model"}`` per artifact logged with an explicit kind.
* ``run.json`` (outside a run only): name, command, cwd, started/ended (epoch ms), status.
* ``artifacts/reference.json``: the sample of training inputs ``log_reference`` keeps, which a
  deployment of the run's model compares its traffic with.

Cost: ``log`` appends to three lists; once a second a background thread hands the records to a
helper process (``python -I -S -B``, started on first use, ended with this process) that formats
and appends them, so the training process never spends time writing text. Where no helper can
run (a frozen or embedded interpreter, or it died) the thread formats them itself.
"""

import atexit
import json
import os
import pickle
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from itertools import chain, repeat
from operator import itemgetter, mul

__all__ = ["log", "log_params", "log_artifact", "log_evaluation", "log_reference", "set_tags", "flush", "run_dir"]

ARTIFACT_KINDS = ("model", "data", "plot", "other")
REFERENCE_MAX_ROWS = 10000
REFERENCE_SEED = 0
FLUSH_INTERVAL_S = 1.0

_run = None
_append_step = _append_wall = _append_metrics = None
_first_log = True
_time = time.time
_start_lock = threading.Lock()


def log(step=None, **metrics):
    """Records metric values at ``step``.

    Without a step, each key counts its own calls (the n-th ``loss`` is step n); keys logged
    together share the largest of their counters. Values are converted with ``float()`` when
    written, so numpy and torch scalars work; strings and booleans are not metrics (Runboard
    ignores them). Cheap: the call only appends to a buffer that a background thread writes out
    every second (and at exit).
    """
    if step is not None and type(step) is not int:
        step = _integer_step(step)
    if _run is None:
        _current()
    # Three flat lists, not a tuple per record: tuples are tracked by the garbage collector, and
    # the collections they trigger would cost more than the rest of this call. The lists' bound
    # append methods are module globals: the cheapest lookup in a hot loop.
    _append_step(step)
    _append_wall(_time())
    _append_metrics(metrics)
    if _first_log:
        _log_first()


def _log_first():
    # The first record is written at once, here, so Runboard learns early that this key comes
    # from the client (console lines for the same key are then ignored).
    global _first_log
    _first_log = False
    _run.flush(direct=True)


def log_params(params):
    """Merges ``params`` (a dict) into the run's params."""
    run = _current()
    with run.lock:
        run.params.update(_as_dict(params, "log_params"))
        _write_json_atomically(os.path.join(run.dir, "params.json"), run.params)


def set_tags(tags):
    """Merges ``tags`` (a dict) into the run's tags."""
    run = _current()
    with run.lock:
        run.tags.update(_as_dict(tags, "set_tags"))
        _write_json_atomically(os.path.join(run.dir, "tags.json"), run.tags)


def log_artifact(path, kind=None):
    """Copies a file into the run folder's ``artifacts/`` and returns the copy's path.

    ``kind`` is one of model, data, plot, other; by default Runboard infers it from the extension.
    """
    if kind is not None and kind not in ARTIFACT_KINDS:
        raise ValueError("runboard.log_artifact: kind must be one of %s, not %r" % (", ".join(ARTIFACT_KINDS), kind))
    source = os.fspath(path)
    if not os.path.isfile(source):
        raise FileNotFoundError("runboard.log_artifact: %r is not a file" % source)
    run = _current()
    name = os.path.basename(source)
    folder = os.path.join(run.dir, "artifacts")
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, name)
    with run.lock:
        if kind is not None:
            # Written before the copy appears, so Runboard knows the kind when it records the file.
            line = json.dumps({"path": "artifacts/" + name, "kind": kind}) + "\n"
            _append(os.path.join(run.dir, "artifacts.jsonl"), line.encode("utf-8"))
        if os.path.abspath(source) != os.path.abspath(target):
            # A dot-named temporary file, renamed when complete: Runboard never records half a copy.
            partial = os.path.join(folder, ".%s.%d.tmp" % (name, os.getpid()))
            shutil.copyfile(source, partial)
            os.replace(partial, target)
    return target


def log_evaluation(y_true, y_pred, labels=None, name=None, title=None):
    """Writes a confusion matrix and per-class precision/recall/F1 as ``artifacts/evaluation.json``
    (``evaluation-NAME.json`` with a name), which the Compare panel shows side by side. Returns
    the file's path.

    Rows of the matrix are the true class, columns the predicted one. A score whose denominator is
    zero is 0, as in scikit-learn. ``labels`` fixes the classes and their order (default: every
    label seen, sorted).
    """
    truth, predicted = list(y_true), list(y_pred)
    if len(truth) != len(predicted):
        raise ValueError("runboard.log_evaluation: y_true has %d items but y_pred has %d" % (len(truth), len(predicted)))
    if name is not None and (not str(name) or any(c in str(name) for c in "/\\") or str(name).startswith(".")):
        raise ValueError("runboard.log_evaluation: name must be a plain file name part, not %r" % (name,))
    classes = list(labels) if labels is not None else sorted(set(truth) | set(predicted), key=lambda v: (str(type(v)), v))
    index = {label: i for i, label in enumerate(classes)}
    matrix = [[0] * len(classes) for _ in classes]
    for t, p in zip(truth, predicted):
        if t in index and p in index:
            matrix[index[t]][index[p]] += 1
    per_class = {}
    for i, label in enumerate(classes):
        hits = matrix[i][i]
        support = sum(matrix[i])
        predicted_as = sum(row[i] for row in matrix)
        precision = hits / predicted_as if predicted_as else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[str(label)] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    total = sum(map(sum, matrix))
    report = {
        "format": "runboard.evaluation/1",
        "title": title if title is not None else (str(name) if name is not None else "evaluation"),
        "labels": [label if isinstance(label, (int, float, str)) else str(label) for label in classes],
        "confusion_matrix": matrix,
        "per_class": per_class,
        "accuracy": sum(matrix[i][i] for i in range(len(classes))) / total if total else 0.0,
    }
    run = _current()
    folder = os.path.join(run.dir, "artifacts")
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, "evaluation.json" if name is None else "evaluation-%s.json" % name)
    with run.lock:
        _write_json_atomically(target, report)
    return target


def log_reference(X, y=None, feature_names=None):
    """Keeps a sample of the training inputs (and their labels) as the run's reference, the data a
    deployment of its model is compared with to notice drift. Returns the file's path
    (``artifacts/reference.json``).

    ``X``: a pandas DataFrame (its column names become the feature names), a numpy array or a list
    of rows; other names are ``f0``, ``f1``, ... unless ``feature_names`` is given. String columns
    are kept as categories; missing values (None, NaN) as null. At most 10,000 rows are kept, a
    seeded random sample of them when there are more, so the same data gives the same reference.
    """
    names, rows = _reference_rows(X, feature_names)
    labels = None if y is None else [_plain(v) for v in _as_list(y)]
    if labels is not None and len(labels) != len(rows):
        raise ValueError("runboard.log_reference: X has %d rows but y has %d" % (len(rows), len(labels)))
    total = len(rows)
    if total > REFERENCE_MAX_ROWS:
        import random

        keep = sorted(random.Random(REFERENCE_SEED).sample(range(total), REFERENCE_MAX_ROWS))
        rows = [rows[i] for i in keep]
        labels = None if labels is None else [labels[i] for i in keep]
    reference = {"format": "runboard.reference/1", "features": names, "rows": rows, "labels": labels, "total": total, "seed": REFERENCE_SEED}
    run = _current()
    folder = os.path.join(run.dir, "artifacts")
    os.makedirs(folder, exist_ok=True)
    with run.lock:
        line = json.dumps({"path": "artifacts/reference.json", "kind": "data"}) + "\n"
        _append(os.path.join(run.dir, "artifacts.jsonl"), line.encode("utf-8"))
        target = os.path.join(folder, "reference.json")
        partial = os.path.join(folder, ".reference.json.%d.tmp" % os.getpid())
        with open(partial, "w", encoding="utf-8") as file:
            json.dump(reference, file, separators=(",", ":"), allow_nan=False)
        os.replace(partial, target)
    return target


def _reference_rows(X, feature_names):
    """(names, rows of plain JSON values) of a DataFrame, array or list of rows."""
    columns = getattr(X, "columns", None)
    if columns is not None and hasattr(X, "itertuples"):
        names = [str(c) for c in columns]
        rows = [list(row) for row in X.itertuples(index=False, name=None)]
    else:
        rows = [_as_list(row) for row in _as_list(X)]
        names = None
    if not rows:
        raise ValueError("runboard.log_reference: X has no rows")
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise ValueError("runboard.log_reference: the rows of X differ in length")
    if feature_names is not None:
        names = [str(n) for n in feature_names]
        if len(names) != width:
            raise ValueError("runboard.log_reference: %d feature names for %d columns" % (len(names), width))
    if names is None:
        names = ["f%d" % j for j in range(width)]
    return names, [[_plain(v) for v in row] for row in rows]


def _as_list(value):
    return value.tolist() if hasattr(value, "tolist") else list(value)


def _plain(value):
    """A JSON value: numpy scalars as Python numbers, NaN and None as null, other objects as text."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    return str(value)


def flush():
    """Writes buffered metrics now and returns once they are in the file (also done every second
    and at exit)."""
    if _run is not None:
        _run.flush(wait=True)


def run_dir():
    """The folder this process logs to (created on first use outside a Runboard run)."""
    return _current().dir


# ── internals ──────────────────────────────────────────────────────────────────


class _Run:
    def __init__(self, directory, standalone):
        self.dir = directory
        self.standalone = standalone
        # Only the process that created a local run records its end (not a forked worker).
        self.owner_pid = os.getpid()
        # Parallel lists appended by log() (metrics last), taken from the front by flush().
        self.steps = []
        self.walls = []
        self.metrics = []
        self.next_step = {}
        self.params = _read_json(os.path.join(directory, "params.json"))
        self.tags = _read_json(os.path.join(directory, "tags.json"))
        self.lock = threading.Lock()
        # Set by the excepthook: "failed", or "killed" for Ctrl-C; None is a normal exit.
        self.outcome = None
        self.metrics_path = os.path.join(directory, "metrics.jsonl")
        self.metrics_fd = os.open(self.metrics_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.helper = None
        self.helper_failed = False
        self.stopped = threading.Event()
        self.thread = None
        self._start_thread()

    def _start_thread(self):
        self.thread = threading.Thread(target=self._flush_periodically, name="runboard-flush", daemon=True)
        self.thread.start()

    def _flush_periodically(self):
        while not self.stopped.wait(FLUSH_INTERVAL_S):
            self.flush()

    def flush(self, wait=False, direct=False):
        """Writes the buffered records. A uniform batch goes to the formatting helper unless
        ``direct``; ``wait`` returns only once it is in the file."""
        with self.lock:
            # log() only appends, metrics last, so the first `count` records are complete and can
            # be taken without stopping it.
            count = len(self.metrics)
            if count == 0:
                return
            batch = []
            for column in (self.steps, self.walls, self.metrics):
                batch.append(column[:count])
                del column[:count]
            steps, walls, metrics = batch
            uniform = _uniform_batch(steps, walls, metrics, self.next_step)
            if uniform and not direct and self._hand_to_helper(uniform, wait):
                return
            text = _format_uniform(*uniform) if uniform else _serialize_each(steps, walls, metrics, self.next_step)
            _write_all(self.metrics_fd, text.encode("utf-8"))

    def _hand_to_helper(self, batch, wait):
        """Formatting text is most of a record's cost, so a helper process does it on another core
        while this one only pickles columns. False when there is no working helper; the caller
        then formats here. A batch the helper may also have written is harmless: its steps are
        explicit, so Runboard ignores the repeat."""
        if self.helper_failed:
            return False
        try:
            if self.helper is None:
                self.helper = _start_helper(self.metrics_path)
            payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            _write_all(self.helper.stdin.fileno(), _FRAME.pack(len(payload), 1 if wait else 0) + payload)
            if wait and self.helper.stdout.read(1) != b"\n":
                raise OSError("the runboard helper stopped")
            return True
        except (OSError, ValueError):
            self.helper_failed = True
            # A helper killed mid-write may have left half a line: start ours on a line of its own.
            _end_partial_line(self.metrics_fd, self.metrics_path)
            return False

    def close(self):
        self.stopped.set()
        self.flush()
        if self.helper is not None:
            try:
                # End of input: the helper writes what it has and exits.
                self.helper.stdin.close()
                self.helper.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                pass
        os.close(self.metrics_fd)
        if self.standalone and os.getpid() == self.owner_pid:
            _update_run_json(self.dir, ended=_now_ms(), status=self.outcome or "finished")

    def after_fork(self):
        if self.helper is not None:
            # The child's copy of the parent's pipe (unbuffered, so nothing half-sent is flushed):
            # closing it lets the parent's helper see the end of its input.
            try:
                self.helper.stdin.close()
                self.helper.stdout.close()
            except OSError:
                pass
        self.helper = None
        self.helper_failed = False
        # The parent writes its own buffer; the child starts empty with its own flusher thread.
        # Cleared in place: log() holds their append methods.
        global _first_log
        for column in (self.steps, self.walls, self.metrics):
            del column[:]
        _first_log = True
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self._start_thread()


def _make_metrics_encoder():
    """json's C encoder, called directly: ``JSONEncoder.encode`` builds a new one per call, which
    would dominate the client's cost. Private API, so it is checked once and replaced by the pure
    Python path when missing or different."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        encode = make(None, float, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)
        sample = {"a": 0.5, "b": float("nan"), "c": 3}
        # Older Pythons return a list of chunks, newer ones a 1-tuple.
        if "".join(encode(sample, 0)) == json.dumps(sample):
            return encode
    except Exception:
        pass
    return None


_c_encode = _make_metrics_encoder()


def _uniform_batch(steps, walls, metrics, counters):
    """The usual batch, every record with the same keys and float values, as columns
    ``(names, steps, walls, columns)`` with its steps assigned; None for any other batch. Built
    with C-level calls only: per-record Python work is what makes logging expensive."""
    names = tuple(metrics[0])
    # Same size and every name present means the same keys (itemgetter raises KeyError otherwise).
    # A name containing ": " could be mistaken for a value by the NaN/Infinity rewrite.
    if not names or set(map(len, metrics)) != {len(names)} or any(": " in name for name in names):
        return None
    try:
        values = list(map(itemgetter(*names), metrics))
    except KeyError:
        return None
    count = len(steps)
    if steps.count(None) == count:
        first = max([counters.get(name, 0) for name in names])
        steps = range(first, first + count)
    elif None in steps:
        return None
    columns = list(map(list, zip(*values))) if len(names) > 1 else [values]
    if not set(map(type, chain.from_iterable(columns))) <= {float, int}:
        return None
    following = max(steps) + 1
    for name in names:
        if counters.get(name, 0) < following:
            counters[name] = following
    return names, steps, walls, columns


def _format_uniform(names, steps, walls, columns):
    """Lines of a uniform batch through one C-level ``%`` over the whole batch."""
    encoded_names = [json.dumps(name).replace("%", "%%") for name in names]
    template = '{"step": %d, "wall": %d, "metrics": {' + ", ".join([name + ": %r" for name in encoded_names]) + "}}\n"
    text = (template * len(steps)) % tuple(chain.from_iterable(zip(steps, map(mul, walls, repeat(1000)), *columns)))
    total = sum(map(sum, columns))
    if total - total != 0:
        # repr() wrote nan/inf where Python's json writes NaN/Infinity; only values follow ": ".
        for python, javascript in (("nan", "NaN"), ("-inf", "-Infinity"), ("inf", "Infinity")):
            text = text.replace(": %s," % python, ": %s," % javascript).replace(": %s}" % python, ": %s}" % javascript)
    return text


def _serialize_each(steps, walls, metrics, counters):
    lines = []
    append = lines.append
    encode = _c_encode
    join = "".join
    for step, wall, record in zip(steps, walls, metrics):
        if step is None:
            step = 0
            for key in record:
                count = counters.get(key, 0)
                if count > step:
                    step = count
        following = step + 1
        for key in record:
            if counters.get(key, 0) < following:
                counters[key] = following
        try:
            encoded = join(encode(record, 0)) if encode else _encode_numbers(record)
        except (TypeError, ValueError, OverflowError):
            encoded = _encode_numbers(record)
        append('{"step": %d, "wall": %d, "metrics": %s}\n' % (step, wall * 1000, encoded))
    return "".join(lines)


def _encode_numbers(metrics):
    """The pure-Python path: every value through float(), those it rejects left out."""
    numbers = {}
    for key, value in metrics.items():
        if isinstance(value, (str, bytes, bool)):
            continue
        try:
            numbers[key] = float(value)
        except (TypeError, ValueError, OverflowError):
            continue
    return json.dumps(numbers)


_FRAME = struct.Struct("<IB")  # payload length, 1 when the sender waits for the write


def _start_helper(metrics_path):
    # Frozen or embedded interpreters (PyInstaller, uWSGI...) cannot run a script: format in-process.
    if getattr(sys, "frozen", False) or not os.path.basename(sys.executable or "").lower().startswith(("python", "pypy")):
        raise OSError("no Python interpreter to run the helper")
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = "import sys; sys.path.insert(0, sys.argv[1]); import runboard; runboard._serve_helper(sys.argv[2])"
    return subprocess.Popen(
        # Isolated, no site, no bytecode written beside the package (it may be read-only).
        [sys.executable, "-I", "-S", "-B", "-c", code, package_parent, metrics_path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
    )


def _serve_helper(metrics_path):
    """The helper process: formats the uniform batches it reads and appends them, until its input
    ends (every writer exited or died)."""
    # Ctrl-C reaches the whole process group; the helper still writes what it was sent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd = os.open(metrics_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    source = sys.stdin.buffer
    while True:
        header = source.read(_FRAME.size)
        if len(header) < _FRAME.size:
            break
        size, wait = _FRAME.unpack(header)
        payload = source.read(size)
        if len(payload) < size:
            break
        _write_all(fd, _format_uniform(*pickle.loads(payload)).encode("utf-8"))
        if wait:
            _write_all(1, b"\n")
    os.close(fd)


def _write_all(fd, data):
    # One O_APPEND write per batch, repeated only if the system cuts it short: lines from forked
    # workers never interleave mid-line.
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _end_partial_line(fd, path):
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            if file.tell() == 0:
                return
            file.seek(-1, os.SEEK_END)
            if file.read(1) != b"\n":
                _write_all(fd, b"\n")
    except OSError:
        pass


def _current():
    global _run, _append_step, _append_wall, _append_metrics
    if _run is not None:
        return _run
    with _start_lock:
        if _run is None:
            directory = os.environ.get("RUNBOARD_RUN_DIR")
            standalone = not directory
            if standalone:
                directory = _create_local_run()
            os.makedirs(directory, exist_ok=True)
            run = _Run(directory, standalone)
            _append_step, _append_wall, _append_metrics = run.steps.append, run.walls.append, run.metrics.append
            _run = run
            atexit.register(_at_exit)
            _chain_excepthook()
    return _run


def _create_local_run():
    home = os.environ.get("RUNBOARD_HOME") or os.path.join(os.getcwd(), ".runboard")
    name = "local-%s-%d" % (time.strftime("%Y%m%d-%H%M%S"), os.getpid())
    directory = os.path.join(home, "runs", name)
    os.makedirs(directory, exist_ok=True)
    _write_json_atomically(
        os.path.join(directory, "run.json"),
        {
            "name": name,
            "command": [sys.executable] + list(sys.argv),
            "cwd": os.getcwd(),
            "started": _now_ms(),
            "ended": None,
            "status": "running",
        },
    )
    return directory


def _update_run_json(directory, **changes):
    path = os.path.join(directory, "run.json")
    info = _read_json(path)
    info.update(changes)
    _write_json_atomically(path, info)


def _at_exit():
    if _run is not None:
        _run.close()


def _chain_excepthook():
    previous = sys.excepthook

    def hook(kind, value, traceback):
        if _run is not None:
            _run.outcome = "killed" if issubclass(kind, KeyboardInterrupt) else "failed"
        previous(kind, value, traceback)

    sys.excepthook = hook


def _after_fork_in_child():
    if _run is not None:
        _run.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _integer_step(step):
    if isinstance(step, float) and step.is_integer():
        return int(step)
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise TypeError("runboard.log: step must be an integer, not %r" % (step,))
    return step.__index__()


def _as_dict(value, caller):
    if not isinstance(value, dict):
        raise TypeError("runboard.%s expects a dict, not %s" % (caller, type(value).__name__))
    return {str(key): item for key, item in value.items()}


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as file:
            value = json.load(file)
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json_atomically(path, value):
    partial = os.path.join(os.path.dirname(path), ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(value, file, indent=2, default=str)
    os.replace(partial, path)


def _append(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _now_ms():
    return int(time.time() * 1000)
