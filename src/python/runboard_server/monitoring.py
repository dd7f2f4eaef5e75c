"""What the model server keeps of the traffic it serves, for `runboard monitor` (standard library only).

Everything lives in one folder (the deployment's ``monitor/``), written only by this process and
only read by Runboard:

* ``profile.json``: the reference, reduced to what drift needs, written once (atomically) when the
  reference is known: at start from a training reference, or after the first ``baseline_rows``
  rows served without one. Per numeric feature the edges of its 40 reference quantile bins
  (``edges``; every 4th quantile is a decile edge, listed in ``coarse``) and the reference's
  counts on them; per categorical feature its categories and counts; the reference's prediction
  distribution (classes, or bins of a regressor's output).
* ``windows.jsonl``: one line per closed window (``window_rows`` rows or ``window_seconds``,
  whichever comes first): traffic, a latency histogram, per feature count/missing/out of
  range/min/max and the counts on the reference's bins (or per category), the prediction
  histogram. Aggregates, so a million rows are a thousand lines.
* ``rows.jsonl``: the ring of recent rows ``{"id", "t", "x", "y"[, "p"]}`` (inputs, prediction,
  class probabilities), capped at ``ring_max_bytes`` with one older file (``.1``).
* ``feedback.jsonl``: ``{"id", "t", "label", "prediction"}`` per label received, capped the same way.

Files are opened with O_NOFOLLOW: a symlink planted in the folder is refused, never written through.
"""

import bisect
import json
import math
import os
import threading
import time
from collections import deque

FINE_BINS = 40
# Every COARSE_EVERY-th fine quantile is a decile: PSI and histograms use deciles, KS the fine bins.
COARSE_EVERY = 4
# Latency histogram: bucket k holds latencies in [LATENCY_BASE * 1.05^k, LATENCY_BASE * 1.05^(k+1)) ms.
LATENCY_BASE = 0.01
LATENCY_GROWTH = math.log(1.05)
# Served predictions remembered for /feedback (by id); older ids are reported unknown.
FEEDBACK_MEMORY = 200000
REFERENCE_LIMIT = 10000
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def now_ms():
    return int(time.time() * 1000)


