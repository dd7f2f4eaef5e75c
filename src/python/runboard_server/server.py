"""Runboard model server: serves one registered model over HTTP on the loopback interface.

Standard library only (Python >= 3.8). Loads pickle/joblib models (anything with `predict`),
TorchScript when torch imports, ONNX when onnxruntime imports.

    python3 server.py --model PATH --name NAME --version 3 --port 0 --log requests.jsonl --token-sha256-fd 3

The server only checks the bearer token, so it is given the token's SHA-256, on an inherited pipe
(file descriptor 3 above): it shows neither in `ps` nor in /proc/PID/environ. Inside a container,
whose environment is its own, RUNBOARD_SERVER_TOKEN=... works too. Once listening, one JSON line
goes to stdout: {"event": "listening", "host": ..., "port": ..., "pid": ...}.

One event loop serves every connection, so slow or idle clients hold no thread: a request head
must arrive whole within --header-timeout seconds, and past --max-connections a new connection
closes the one that has waited longest without ever showing the token. Predictions run on worker
threads. Only requests that carry the token get a line in the request log; the others are counted
and summed up in one line a minute, so strangers can neither grow the log nor push real traffic out
of the part that the stats read. The log is capped at --log-max-bytes, with one older file (.1).

With --monitor-dir, every answered row gets an id (the answer's "ids") and is kept for monitoring
(monitoring.py: a ring of recent rows, per-window aggregates on the reference's bins); POST
/feedback {"ids": [...], "labels": [...]} records the truth for served rows. The reference comes
from --reference (a file of `runboard.log_reference`), else the first --baseline-rows rows served.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import os
import re
import signal
import sys
import time
from http import HTTPStatus

if __package__:
    from . import monitoring
else:  # run as a script: its folder is on sys.path
    import monitoring

MAX_BODY = 32 * 1024 * 1024
# Bytes read from a request that is refused anyway (no token) before the connection is dropped instead.
MAX_DRAIN = 64 * 1024
# Numbers kept per request in the log: enough for drift statistics, bounded for huge batches.
MAX_LOGGED_VALUES = 10000
# Request line and headers; a longer head is answered 431 and the connection closed.
MAX_HEAD = 16 * 1024
# Characters of a path written to the log.
MAX_LOGGED_PATH = 200
# Seconds a client with the token has to send its body and read the answer.
BODY_TIMEOUT = 120.0
# Seconds between summary lines of the requests that are not logged one by one.
SUMMARY_INTERVAL = 60.0
# File descriptors kept free of connections: the model's files, the log, the pipes.
RESERVED_FDS = 64


class BadInput(Exception):
    """The request is wrong: answered with 400 and the message."""


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def detect_flavor(path):
    lower = path.lower()
    if lower.endswith(".onnx"):
        return "onnx"
    if lower.endswith((".pt", ".pth", ".torchscript", ".ts")):
        return "torchscript"
    return "pickle"


class PickleModel:
    def __init__(self, path):
        try:
            import joblib  # joblib reads plain pickles too, and its own compressed files

            self.model = joblib.load(path)
        except ImportError:
            import pickle

            with open(path, "rb") as f:
                self.model = pickle.load(f)
        if not callable(getattr(self.model, "predict", None)):
            raise TypeError("the unpickled object (%s) has no predict method" % type(self.model).__name__)
        self.has_proba = callable(getattr(self.model, "predict_proba", None))
        self.task = "classification" if hasattr(self.model, "classes_") or self.has_proba else "regression"

    def predict(self, rows):
        out = {"predictions": jsonable(self.model.predict(rows))}
        if self.has_proba:
            out["probabilities"] = jsonable(self.model.predict_proba(rows))
        return out


class TorchScriptModel:
    task = "regression"

    def __init__(self, path):
        import torch

        self.torch = torch
        self.model = torch.jit.load(path, map_location="cpu")
        self.model.eval()

    def predict(self, rows):
        with self.torch.no_grad():
            result = self.model(self.torch.tensor(rows, dtype=self.torch.float32))
        return {"predictions": jsonable(result)}


class OnnxModel:
    task = "regression"

    def __init__(self, path):
        import numpy
        import onnxruntime

        self.numpy = numpy
        self.session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def predict(self, rows):
        outputs = self.session.run(None, {self.input_name: self.numpy.asarray(rows, dtype=self.numpy.float32)})
        out = {"predictions": jsonable(outputs[0])}
        # Classifiers converted from scikit-learn give (label, probabilities).
        if len(outputs) > 1:
            self.task = "classification"
            out["probabilities"] = jsonable(outputs[1])
        return out


def mlflow_pickle(folder):
    """The pickle of an MLflow model folder (registered through MLflow): the file its MLmodel names."""
    try:
        with open(os.path.join(folder, "MLmodel"), encoding="utf-8") as f:
            found = re.search(r"^\s+pickled_model:\s*(\S+)\s*$", f.read(), re.MULTILINE)
    except FileNotFoundError:
        raise ValueError("a folder that is not an MLflow model (it has no MLmodel file)")
    if not found or "/" in found.group(1) or not os.path.isfile(os.path.join(folder, found.group(1))):
        raise ValueError("an MLflow model without a scikit-learn pickle; serve it with a custom deploy target")
    return os.path.join(folder, found.group(1))


def load_model(path, flavor):
    if flavor == "onnx":
        return OnnxModel(path)
    if flavor == "torchscript":
        return TorchScriptModel(path)
    return PickleModel(mlflow_pickle(path) if os.path.isdir(path) else path)


def reject_constant(name):
    raise BadInput("%s is not allowed in instances" % name)


def parse_json_body(body):
    """A request body as JSON; NaN and Infinity, which Python's json would take, are refused."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("the body is not valid JSON: %s" % exc)


