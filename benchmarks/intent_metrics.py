"""Scores for the intent benchmark: accuracy, macro-F1, out-of-scope threshold, confusion plot."""

from __future__ import annotations

from pathlib import Path

from benchmarks.intent_datasets import OUT_OF_SCOPE
from benchmarks.parsing import Prediction


def closed_set_scores(gold: list[str], predicted: list[str]) -> dict[str, float]:
    """Accuracy and macro-F1 (percent) of in-scope predictions."""
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": round(100 * accuracy_score(gold, predicted), 2),
        "macro_f1": round(100 * f1_score(gold, predicted, average="macro", zero_division=0), 2),
    }


def out_of_scope_scores(
    gold: list[str], predictions: list[Prediction], threshold: float
) -> dict[str, float]:
    """In-scope accuracy and out-of-scope recall when confidences below `threshold` mean OOS.

    As in Larson et al. (2019), an in-scope query counts as correct only if it gets its intent
    above the threshold, and an out-of-scope query is recalled if it falls below it.
    """
    in_scope = [(g, p) for g, p in zip(gold, predictions, strict=True) if g != OUT_OF_SCOPE]
    out_of_scope = [p for g, p in zip(gold, predictions, strict=True) if g == OUT_OF_SCOPE]
    correct = sum(1 for g, (name, conf) in in_scope if name == g and conf >= threshold)
    recalled = sum(1 for _, conf in out_of_scope if conf < threshold)
    return {
        "in_scope_accuracy": round(100 * correct / max(1, len(in_scope)), 2),
        "oos_recall": round(100 * recalled / max(1, len(out_of_scope)), 2),
    }


def tune_threshold(
    gold: list[str], predictions: list[Prediction], min_in_scope_accuracy: float = 95.0
) -> float:
    """The threshold with the highest OOS recall whose in-scope accuracy stays at the floor.

    If no threshold reaches the floor, the one with the best mean of both is returned.
    """
    candidates = sorted({round(conf, 4) for _, conf in predictions} | {0.0})
    best_constrained: tuple[float, float] | None = None
    best_balanced: tuple[float, float] = (-1.0, 0.0)
    for threshold in candidates:
        scores = out_of_scope_scores(gold, predictions, threshold)
        if scores["in_scope_accuracy"] >= min_in_scope_accuracy:
            if best_constrained is None or scores["oos_recall"] > best_constrained[0]:
                best_constrained = (scores["oos_recall"], threshold)
        balanced = scores["in_scope_accuracy"] + scores["oos_recall"]
        if balanced > best_balanced[0]:
            best_balanced = (balanced, threshold)
    return (best_constrained or best_balanced)[1]


def plot_confusion_matrix(gold: list[str], predicted: list[str], path: Path) -> None:
    """Saves a row-normalised confusion matrix as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    labels = sorted(set(gold))
    matrix = confusion_matrix(gold, predicted, labels=labels, normalize="true")
    size = max(6.0, len(labels) * 0.12)
    figure, axes = plt.subplots(figsize=(size, size))
    axes.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    axes.set_title(f"{path.stem} (row-normalised)")
    axes.set_xlabel("predicted intent")
    axes.set_ylabel("true intent")
    if len(labels) <= 80:
        axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=4)
        axes.set_yticks(range(len(labels)), labels, fontsize=4)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150)
    plt.close(figure)
