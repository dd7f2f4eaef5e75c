"""The real MLflow client's own log_batch of the points `runboard push` sends in the sync bench:
KEYS metrics of POINTS/KEYS steps each, 1,000 metrics per log_batch, into a new run. Prints one
JSON line with the seconds the log_batch calls took."""
import json
import sys
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric

points, keys = int(sys.argv[1]), int(sys.argv[2])
steps = points // keys
mlflow.set_experiment("bench-sync-client")
client = MlflowClient()
with mlflow.start_run() as run:
    base = 1_700_000_000_000
    batch = []
    start = time.perf_counter()
    for k in range(keys):
        for step in range(steps):
            batch.append(Metric(f"m{k}", step / steps, base + step, step))
            if len(batch) == 1000:
                client.log_batch(run.info.run_id, metrics=batch)
                batch = []
    if batch:
        client.log_batch(run.info.run_id, metrics=batch)
    seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds}))