def parse_instances(body, categorical=frozenset()):
    """The rows of a /predict body. Values are finite numbers; null is a missing value (given to the
    model as NaN); strings only in the columns the reference has as categorical."""
    payload = parse_json_body(body)
    if not isinstance(payload, dict) or "instances" not in payload:
        raise BadInput('expected a JSON object {"instances": [[...], ...]}')
    rows = payload["instances"]
    if not isinstance(rows, list) or not rows:
        raise BadInput('"instances" must be a non-empty list of rows')
    width = None
    for i, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            raise BadInput("instances[%d] must be a non-empty list of numbers" % i)
        for j, value in enumerate(row):
            if value is None or (j in categorical and isinstance(value, str)):
                continue
            # bool is an int in Python; a JSON true is not a feature value.
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BadInput("instances[%d] holds %r, which is not a finite number" % (i, value))
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise BadInput("instances[%d] has %d values; instances[0] has %d" % (i, len(row), width))
    return rows


def model_input(rows):
    """Rows as the model takes them: a missing value (null) as NaN."""
    if not any(None in row for row in rows):
        return rows
    return [[float("nan") if v is None else v for v in row] for row in rows]


def parse_feedback(body):
    payload = parse_json_body(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("ids"), list) or not isinstance(payload.get("labels"), list):
        raise BadInput('expected a JSON object {"ids": [...], "labels": [...]}')
    ids, labels = payload["ids"], payload["labels"]
    if len(ids) != len(labels):
        raise BadInput('"ids" has %d items but "labels" has %d' % (len(ids), len(labels)))
    for i, label in enumerate(labels):
        if isinstance(label, (dict, list)) or label is None:
            raise BadInput("labels[%d] must be a number, a string or a boolean" % i)
    return ids, labels


class RequestLog:
    """JSON lines, capped: a line that would take the file past `max_bytes` first moves it to
    `<path>.1` (replacing the older one), so the log never holds more than twice the cap."""

    def __init__(self, path, max_bytes):
        self.path = path
        self.max_bytes = max_bytes
        self.size = os.path.getsize(path) if path and os.path.exists(path) else 0

    def write(self, record):
        if not self.path:
            return
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
        if self.size and self.size + len(line) > self.max_bytes:
            os.replace(self.path, self.path + ".1")
            self.size = 0
        with open(self.path, "ab") as f:
            f.write(line)
        self.size += len(line)


class Unlogged:
    """Requests without a line of their own (refused, health checks, abandoned heads): counted by
    outcome and written as one summary line, whose path is not /predict so the stats skip it."""

    def __init__(self, log):
        self.log = log
        self.counts = {}

    def count(self, outcome):
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def flush(self):
        if not self.counts:
            return
        summary = ", ".join("%d x %s" % (n, outcome) for outcome, n in sorted(self.counts.items()))
        self.log.write({"time": now_ms(), "method": "-", "path": "(not logged one by one: %s)" % summary, "status": 0,
                        "latency_ms": 0, "batch": 0, "refused": self.counts})
        self.counts = {}


def now_ms():
    return int(time.time() * 1000)


class Connection:
    def __init__(self, writer):
        self.writer = writer
        # Showed the token at least once: closed for capacity only after every stranger.
        self.trusted = False
        # Handling a request with the token: never closed for capacity.
        self.busy = False
        self.waiting_since = time.monotonic()

    def close(self):
        self.writer.transport.abort()


