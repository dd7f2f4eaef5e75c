"""Runboard model server: serves one registered model over HTTP on the loopback interface.

Standard library only (Python >= 3.8). Loads pickle/joblib models (anything with `predict`),
TorchScript when torch imports, ONNX when onnxruntime imports.

    RUNBOARD_SERVER_TOKEN=... python3 server.py --model PATH --name NAME --version 3 --port 0 --log requests.jsonl

The token comes from the environment only, so it never shows in `ps`. Once listening, one JSON line
goes to stdout: {"event": "listening", "host": ..., "port": ..., "pid": ...}.
"""

import argparse
import hmac
import json
import math
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 32 * 1024 * 1024
# Bytes read from a request that is refused anyway (no token) before the connection is dropped instead.
MAX_DRAIN = 64 * 1024
# Numbers kept per request in the log: enough for drift statistics, bounded for huge batches.
MAX_LOGGED_VALUES = 10000


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

    def predict(self, rows):
        out = {"predictions": jsonable(self.model.predict(rows))}
        if self.has_proba:
            out["probabilities"] = jsonable(self.model.predict_proba(rows))
        return out


class TorchScriptModel:
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
            out["probabilities"] = jsonable(outputs[1])
        return out


def load_model(path, flavor):
    if flavor == "onnx":
        return OnnxModel(path)
    if flavor == "torchscript":
        return TorchScriptModel(path)
    return PickleModel(path)


def reject_constant(name):
    raise BadInput("%s is not allowed in instances" % name)


def parse_instances(body):
    try:
        payload = json.loads(body.decode("utf-8"), parse_constant=reject_constant)
    except BadInput:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput("the body is not valid JSON: %s" % exc)
    if not isinstance(payload, dict) or "instances" not in payload:
        raise BadInput('expected a JSON object {"instances": [[...], ...]}')
    rows = payload["instances"]
    if not isinstance(rows, list) or not rows:
        raise BadInput('"instances" must be a non-empty list of rows')
    width = None
    for i, row in enumerate(rows):
        if not isinstance(row, list) or not row:
            raise BadInput("instances[%d] must be a non-empty list of numbers" % i)
        for value in row:
            # bool is an int in Python; a JSON true is not a feature value.
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BadInput("instances[%d] holds %r, which is not a finite number" % (i, value))
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise BadInput("instances[%d] has %d values; instances[0] has %d" % (i, len(row), width))
    return rows


class RequestLog:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def write(self, record):
        if not self.path:
            return
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self.lock:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)


class BoundedServer(ThreadingHTTPServer):
    """A thread per connection, but at most `max_connections` at once: past that a connection is
    closed at once, so idle or slow clients cannot exhaust threads and file descriptors."""

    daemon_threads = True

    def __init__(self, address, handler, max_connections):
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def make_handler(model, meta, token, log, idle_timeout=30.0):
    expected = ("Bearer " + token).encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "runboard-server"
        # A connection that sends nothing (or trickles a request) is closed after this many seconds.
        timeout = idle_timeout

        def log_message(self, format, *args):
            # The request log replaces the default lines on stderr.
            pass

        def reply(self, started, status, payload, rows=None):
            try:
                body = json.dumps(payload, allow_nan=False).encode("utf-8")
            except (TypeError, ValueError) as exc:
                status = 500
                body = json.dumps({"error": "the model's output cannot be sent as JSON: %s" % exc}).encode("utf-8")
            # Logged before the answer goes out, so a client that has its answer finds it in the log.
            self.record(started, status, rows)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def record(self, started, status, rows=None):
            record = {
                "time": int(time.time() * 1000),
                "method": self.command,
                "path": self.path,
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000, 3),
                "batch": len(rows) if rows is not None else 0,
            }
            if rows is not None:
                if sum(len(r) for r in rows) <= MAX_LOGGED_VALUES:
                    record["inputs"] = rows
                else:
                    record["inputs_truncated"] = True
            log.write(record)

        def authorized(self):
            given = (self.headers.get("Authorization") or "").encode("utf-8")
            return hmac.compare_digest(given, expected)

        def do_GET(self):
            started = time.perf_counter()
            # Health carries no secret, so probes (Kubernetes, load balancers) need no token.
            if self.path == "/health":
                self.reply(started, 200, dict(meta, status="ok"))
                return
            self.reply(started, 404, {"error": "unknown path %s; use POST /predict or GET /health" % self.path})

        def do_POST(self):
            started = time.perf_counter()
            if self.path != "/predict":
                self.reply(started, 404, {"error": "unknown path %s; use POST /predict" % self.path})
                return
            if not self.authorized():
                self.drain()
                self.reply(started, 401, {"error": "missing or wrong bearer token"})
                return
            try:
                length = int(self.headers.get("Content-Length") or "")
            except ValueError:
                length = -1
            if length < 0:
                self.close_connection = True
                self.reply(started, 411, {"error": "a Content-Length header with the body's size is required"})
                return
            if length > MAX_BODY:
                self.close_connection = True
                self.reply(started, 413, {"error": "the body is larger than %d bytes" % MAX_BODY})
                return
            body = self.rfile.read(length)
            rows = None
            try:
                rows = parse_instances(body)
                result = model.predict(rows)
            except BadInput as exc:
                self.reply(started, 400, {"error": str(exc)}, rows)
                return
            except (ValueError, TypeError) as exc:
                # scikit-learn reports a wrong feature count and the like this way.
                self.reply(started, 400, {"error": "the model rejected the input: %s" % exc}, rows)
                return
            except Exception as exc:  # a failing model must not take the server down
                self.reply(started, 500, {"error": "prediction failed: %s: %s" % (type(exc).__name__, exc)}, rows)
                return
            self.reply(started, 200, result, rows)

        def drain(self):
            # Read a small unwanted body so the connection stays usable; drop the connection on a large one.
            try:
                length = int(self.headers.get("Content-Length") or "0")
            except ValueError:
                length = -1
            if 0 <= length <= MAX_DRAIN:
                self.rfile.read(length)
            else:
                self.close_connection = True

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description="Serve one model over HTTP.")
    parser.add_argument("--model", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1", help="127.0.0.1 unless inside a container")
    parser.add_argument("--log", default="", help="JSON-lines request log")
    parser.add_argument("--flavor", choices=["pickle", "onnx", "torchscript"], default=None)
    parser.add_argument("--idle-timeout", type=float, default=30.0, help="seconds before an idle connection is closed")
    parser.add_argument("--max-connections", type=int, default=64, help="connections served at once")
    args = parser.parse_args(argv)

    token = os.environ.pop("RUNBOARD_SERVER_TOKEN", "")
    if not token:
        emit({"event": "error", "message": "RUNBOARD_SERVER_TOKEN is not set: refusing to serve without a token"})
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

    meta = {"name": args.name, "version": args.version, "flavor": flavor}
    try:
        server = BoundedServer((args.host, args.port), make_handler(model, meta, token, RequestLog(args.log), args.idle_timeout), args.max_connections)
    except OSError as exc:
        emit({"event": "error", "message": "cannot listen on %s:%d: %s" % (args.host, args.port, exc)})
        return 2

    def stop(_signum, _frame):
        # shutdown() waits for serve_forever(), which runs on this thread: call it from another.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    emit({"event": "listening", "host": args.host, "port": server.server_address[1], "pid": os.getpid()})
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
