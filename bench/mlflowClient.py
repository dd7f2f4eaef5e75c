"""The real MLflow client's logging speed against MLFLOW_TRACKING_URI: N synchronous log_metric
calls, then REPS log_batch calls of 1,000 metrics. Prints one JSON line (milliseconds)."""
import json
import statistics
import sys
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric

calls, reps = int(sys.argv[1]), int(sys.argv[2])
mlflow.set_experiment("bench")
client = MlflowClient()
with mlflow.start_run() as run:
    start = time.perf_counter()
    for step in range(calls):
        mlflow.log_metric("m", step / 10, step=step)
    log_metric_ms = (time.perf_counter() - start) * 1000
    batches = []
    for rep in range(reps):
        now = int(time.time() * 1000)
        metrics = [Metric("b", i / 10, now, rep * 1000 + i) for i in range(1000)]
        start = time.perf_counter()
        client.log_batch(run.info.run_id, metrics=metrics)
        batches.append((time.perf_counter() - start) * 1000)
print(json.dumps({"logMetricMs": log_metric_ms, "perLogMetricMs": log_metric_ms / calls, "logBatchMedianMs": statistics.median(batches)}))