class Connections:
    """At most `limit` open connections. Past it, the connection that has waited longest for a
    request, strangers first, makes room; a client sending a request at once is served."""

    def __init__(self, limit):
        self.limit = limit
        self.open = set()

    def admit(self, conn):
        if len(self.open) >= self.limit:
            idle = [c for c in self.open if not c.busy]
            if not idle:
                return False
            victim = min(idle, key=lambda c: (c.trusted, c.waiting_since))
            self.open.discard(victim)
            victim.close()
        self.open.add(conn)
        return True

    def remove(self, conn):
        self.open.discard(conn)


class Request:
    def __init__(self, method, path, version, headers):
        self.method = method
        self.path = path
        self.headers = headers
        self.keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        self.started = time.perf_counter()


class Refuse(Exception):
    """A request that cannot be read: answered with `status` (when given) and the connection closed."""

    def __init__(self, outcome, status=None):
        super().__init__(outcome)
        self.outcome = outcome
        self.status = status


def parse_head(head):
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise Refuse("400", 400)
    headers = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise Refuse("400", 400)
        headers[name.strip().lower()] = value.strip()
    return Request(parts[0], parts[1], parts[2], headers)


def content_length(request):
    """The body's size; -1 when it is not given as a plain Content-Length (chunked bodies are not read)."""
    if "transfer-encoding" in request.headers:
        return -1
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else -1


