"""Scores shared by training, tuning and evaluation."""
from __future__ import annotations


def f1_from_counts(tp: int, fp: int, fn: int) -> float:
    """F1 from true positives, false positives and misses (0 when all are 0)."""
    return float(2 * tp / max(2 * tp + fp + fn, 1))
