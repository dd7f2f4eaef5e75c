"""The real MLflow client's tracking API against a Runboard server (MLFLOW_TRACKING_URI/TOKEN).
Prints one JSON line: what it logged, for test/peer/tracking.test.ts to find in the store."""
import json
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

experiment = mlflow.set_experiment("peer-tracking")
client = MlflowClient()
with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_param("lr", 0.01)
    mlflow.log_params({"epochs": 3, "optimizer": "adam"})
    mlflow.log_metric("loss", 0.5, step=0)
    mlflow.log_metrics({"loss": 0.4, "acc": 0.8}, step=1)
    mlflow.log_metric("odd", float("nan"), step=0)
    mlflow.log_metric("odd", float("inf"), step=1)
    mlflow.set_tag("team", "cv")
    mlflow.set_tags({"stage": "dev", "owner": "ana"})
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("child_loss", 1.0)
    now = int(time.time() * 1000)
    client.log_batch(
        parent.info.run_id,
        metrics=[Metric("batch", i / 10, now, i) for i in range(1000)],
        params=[Param("batch_param", "1")],
        tags=[RunTag("batch_tag", "x")],
    )
    history = client.get_metric_history(parent.info.run_id, "batch")
    odd = client.get_metric_history(parent.info.run_id, "odd")
    try:
        mlflow.log_param("lr", 0.02)
        changed_param = None
    except MlflowException as e:
        changed_param = e.error_code
found = mlflow.search_runs(
    experiment_ids=[experiment.experiment_id], filter_string="params.optimizer = 'adam' and metrics.acc > 0.5", output_format="list"
)
children = mlflow.search_runs(
    experiment_ids=[experiment.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'", output_format="list"
)
mlflow.set_experiment_tag("purpose", "peer")
experiments = [e.name for e in mlflow.search_experiments(filter_string="name LIKE 'peer-%'")]
ordered = client.search_runs([experiment.experiment_id], order_by=["metrics.acc DESC"])
client.delete_run(child.info.run_id)
active_after_delete = [r.info.run_id for r in client.search_runs([experiment.experiment_id])]
client.restore_run(child.info.run_id)
print(json.dumps({
    "experiments": experiments,
    "experiment_tags": mlflow.get_experiment(experiment.experiment_id).tags,
    "ordered_first": ordered[0].info.run_id,
    "active_after_delete": active_after_delete,
    "parent_tags": client.get_run(parent.info.run_id).data.tags,
    "experiment_id": experiment.experiment_id,
    "parent": parent.info.run_id,
    "child": child.info.run_id,
    "history": len(history),
    "odd": [str(m.value) for m in odd],
    "changed_param": changed_param,
    "found": [r.info.run_id for r in found],
    "children": [r.info.run_id for r in children],
    "status": client.get_run(parent.info.run_id).info.status,
}))