class ModelServer:
    def __init__(self, model, meta, token_sha256, log, header_timeout, max_connections, monitor=None):
        self.model = model
        self.monitor = monitor
        self.meta = meta
        self.token_sha256 = token_sha256
        self.log = log
        self.unlogged = Unlogged(log)
        self.header_timeout = header_timeout
        self.connections = Connections(max_connections)

    def authorized(self, request):
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return False
        # latin-1 gives back the bytes the client sent, which the deployer hashed as UTF-8.
        given = hashlib.sha256(header[len("Bearer "):].encode("latin-1")).hexdigest()
        return hmac.compare_digest(given, self.token_sha256)

    async def serve(self, reader, writer):
        conn = Connection(writer)
        if not self.connections.admit(conn):
            conn.close()
            return
        first = True
        # Closed gracefully after an answer (so its end still goes out), else dropped at once.
        answered = False
        try:
            while True:
                conn.busy = False
                conn.waiting_since = time.monotonic()
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.header_timeout)
                except asyncio.TimeoutError:
                    # A kept-alive connection that goes quiet is normal; a first request never finished is not.
                    if first:
                        self.unlogged.count("head not sent in time")
                    return
                except asyncio.LimitOverrunError:
                    raise Refuse("431", 431)
                first = False
                request = parse_head(head)
                if not await self.handle(request, reader, writer, conn):
                    answered = True
                    return
        except Refuse as refused:
            self.unlogged.count(refused.outcome)
            if refused.status is not None:
                writer.write(response(refused.status, {"error": HTTPStatus(refused.status).phrase.lower()}, keep_alive=False))
                answered = True
        except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
            pass
        except asyncio.CancelledError:
            # The server is stopping: asyncio.run cancels this task. Ending it normally keeps
            # asyncio from printing the cancellation as an unhandled error.
            pass
        finally:
            self.connections.remove(conn)
            if answered:
                writer.close()
            else:
                conn.close()

    async def handle(self, request, reader, writer, conn):
        """Answers one request; whether the connection may serve another."""
        if request.method == "GET" and request.path == "/health":
            # Health carries no secret, so probes (Kubernetes, load balancers) need no token.
            await self.drain(request, reader)
            self.unlogged.count("health")
            return await self.send(writer, 200, dict(self.meta, status="ok"), request.keep_alive)
        if not self.authorized(request):
            await self.drain(request, reader)
            if request.method == "POST" and request.path in ("/predict", "/feedback"):
                self.unlogged.count("401")
                return await self.send(writer, 401, {"error": "missing or wrong bearer token"}, request.keep_alive)
            self.unlogged.count("404")
            return await self.send(writer, 404, {"error": "unknown path; use POST /predict or GET /health"}, request.keep_alive)
        conn.trusted = True
        # Only a token holder's request keeps its connection from being closed for capacity.
        conn.busy = True
        handler = {"/predict": self.predict, "/feedback": self.feedback}.get(request.path) if request.method == "POST" else None
        if handler is None or (handler == self.feedback and self.monitor is None):
            await self.drain(request, reader)
            return await self.answer(writer, request, 404, {"error": "unknown path %s; use POST /predict, POST /feedback or GET /health" % request.path[:MAX_LOGGED_PATH]})
        length = content_length(request)
        if length < 0:
            request.keep_alive = False
            return await self.answer(writer, request, 411, {"error": "a Content-Length header with the body's size is required"})
        if length > MAX_BODY:
            request.keep_alive = False
            return await self.answer(writer, request, 413, {"error": "the body is larger than %d bytes" % MAX_BODY})
        body = await asyncio.wait_for(reader.readexactly(length), BODY_TIMEOUT)
        status, payload, rows = await asyncio.get_running_loop().run_in_executor(None, handler, body)
        return await self.answer(writer, request, status, payload, rows)

    def feedback(self, body):
        """On a worker thread: records labels of served rows; unknown ids are listed, the rest kept."""
        try:
            ids, labels = parse_feedback(body)
        except BadInput as exc:
            return 400, encode({"error": str(exc)}), None
        recorded, unknown = self.monitor.feedback(ids, labels)
        return 200, encode({"recorded": recorded, "unknown": unknown}), None

    def predict(self, body):
        """On a worker thread: (status, encoded answer, rows) for a /predict body."""
        rows = None
        try:
            rows = parse_instances(body, self.monitor.categorical_columns() if self.monitor else frozenset())
            status, payload = 200, self.model.predict(model_input(rows))
            if self.monitor is not None:
                payload["ids"] = self.monitor.record_rows(rows, payload["predictions"], payload.get("probabilities"))
        except BadInput as exc:
            status, payload = 400, {"error": str(exc)}
        except (ValueError, TypeError) as exc:
            # scikit-learn reports a wrong feature count and the like this way.
            status, payload = 400, {"error": "the model rejected the input: %s" % exc}
        except Exception as exc:  # a failing model must not take the server down
            status, payload = 500, {"error": "prediction failed: %s: %s" % (type(exc).__name__, exc)}
        try:
            return status, encode(payload), rows
        except (TypeError, ValueError) as exc:
            return 500, encode({"error": "the model's output cannot be sent as JSON: %s" % exc}), rows

    async def drain(self, request, reader):
        """Reads a small unwanted body so the connection stays usable; a large one closes it."""
        length = content_length(request)
        if length == 0 or (length < 0 and request.method == "GET"):
            return
        if length < 0 or length > MAX_DRAIN:
            request.keep_alive = False
            return
        await asyncio.wait_for(reader.readexactly(length), self.header_timeout)

    async def answer(self, writer, request, status, payload, rows=None):
        """Answers a request that carried the token: logged before the answer goes out, so a client
        that has its answer finds it in the log."""
        record = {
            "time": now_ms(),
            "method": request.method[:16],
            "path": request.path[:MAX_LOGGED_PATH],
            "status": status,
            "latency_ms": round((time.perf_counter() - request.started) * 1000, 3),
            "batch": len(rows) if rows is not None else 0,
        }
        if self.monitor is not None and request.path == "/predict":
            record["window"] = self.monitor.record_request(record["latency_ms"], status < 400)
        if rows is not None:
            if sum(len(r) for r in rows) <= MAX_LOGGED_VALUES:
                record["inputs"] = rows
            else:
                record["inputs_truncated"] = True
        self.log.write(record)
        return await self.send(writer, status, payload, request.keep_alive)

    async def send(self, writer, status, payload, keep_alive):
        writer.write(response(status, payload, keep_alive))
        await asyncio.wait_for(writer.drain(), BODY_TIMEOUT)
        return keep_alive

    async def summarize(self):
        while True:
            await asyncio.sleep(SUMMARY_INTERVAL)
            self.unlogged.flush()

    async def close_old_windows(self):
        while True:
            await asyncio.sleep(1.0)
            self.monitor.tick()


def response(status, payload, keep_alive):
    """The bytes of an answer; `payload` is a JSON-able value or already encoded."""
    body = payload if isinstance(payload, bytes) else encode(payload)
    head = "HTTP/1.1 %d %s\r\nServer: runboard-server\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n" % (
        status, HTTPStatus(status).phrase, len(body), "" if keep_alive else "Connection: close\r\n")
    return head.encode("latin-1") + body


def encode(payload):
    return json.dumps(payload, allow_nan=False).encode("utf-8")


TOKEN_SHA256 = re.compile(r"[0-9a-f]{64}")


def connection_limit(wanted):
    """`wanted`, or fewer when the open-file limit (first raised toward its hard maximum) is lower."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + RESERVED_FDS
    if soft != resource.RLIM_INFINITY and soft < need:
        raised = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else max(1, min(wanted, soft - RESERVED_FDS))


def expected_token_sha256(fd):
    """The token's SHA-256 (hex) from the pipe `fd`, else hashed from RUNBOARD_SERVER_TOKEN; "" when neither."""
    if fd is not None:
        with os.fdopen(fd, "r", encoding="ascii", errors="replace") as pipe:
            value = pipe.read(128).strip()
        return value if TOKEN_SHA256.fullmatch(value) else ""
    token = os.environ.pop("RUNBOARD_SERVER_TOKEN", "")
    return hashlib.sha256(token.encode("utf-8")).hexdigest() if token else ""