def label_key(value):
    """A prediction or label as a histogram key: integral numbers without ".0", so 1 and 1.0 agree."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def quantile(sorted_values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    position = q * (len(sorted_values) - 1)
    low = int(math.floor(position))
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def numeric_bins(values):
    """(fine edges, coarse edges) of a reference column's quantile bins; duplicates dropped, so a
    column with few distinct values gets fewer bins. A value v falls in bin bisect_right(edges, v)."""
    ordered = sorted(values)
    if not ordered:
        return [], []
    fine, coarse = [], []
    for k in range(1, FINE_BINS):
        edge = quantile(ordered, k / FINE_BINS)
        if not fine or edge > fine[-1]:
            fine.append(edge)
        if k % COARSE_EVERY == 0 and (not coarse or edge > coarse[-1]):
            coarse.append(edge)
    return fine, coarse


def is_missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def build_profile(names, rows, predictions, source, baseline_rows, last_baseline_id, task, created_at):
    """The reference reduced to bins and counts (see the module's docstring)."""
    features = []
    for j, name in enumerate(names):
        column = [row[j] if j < len(row) else None for row in rows]
        present = [v for v in column if not is_missing(v)]
        missing = len(column) - len(present)
        if any(isinstance(v, str) for v in present):
            counts = {}
            for v in present:
                key = label_key(v)
                counts[key] = counts.get(key, 0) + 1
            categories = sorted(counts)
            features.append({"name": name, "kind": "categorical", "categories": categories,
                             "reference": [counts[c] for c in categories], "missing": missing})
        else:
            numbers = [float(v) for v in present]
            fine, coarse = numeric_bins(numbers)
            reference = [0] * (len(fine) + 1)
            for v in numbers:
                reference[bisect.bisect_right(fine, v)] += 1
            features.append({"name": name, "kind": "numeric", "edges": fine, "coarse": coarse, "reference": reference,
                             "min": min(numbers) if numbers else None, "max": max(numbers) if numbers else None,
                             "missing": missing})
    return {
        "format": "runboard.monitor-profile/1",
        "source": source,
        "rows": len(rows),
        "createdAt": created_at,
        "baselineRows": baseline_rows,
        "lastBaselineId": last_baseline_id,
        "task": task,
        "features": features,
        "prediction": prediction_profile(predictions, task),
    }


def prediction_profile(predictions, task):
    if not predictions:
        return None
    if task == "classification":
        counts = {}
        for p in predictions:
            key = label_key(p)
            counts[key] = counts.get(key, 0) + 1
        labels = sorted(counts)
        return {"kind": "classes", "labels": labels, "reference": [counts[k] for k in labels]}
    numbers = [float(p) for p in predictions if isinstance(p, (int, float)) and not is_missing(p)]
    fine, coarse = numeric_bins(numbers)
    reference = [0] * (len(fine) + 1)
    for v in numbers:
        reference[bisect.bisect_right(fine, v)] += 1
    return {"kind": "numeric", "edges": fine, "coarse": coarse, "reference": reference}


def read_reference(path):
    """The reference file `runboard.log_reference` writes: {"features", "rows", "labels"?}."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict) or not isinstance(data.get("rows"), list) or not isinstance(data.get("features"), list):
        raise ValueError("%s is not a Runboard reference (expected {\"features\": [...], \"rows\": [...]})" % path)
    return [str(n) for n in data["features"]], data["rows"][:REFERENCE_LIMIT]


class CappedFile:
    """An append-only file that moves to ``<path>.1`` (replacing the older one) before a write would
    take it past ``max_bytes``: at most twice the cap on disk. Kept open; flushed per write, so a
    reader sees every whole line."""

    def __init__(self, path, max_bytes):
        self.path = path
        self.max_bytes = max_bytes
        self.file = None
        self.size = 0

    def open(self):
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW, 0o644)
        self.file = os.fdopen(fd, "ab")
        self.size = self.file.seek(0, os.SEEK_END)

    def write(self, data):
        if self.file is None:
            self.open()
        if self.size and self.size + len(data) > self.max_bytes:
            self.file.close()
            os.replace(self.path, self.path + ".1")
            self.open()
        self.file.write(data)
        self.file.flush()
        self.size += len(data)

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


def write_json_atomically(folder, name, value):
    partial = os.path.join(folder, ".%s.%d.tmp" % (name, os.getpid()))
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(value, f, separators=(",", ":"))
    os.replace(partial, os.path.join(folder, name))


class Window:
    """Aggregates of the rows and requests since the last window closed."""

    def __init__(self, index, profile, started):
        self.index = index
        self.started = started
        self.first_id = None
        self.last_id = None
        self.rows = 0
        self.requests = 0
        self.errors = 0
        self.latency = {}
        self.features = None
        self.prediction = None
        if profile is not None:
            self.features = []
            for f in profile["features"]:
                if f["kind"] == "numeric":
                    # count, missing, out of range, min, max, counts on the fine bins
                    self.features.append([0, 0, 0, None, None, [0] * (len(f["edges"]) + 1)])
                else:
                    # count, missing, unseen, category counts
                    self.features.append([0, 0, 0, {}])
            p = profile["prediction"]
            self.prediction = {} if p is None or p["kind"] == "classes" else [0] * (len(p["edges"]) + 1)

    def record(self, ended):
        return {"index": self.index, "from": self.started, "to": ended, "firstId": self.first_id, "lastId": self.last_id,
                "rows": self.rows, "requests": self.requests, "errors": self.errors, "latency": self.latency,
                "features": self.features, "prediction": self.prediction}


class Monitor:
    """Thread-safe: rows are recorded from the prediction threads, traffic from the event loop.

    ``clock`` gives epoch milliseconds (tests pass their own to close windows by time without waiting)."""

    def __init__(self, folder, reference=None, baseline_rows=500, window_rows=1000, window_seconds=60.0,
                 ring_max_bytes=8 * 1024 * 1024, predict=None, task="classification", clock=now_ms):
        self.folder = folder
        self.clock = clock
        self.lock = threading.Lock()
        self.window_rows = window_rows
        self.window_seconds = window_seconds
        self.task = task
        self.baseline_rows = max(1, baseline_rows)
        self.baseline = None
        self.profile = None
        self.next_id = 1
        # Predictions of recent ids, for /feedback: ids [memory_base, memory_base + len(memory)).
        self.memory = deque()
        self.memory_base = 1
        self.ring = CappedFile(os.path.join(folder, "rows.jsonl"), ring_max_bytes)
        self.feedback_log = CappedFile(os.path.join(folder, "feedback.jsonl"), ring_max_bytes)
        self.windows = CappedFile(os.path.join(folder, "windows.jsonl"), 64 * 1024 * 1024)
        self.window_index = 0
        # Opened now, so a symlink planted in the folder stops the server at start, not a request later.
        for f in (self.ring, self.feedback_log, self.windows):
            f.open()
        if reference is not None:
            names, rows = reference
            predictions = predict(rows) if predict is not None and rows else []
            self.set_profile(build_profile(names, rows, predictions, "training", None, None, task, clock()))
        else:
            self.baseline = ([], [])
        self.window = Window(self.window_index, self.profile, clock())
        self.encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode

    def set_profile(self, profile):
        self.profile = profile
        self.numeric = [(j, f["edges"], f["min"], f["max"]) for j, f in enumerate(profile["features"]) if f["kind"] == "numeric"]
        self.categorical = [(j, set(f["categories"])) for j, f in enumerate(profile["features"]) if f["kind"] == "categorical"]
        self.width = len(profile["features"])
        p = profile["prediction"]
        self.prediction_edges = p["edges"] if p is not None and p["kind"] == "numeric" else None
        write_json_atomically(self.folder, "profile.json", profile)

    def categorical_columns(self):
        """Columns whose values may be strings (the reference's categorical features)."""
        return {j for j, _ in self.categorical} if self.profile is not None else set()

    def record_rows(self, rows, predictions, probabilities):
        """Gives the rows of one answered request their ids and aggregates them; returns the ids."""
        with self.lock:
            first = self.next_id
            count = len(rows)
            self.next_id += count
            ids = list(range(first, first + count))
            t = self.clock()
            w = self.window
            if w.first_id is None:
                w.first_id = first
            w.last_id = first + count - 1
            w.rows += count
            lines = []
            for i, row in enumerate(rows):
                prediction = predictions[i] if i < len(predictions) else None
                line = {"id": first + i, "t": t, "x": row, "y": prediction}
                if probabilities is not None and i < len(probabilities):
                    line["p"] = probabilities[i]
                lines.append(self.encode(line))
                self.memory.append(prediction)
            while len(self.memory) > FEEDBACK_MEMORY:
                self.memory.popleft()
                self.memory_base += 1
            self.ring.write(("\n".join(lines) + "\n").encode("utf-8"))
            taken = self.collect_baseline(rows, predictions, first) if self.baseline is not None else 0
            w = self.window
            if w.features is not None:
                for i in range(taken, count):
                    self.aggregate(w, rows[i], predictions[i] if i < len(predictions) else None)
            return ids

    def aggregate(self, w, row, prediction):
        if len(row) != self.width:
            return
        features = w.features
        for j, edges, low, high in self.numeric:
            value = row[j]
            agg = features[j]
            agg[0] += 1
            if value is None or value != value:
                agg[1] += 1
                continue
            if (low is not None and value < low) or (high is not None and value > high):
                agg[2] += 1
            if agg[3] is None or value < agg[3]:
                agg[3] = value
            if agg[4] is None or value > agg[4]:
                agg[4] = value
            agg[5][bisect.bisect_right(edges, value)] += 1
        for j, known in self.categorical:
            value = row[j]
            agg = features[j]
            agg[0] += 1
            if value is None:
                agg[1] += 1
                continue
            key = label_key(value)
            if key not in known:
                agg[2] += 1
            agg[3][key] = agg[3].get(key, 0) + 1
        if self.prediction_edges is None:
            key = label_key(prediction)
            w.prediction[key] = w.prediction.get(key, 0) + 1
        elif isinstance(prediction, (int, float)):
            w.prediction[bisect.bisect_right(self.prediction_edges, prediction)] += 1

    def collect_baseline(self, rows, predictions, first_id):
        """Adds rows to the baseline until it is complete, then makes it the reference; returns how
        many of `rows` it took (the rest are served after the baseline and aggregated)."""
        baseline_rows, baseline_predictions = self.baseline
        taken = min(len(rows), self.baseline_rows - len(baseline_rows))
        baseline_rows.extend(rows[:taken])
        baseline_predictions.extend(predictions[:taken])
        if len(baseline_rows) < self.baseline_rows:
            return taken
        names = ["f%d" % j for j in range(len(baseline_rows[0]))]
        last_id = first_id + taken - 1
        self.set_profile(build_profile(names, baseline_rows, baseline_predictions, "baseline", self.baseline_rows, last_id, self.task,
                                       self.clock()))
        self.baseline = None
        # Drift starts after the baseline: the open window aggregates its later rows from here on.
        fresh = Window(self.window.index, self.profile, self.window.started)
        for key in ("started", "first_id", "last_id", "rows", "requests", "errors", "latency"):
            setattr(fresh, key, getattr(self.window, key))
        self.window = fresh
        return taken

    def record_request(self, latency_ms, ok):
        """Traffic of one /predict request (after its rows); closes the window when it is full or old.
        Returns the index of the window it was counted in."""
        with self.lock:
            w = self.window
            w.requests += 1
            if not ok:
                w.errors += 1
            bucket = int(math.log(max(latency_ms, LATENCY_BASE) / LATENCY_BASE) / LATENCY_GROWTH)
            w.latency[bucket] = w.latency.get(bucket, 0) + 1
            index = w.index
            if w.rows >= self.window_rows:
                self.close_window()
            return index

    def tick(self):
        """Closes a window older than window_seconds (called by the server's timer)."""
        with self.lock:
            if self.window.requests and self.clock() - self.window.started >= self.window_seconds * 1000:
                self.close_window()

    def close_window(self):
        ended = self.clock()
        self.windows.write((json.dumps(self.window.record(ended), separators=(",", ":")) + "\n").encode("utf-8"))
        self.window_index += 1
        self.window = Window(self.window_index, self.profile, ended)

    def feedback(self, ids, labels):
        """Records labels of served rows; returns (recorded count, unknown ids)."""
        unknown = []
        lines = []
        t = self.clock()
        with self.lock:
            for row_id, label in zip(ids, labels):
                index = row_id - self.memory_base if isinstance(row_id, int) and not isinstance(row_id, bool) else -1
                if index < 0 or index >= len(self.memory):
                    unknown.append(row_id)
                    continue
                lines.append(json.dumps({"id": row_id, "t": t, "label": label, "prediction": self.memory[index]}, separators=(",", ":")))
            if lines:
                self.feedback_log.write(("\n".join(lines) + "\n").encode("utf-8"))
        return len(lines), unknown

    def close(self):
        with self.lock:
            if self.window.requests:
                self.close_window()
            for f in (self.ring, self.feedback_log, self.windows):
                f.close()
