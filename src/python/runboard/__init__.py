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
"""

import atexit
import json
import math
import os
import shutil
import sys
import threading
import time

__all__ = ["log", "log_params", "log_artifact", "set_tags", "flush", "run_dir"]

ARTIFACT_KINDS = ("model", "data", "plot", "other")
FLUSH_INTERVAL_S = 1.0

_run = None
_start_lock = threading.Lock()


def log(step=None, **metrics):
    """Records metric values at ``step``.

    Without a step, each key counts its own calls (the n-th ``loss`` is step n); keys logged
    together share the largest of their counters. Values are converted with ``float()`` when
    written, so numpy and torch scalars work. Cheap: the call only appends to a buffer that a
    background thread writes out every second (and at exit).
    """
    run = _run or _current()
    counters = run.next_step
    if step is None:
        step = 0
        for key in metrics:
            count = counters.get(key, 0)
            if count > step:
                step = count
    elif type(step) is not int:
        step = _integer_step(step)
    following = step + 1
    for key in metrics:
        if counters.get(key, 0) < following:
            counters[key] = following
    run.buffer.append((step, time.time(), metrics))
    if run.first_log:
        # The first record is written at once so Runboard learns early that this key comes from
        # the client (console lines for the same key are then ignored).
        run.first_log = False
        run.flush()


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


def flush():
    """Writes buffered metrics now (also done every second and at exit)."""
    if _run is not None:
        _run.flush()


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
        # (step, wall seconds, metrics): appended by log(), taken from the front by flush().
        self.buffer = []
        self.next_step = {}
        self.first_log = True
        self.params = _read_json(os.path.join(directory, "params.json"))
        self.tags = _read_json(os.path.join(directory, "tags.json"))
        self.lock = threading.Lock()
        self.failed = False
        self.metrics_fd = os.open(os.path.join(directory, "metrics.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.key_json = {}
        self.stopped = threading.Event()
        self.thread = None
        self._start_thread()

    def _start_thread(self):
        self.thread = threading.Thread(target=self._flush_periodically, name="runboard-flush", daemon=True)
        self.thread.start()

    def _flush_periodically(self):
        while not self.stopped.wait(FLUSH_INTERVAL_S):
            self.flush()

    def flush(self):
        with self.lock:
            buffer = self.buffer
            # log() only appends, so the first `count` records can be taken without stopping it.
            count = len(buffer)
            if count == 0:
                return
            records = buffer[:count]
            del buffer[:count]
            data = "".join([self._line(*record) for record in records]).encode("utf-8")
            # One O_APPEND write: lines from forked workers never interleave mid-line.
            while data:
                written = os.write(self.metrics_fd, data)
                data = data[written:]

    def _line(self, step, wall, metrics):
        parts = []
        for key, value in metrics.items():
            encoded = self.key_json.get(key)
            if encoded is None:
                encoded = self.key_json[key] = json.dumps(key)
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue
            if number != number:
                text = "NaN"
            elif number in (math.inf, -math.inf):
                text = "Infinity" if number > 0 else "-Infinity"
            else:
                text = repr(number)
            parts.append(encoded + ": " + text)
        return '{"step": %d, "wall": %d, "metrics": {%s}}\n' % (step, int(wall * 1000), ", ".join(parts))

    def close(self):
        self.stopped.set()
        self.flush()
        os.close(self.metrics_fd)
        if self.standalone and os.getpid() == self.owner_pid:
            _update_run_json(self.dir, ended=_now_ms(), status="failed" if self.failed else "finished")

    def after_fork(self):
        # The parent writes its own buffer; the child starts empty with its own flusher thread.
        self.buffer = []
        self.first_log = True
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self._start_thread()


def _current():
    global _run
    if _run is not None:
        return _run
    with _start_lock:
        if _run is None:
            directory = os.environ.get("RUNBOARD_RUN_DIR")
            standalone = not directory
            if standalone:
                directory = _create_local_run()
            os.makedirs(directory, exist_ok=True)
            _run = _Run(directory, standalone)
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
            _run.failed = True
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
        os.write(fd, data)
    finally:
        os.close(fd)


def _now_ms():
    return int(time.time() * 1000)
