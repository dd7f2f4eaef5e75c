"""The real MLflow client's registry and experiment writes against the server at MLFLOW_TRACKING_URI.

Model and version tags, descriptions, stages, renaming and deleting models and versions, and an
experiment deleted, restored and renamed, each read back through the client. One line per check on
stdout, then a JSON report as the last line; the first failure raises (a non-zero exit).
"""
import json
import os
import sys
import tempfile
import uuid

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

import checks
from checks import check


def refused(call):
    """The MlflowException a call raises: its error code and message."""
    try:
        call()
    except MlflowException as e:
        return e.error_code, e.message
    raise AssertionError("the call was not refused")


tag = uuid.uuid4().hex[:8]
client = MlflowClient()
experiment_id = mlflow.set_experiment(f"peer-writes-{tag}").experiment_id
work = tempfile.mkdtemp()
with mlflow.start_run() as run:
    path = os.path.join(work, "model.pkl")
    with open(path, "wb") as f:
        f.write(b"not really a pickle")
    mlflow.log_artifact(path)
run_id = run.info.run_id

name = f"peer-writes-{tag}"
for _ in range(3):
    mlflow.register_model(f"runs:/{run_id}/model.pkl", name)
client.set_registered_model_tag(name, "team", "vision")
client.set_model_version_tag(name, "1", "validated", "yes")
client.update_model_version(name, "1", description="first")
client.set_registered_model_alias(name, "champion", "2")
model = client.get_registered_model(name)
check(f"model tags {model.tags}", model.tags == {"team": "vision"})
v1 = client.get_model_version(name, "1")
check(f"version tags {v1.tags} and description {v1.description!r}", v1.tags == {"validated": "yes"} and v1.description == "first")
client.delete_model_version_tag(name, "1", "validated")
client.delete_registered_model_tag(name, "team")
check("tags deleted", client.get_model_version(name, "1").tags == {} and client.get_registered_model(name).tags == {})

staged = client.transition_model_version_stage(name, "1", "Staging")
check(f"transition_model_version_stage -> {staged.current_stage}", staged.current_stage == "Staging")
latest = sorted((v.version, v.current_stage) for v in client.get_latest_versions(name))
check(f"get_latest_versions -> {latest}", latest == [("1", "Staging"), ("3", "None")])

client.delete_model_version(name, "2")
check("delete_model_version: gone from search", sorted(v.version for v in client.search_model_versions(f"name = '{name}'")) == ["1", "3"])
code, message = refused(lambda: client.get_model_version(name, "2"))
check(f"get_model_version(deleted) -> {code}: {message}", code == "RESOURCE_DOES_NOT_EXIST")
check("its alias went with it", client.get_registered_model(name).aliases == {})
code, message = refused(lambda: client.delete_model_version(name, "99"))
check(f"delete_model_version(99) -> {code}", code == "RESOURCE_DOES_NOT_EXIST" and message.endswith(f"Model Version (name={name}, version=99) not found"))

other = f"peer-other-{tag}"
client.create_registered_model(other)
code, message = refused(lambda: client.rename_registered_model(name, other))
check(f"rename to a taken name -> {code}: {message}", code == "RESOURCE_ALREADY_EXISTS")
client.rename_registered_model(name, f"{name}-renamed")
renamed = client.get_registered_model(f"{name}-renamed")
check(f"rename_registered_model -> {renamed.name} with versions {[v.version for v in renamed.latest_versions]}", [v.version for v in renamed.latest_versions] == ["1", "3"])
uri = client.get_model_version_download_uri(f"{name}-renamed", "3")
loaded = mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=os.path.join(work, "down"))
check(f"the renamed model's version downloads from {uri}", open(loaded, "rb").read() == b"not really a pickle")
client.delete_registered_model(f"{name}-renamed")
code, _ = refused(lambda: client.get_registered_model(f"{name}-renamed"))
check(f"delete_registered_model -> get says {code}", code == "RESOURCE_DOES_NOT_EXIST")

client.rename_experiment(experiment_id, f"peer-writes-{tag}-renamed")
check("rename_experiment", client.get_experiment(experiment_id).name == f"peer-writes-{tag}-renamed")
client.delete_experiment(experiment_id)
check("delete_experiment", client.get_experiment(experiment_id).lifecycle_stage == "deleted")
check("its run is deleted with it", client.get_run(run_id).info.lifecycle_stage == "deleted")
code, message = refused(lambda: client.log_metric(run_id, "m", 1.0))
check(f"log_metric on its run -> {code}: {message}", code == "INVALID_PARAMETER_VALUE" and "must be in the 'active' state" in message)
try:
    mlflow.set_experiment(f"peer-writes-{tag}-renamed")
    raise AssertionError("set_experiment on a deleted experiment was accepted")
except MlflowException as e:
    check(f"set_experiment(deleted) -> {e.message}", "deleted experiment" in e.message)
client.restore_experiment(experiment_id)
check("restore_experiment brings the run back", client.get_run(run_id).info.lifecycle_stage == "active")
code, message = refused(lambda: client.delete_experiment("0"))
check(f"delete_experiment('0') -> {code}: {message}", code == "INVALID_PARAMETER_VALUE")
print(json.dumps({"run": run_id, "checks": checks.passed}))
sys.exit(0)
