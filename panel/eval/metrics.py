"""The eval's measures as pure functions over plain numbers, decisions and paragraphs.

Nothing here knows about runs or the network: every function is tested with hand-made numbers.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

CLASSES = ("ship", "skip")
WORD = re.compile(r"[a-z0-9']+")


def spread(scores: Sequence[float]) -> float | None:
    """The population standard deviation of the scores: 0 for one score, None for none."""
    if not scores:
        return None
    return round(statistics.pstdev(scores), 2) if len(scores) > 1 else 0.0


def majority(decisions: Sequence[str]) -> str | None:
    """The most common decision; None for no decisions or a tie."""
    counts = Counter(decisions).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def majority_share(decisions: Sequence[str]) -> float | None:
    """The share of decisions that agree with the most common one (1.0: every run agrees)."""
    if not decisions:
        return None
    return round(Counter(decisions).most_common(1)[0][1] / len(decisions), 3)


def flip_rate(decisions: Sequence[str]) -> float | None:
    """The chance that two runs picked at random disagree: differing pairs / all pairs."""
    pairs = list(combinations(decisions, 2))
    if not pairs:
        return None
    return round(sum(a != b for a, b in pairs) / len(pairs), 3)


def ngrams(text: str, n: int = 3) -> set[tuple[str, ...]]:
    """The text's word n-grams, lower-cased, punctuation dropped."""
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def jaccard(a: str, b: str, n: int = 3) -> float:
    """Overlap of two paragraphs: shared word n-grams over all their n-grams (0 when both are empty)."""
    ga, gb = ngrams(a, n), ngrams(b, n)
    union = ga | gb
    return round(len(ga & gb) / len(union), 3) if union else 0.0


def overlaps(paragraphs: Mapping[str, str], n: int = 3) -> dict[tuple[str, str], float]:
    """Jaccard overlap of every pair of paragraphs, keyed by the pair in the mapping's order."""
    return {
        (a, b): jaccard(paragraphs[a], paragraphs[b], n) for a, b in combinations(paragraphs, 2)
    }


def echoes(
    pairs: Mapping[tuple[str, str], float], threshold: float
) -> list[tuple[str, str, float]]:
    """The pairs whose overlap reaches `threshold`: a persona repeating another's reasoning."""
    return [(a, b, v) for (a, b), v in pairs.items() if v >= threshold]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = (sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5)
    return round(dot / norm, 3) if norm else 0.0


def mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


@dataclass(frozen=True)
class Agreement:
    """Decisions against people's labels."""

    n: int
    accuracy: float | None
    balanced_accuracy: float | None
    kappa: float | None
    confusion: dict[str, dict[str, int]]  # label -> predicted -> count


def confusion(labels: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """Counts of (label, predicted) over ship and skip."""
    table = {label: dict.fromkeys(CLASSES, 0) for label in CLASSES}
    for label, guess in zip(labels, predicted, strict=True):
        table[label][guess] += 1
    return table


def agreement(labels: Sequence[str], predicted: Sequence[str]) -> Agreement:
    """Accuracy, balanced accuracy (mean recall over the labels present) and Cohen's kappa.

    Kappa is None when chance agreement is certain (every label and guess in one class).
    """
    n = len(labels)
    table = confusion(labels, predicted)
    if not n:
        return Agreement(0, None, None, None, table)
    right = sum(table[c][c] for c in CLASSES)
    accuracy = right / n
    recalls = [table[c][c] / sum(table[c].values()) for c in CLASSES if sum(table[c].values())]
    chance = sum(
        (sum(table[c].values()) / n) * (sum(table[r][c] for r in CLASSES) / n) for c in CLASSES
    )
    kappa = None if chance >= 1 else round((accuracy - chance) / (1 - chance), 3)
    return Agreement(n, round(accuracy, 3), round(sum(recalls) / len(recalls), 3), kappa, table)
