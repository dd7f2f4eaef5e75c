"""A teammate's run, logged with the real MLflow client: params, a tag, 1,000 points of two
metrics, a text artifact. argv[1]: the experiment. Prints one JSON line with the run id."""
import json
import sys
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric

mlflow.set_experiment(sys.argv[1])
with mlflow.start_run(run_name="grace-run") as run:
    mlflow.log_params({"lr": 0.3, "depth": 7})
    mlflow.set_tag("team", "vision")
    now = int(time.time() * 1000)
    MlflowClient().log_batch(run.info.run_id, metrics=[Metric("loss", 1 / (s + 1), now + s, s) for s in range(1000)])
    mlflow.log_metric("acc", 0.5, step=0)
    mlflow.log_text("roc curve\n", "plots/roc.txt")
print(json.dumps({"run_id": run.info.run_id}))
