"""Reads back, with the real MLflow client, what Runboard pushed: runs (params, tags, every metric
point, artifacts by sha256) and registered aliases. argv[1]: JSON {"runs": [ids], "aliases":
["name@alias"]}. Prints one JSON line; NaN and +-Inf as the strings "NaN", "Infinity", "-Infinity"."""
import hashlib
import json
import math
import sys

from mlflow import MlflowClient

ask = json.loads(sys.argv[1])
client = MlflowClient()


def number(x):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def artifacts(run_id, path=None):
    found = {}
    for entry in client.list_artifacts(run_id, path):
        if entry.is_dir:
            found.update(artifacts(run_id, entry.path))
        else:
            found[entry.path] = sha256_of(client.download_artifacts(run_id, entry.path))
    return found


runs = {}
for run_id in ask["runs"]:
    run = client.get_run(run_id)
    metrics = {}
    for key in run.data.metrics:
        history = sorted(client.get_metric_history(run_id, key), key=lambda m: m.step)
        metrics[key] = [[m.step, number(m.value), m.timestamp] for m in history]
    runs[run_id] = {
        "name": run.info.run_name,
        "status": run.info.status,
        "start_time": run.info.start_time,
        "end_time": run.info.end_time,
        "user": run.info.user_id,
        "params": run.data.params,
        "tags": run.data.tags,
        "metrics": metrics,
        "artifacts": artifacts(run_id),
    }

aliases = {}
for spec in ask.get("aliases", []):
    name, alias = spec.split("@")
    version = client.get_model_version_by_alias(name, alias)
    uri = client.get_model_version_download_uri(name, version.version)
    import mlflow.artifacts

    local = mlflow.artifacts.download_artifacts(artifact_uri=uri)
    aliases[spec] = {"version": version.version, "run_id": version.run_id, "sha256": sha256_of(local)}

print(json.dumps({"runs": runs, "aliases": aliases}))