def start_monitor(args, model):
    """The monitor of --monitor-dir (None without one), its reference read and binned."""
    if not args.monitor_dir:
        return None
    reference = monitoring.read_reference(args.reference) if args.reference else None
    return monitoring.Monitor(args.monitor_dir, reference=reference, baseline_rows=args.baseline_rows, window_rows=args.window_rows,
                              window_seconds=args.window_seconds, ring_max_bytes=args.ring_max_bytes, predict=lambda rows: model.predict(model_input(rows))["predictions"],
                              task=getattr(model, "task", "regression"))


async def serve(args, model, meta, token_sha256, monitor):
    log = RequestLog(args.log, args.log_max_bytes)
    server = ModelServer(model, meta, token_sha256, log, args.header_timeout, connection_limit(args.max_connections), monitor)
    try:
        listener = await asyncio.start_server(server.serve, args.host, args.port, limit=MAX_HEAD, backlog=1024)
    except OSError as exc:
        emit({"event": "error", "message": "cannot listen on %s:%d: %s" % (args.host, args.port, exc)})
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def request_stop(_signum, _frame):
        # signal.signal rather than loop.add_signal_handler, which Windows lacks.
        loop.call_soon_threadsafe(stop.set)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    timers = [asyncio.ensure_future(server.summarize())]
    if monitor is not None:
        timers.append(asyncio.ensure_future(server.close_old_windows()))
    emit({"event": "listening", "host": args.host, "port": listener.sockets[0].getsockname()[1], "pid": os.getpid()})
    await stop.wait()
    listener.close()
    for timer in timers:
        timer.cancel()
    server.unlogged.flush()
    if monitor is not None:
        monitor.close()
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve one model over HTTP.")
    parser.add_argument("--model", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 unless inside a container")
    parser.add_argument("--log", default="", help="JSON-lines request log")
    parser.add_argument("--log-max-bytes", type=int, default=16 * 1024 * 1024, help="size at which the log moves to LOG.1")
    parser.add_argument("--flavor", choices=["pickle", "onnx", "torchscript"], default=None)
    parser.add_argument("--header-timeout", type=float, default=10.0,
                        help="seconds a connection has to send a whole request head (also the longest it may idle between requests)")
    parser.add_argument("--max-connections", type=int, default=4096, help="connections open at once")
    parser.add_argument("--token-sha256-fd", type=int, default=None, help="inherited file descriptor to read the token's SHA-256 from")
    parser.add_argument("--monitor-dir", default="", help="folder for monitoring data (rows ring, window aggregates, feedback); off without one")
    parser.add_argument("--reference", default="", help="reference file written by runboard.log_reference")
    parser.add_argument("--baseline-rows", type=int, default=500, help="without a reference, the first rows served that become one")
    parser.add_argument("--window-rows", type=int, default=1000, help="rows per monitoring window")
    parser.add_argument("--window-seconds", type=float, default=60.0, help="longest a monitoring window stays open")
    parser.add_argument("--ring-max-bytes", type=int, default=8 * 1024 * 1024, help="size at which the ring of served rows moves to .1")
    args = parser.parse_args(argv)

    token_sha256 = expected_token_sha256(args.token_sha256_fd)
    if not token_sha256:
        emit({"event": "error", "message": "no token: give its SHA-256 on --token-sha256-fd or set RUNBOARD_SERVER_TOKEN; refusing to serve without one"})
        return 2
    flavor = args.flavor or detect_flavor(args.model)
    try:
        model = load_model(args.model, flavor)
    except ImportError as exc:
        emit({"event": "error", "message": "cannot load a %s model with %s: %s" % (flavor, sys.executable, exc)})
        return 2
    except Exception as exc:  # reported to the deployer as one line
        emit({"event": "error", "message": "cannot load %s: %s: %s" % (args.model, type(exc).__name__, exc)})
        return 2
    try:
        monitor = start_monitor(args, model)
    except Exception as exc:  # reported to the deployer as one line
        emit({"event": "error", "message": "cannot start monitoring: %s: %s" % (type(exc).__name__, exc)})
        return 2
    return asyncio.run(serve(args, model, {"name": args.name, "version": args.version, "flavor": flavor}, token_sha256, monitor))


if __name__ == "__main__":
    sys.exit(main())
