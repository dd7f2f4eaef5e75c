"""Logistic regression by mini-batch gradient descent, in plain Python (no packages needed).

It knows nothing about Runboard: it prints one JSON line per logging step, which Runboard
records as metrics, and writes its weights to the run's output folder as an artifact.
"""
import argparse
import csv
import json
import math
import os
import random
import time


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    xs = [[float(r["x1"]), float(r["x2"]), float(r["x3"]), float(r["x4"])] for r in rows]
    ys = [int(r["label"]) for r in rows]
    return xs, ys


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def evaluate(w, b, xs, ys):
    loss, correct = 0.0, 0
    for x, y in zip(xs, ys):
        p = sigmoid(sum(wi * xi for wi, xi in zip(w, x)) + b)
        loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
        correct += (p >= 0.5) == (y == 1)
    return loss / len(xs), correct / len(xs)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--l2", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    # About 15 s a run: long enough to watch the tree, the status bar and compare update live.
    parser.add_argument("--delay", type=float, default=0.75, help="seconds per epoch, to watch it live")
    args = parser.parse_args()

    random.seed(args.seed)
    xs, ys = load("data/train.csv")
    vx, vy = load("data/test.csv")
    w = [random.gauss(0, 0.1) for _ in range(4)]
    b = 0.0
    step = 0
    for epoch in range(1, args.epochs + 1):
        order = list(range(len(xs)))
        random.shuffle(order)
        for start in range(0, len(order), args.batch_size):
            batch = order[start:start + args.batch_size]
            gw, gb, batch_loss = [0.0] * 4, 0.0, 0.0
            for i in batch:
                p = sigmoid(sum(wi * xi for wi, xi in zip(w, xs[i])) + b)
                err = p - ys[i]
                batch_loss -= ys[i] * math.log(p + 1e-12) + (1 - ys[i]) * math.log(1 - p + 1e-12)
                gw = [g + err * xi for g, xi in zip(gw, xs[i])]
                gb += err
            n = len(batch)
            w = [wi - args.lr * (g / n + args.l2 * wi) for wi, g in zip(w, gw)]
            b -= args.lr * gb / n
            step += 1
            print(json.dumps({"step": step, "train_loss": round(batch_loss / n, 6)}), flush=True)
        loss, acc = evaluate(w, b, xs, ys)
        val_loss, val_acc = evaluate(w, b, vx, vy)
        print(f"epoch={epoch} step={step} loss={loss:.6f} accuracy={acc:.4f} val_loss={val_loss:.6f} val_accuracy={val_acc:.4f}", flush=True)
        time.sleep(args.delay)

    out = os.environ.get("RUNBOARD_RUN_DIR", ".")
    with open(os.path.join(out, "weights.json"), "w") as f:
        json.dump({"w": w, "b": b}, f)
    print(f"done: validation accuracy {val_acc:.3f}")


if __name__ == "__main__":
    main()
