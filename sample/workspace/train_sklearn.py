"""A scikit-learn classifier that uses the Runboard Python client, and saves a deployable model.

Needs scikit-learn (on Debian: apt-get install python3-sklearn, used by /usr/bin/python3).
"""
import argparse
import csv
import os
import pickle
import time

import runboard
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [[float(r[k]) for k in ("x1", "x2", "x3", "x4")] for r in rows], [int(r["label"]) for r in rows]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=["logreg", "forest"], default="forest")
    parser.add_argument("--n-estimators", type=int, default=50)
    parser.add_argument("--max-depth", type=int, default=4)
    parser.add_argument("--C", type=float, default=1.0)
    # About 15 s a run, so the live views have something to show; 0 for a quick run.
    parser.add_argument("--delay", type=float, default=1.5, help="seconds per stage")
    args = parser.parse_args()
    # Only the params that shape this model, so comparisons show no irrelevant differences.
    relevant = {"forest": ("n_estimators", "max_depth"), "logreg": ("C",)}[args.model]
    runboard.log_params({"model": args.model, **{k: getattr(args, k) for k in relevant}})

    xs, ys = load("data/train.csv")
    vx, vy = load("data/test.csv")
    if args.model == "forest":
        # Grow the forest in stages so the curves show how accuracy evolves with its size.
        model = RandomForestClassifier(n_estimators=0, max_depth=args.max_depth, warm_start=True, random_state=0)
        for n in range(5, args.n_estimators + 1, 5):
            model.n_estimators = n
            model.fit(xs, ys)
            val_accuracy = accuracy_score(vy, model.predict(vx))
            runboard.log(step=n, accuracy=accuracy_score(ys, model.predict(xs)),
                         val_accuracy=val_accuracy, val_loss=log_loss(vy, model.predict_proba(vx)))
            print(f"{n}/{args.n_estimators} trees: val_accuracy {val_accuracy:.3f}", flush=True)
            time.sleep(args.delay)
    else:
        model = LogisticRegression(C=args.C, max_iter=500).fit(xs, ys)
        runboard.log(step=1, accuracy=accuracy_score(ys, model.predict(xs)),
                     val_accuracy=accuracy_score(vy, model.predict(vx)),
                     val_loss=log_loss(vy, model.predict_proba(vx)))
    runboard.log(step=args.n_estimators, val_f1=f1_score(vy, model.predict(vx)))
    runboard.log_evaluation(vy, model.predict(vx), labels=[0, 1], title="test set")

    out = os.environ.get("RUNBOARD_RUN_DIR", ".")
    with open(os.path.join(out, "model.pkl"), "wb") as f:
        pickle.dump(model, f)


if __name__ == "__main__":
    main()
