"""The real MLflow client's artifact and registry calls against the server at MLFLOW_TRACKING_URI.

Artifacts logged, listed and downloaded; `mlflow.sklearn.autolog()` with the model logged and
loaded back through `runs:/`; `mlflow.register_model`, an alias, and `models:/name@alias` and
`models:/name/1` loaded, every load predicting what the trained model predicts. One line per
check on stdout, then a JSON report as the last line; the first failure raises (a non-zero exit).
"""
import filecmp
import json
import os
import sys
import tempfile
import uuid

import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import checks
from checks import check


tag = uuid.uuid4().hex[:8]
mlflow.set_experiment(f"peer-artifacts-{tag}")
client = MlflowClient()
work = tempfile.mkdtemp()

# Artifacts: a file at the root, one in a sub folder, a dict; listed, then downloaded back.
with mlflow.start_run() as run:
    first = os.path.join(work, "a.txt")
    with open(first, "w") as f:
        f.write("hello artifacts\n")
    big = os.path.join(work, "weights.bin")
    with open(big, "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024))
    mlflow.log_artifact(first)
    mlflow.log_artifact(big, artifact_path="sub/deeper")
    mlflow.log_dict({"k": [1, 2, 3]}, "d.json")
    root = sorted((a.path, a.is_dir) for a in client.list_artifacts(run.info.run_id))
    check(f"list_artifacts(root) = {root}", root == [("a.txt", False), ("d.json", False), ("sub", True)])
    sub = [(a.path, a.file_size) for a in client.list_artifacts(run.info.run_id, "sub/deeper")]
    check(f"list_artifacts(sub/deeper) = {sub}", sub == [("sub/deeper/weights.bin", 3 * 1024 * 1024)])
    got = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="a.txt", dst_path=os.path.join(work, "down1"))
    check("download_artifacts(a.txt) has the bytes logged", filecmp.cmp(got, first, shallow=False))
    tree = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="sub", dst_path=os.path.join(work, "down2"))
    check("download_artifacts(sub) brings the 3 MB file back", filecmp.cmp(os.path.join(tree, "deeper", "weights.bin"), big, shallow=False))
    check("mlflow.artifacts.load_dict(d.json)", mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/d.json") == {"k": [1, 2, 3]})

# Autolog: params, metrics, the dataset, the model folder (MLmodel, model.pkl, …) and log-model.
X, y = make_classification(n_samples=200, n_features=4, n_informative=3, n_redundant=0, random_state=3)
files_run = run.info.run_id
mlflow.sklearn.autolog()
with mlflow.start_run() as run:
    model = LogisticRegression(C=0.5, max_iter=200).fit(X, y)
expected = model.predict(X)
run_id = run.info.run_id
data = client.get_run(run_id).data
check(f"autolog logged params (C={data.params.get('C')}) and training metrics", data.params.get("C") == "0.5" and "training_accuracy_score" in data.metrics)
check("autolog's log-model history tag is set", "mlflow.log-model.history" in data.tags)
model_files = sorted(a.path for a in client.list_artifacts(run_id, "model"))
check(f"the model folder was uploaded: {model_files}", "model/MLmodel" in model_files and "model/model.pkl" in model_files)
loaded = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
check("mlflow.sklearn.load_model(runs:/…/model) predicts as trained", np.array_equal(loaded.predict(X), expected))
mlflow.sklearn.autolog(disable=True)

# The registry: register, alias, load by alias and by version.
name = f"peer-model-{tag}"
version = mlflow.register_model(f"runs:/{run_id}/model", name)
check(f"register_model -> version {version.version}, status {version.status}", version.version == "1" and version.status == "READY")
client.set_registered_model_alias(name, "champion", version.version)
by_alias = client.get_model_version_by_alias(name, "champion")
check(f"get_model_version_by_alias -> {by_alias.version} {by_alias.aliases}", by_alias.version == "1" and "champion" in by_alias.aliases)
pyfunc = mlflow.pyfunc.load_model(f"models:/{name}@champion")
check("mlflow.pyfunc.load_model(models:/name@champion) predicts as trained", np.array_equal(np.asarray(pyfunc.predict(X)), expected))
by_version = mlflow.sklearn.load_model(f"models:/{name}/1")
check("mlflow.sklearn.load_model(models:/name/1) predicts as trained", np.array_equal(by_version.predict(X), expected))
found = [m.name for m in client.search_registered_models(filter_string=f"name = '{name}'")]
check(f"search_registered_models(name = …) -> {found}", found == [name])
second = mlflow.register_model(f"runs:/{run_id}/model", name)
check(f"registering again makes version {second.version}", second.version == "2")
client.delete_registered_model_alias(name, "champion")
check("the alias is gone after delete_registered_model_alias", client.get_registered_model(name).aliases == {})
print(json.dumps({"files_run": files_run, "autolog_run": run_id, "model": name, "checks": checks.passed}))
sys.exit(0)
