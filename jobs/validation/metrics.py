"""Statistics of the validation runs: rank correlation, ROC AUC, enrichment factors and their
percentile-bootstrap confidence intervals.  Pure numpy/scipy; no database.

Conventions (a docking score is an energy: lower = better):

* **ROC AUC** is the probability that a randomly drawn active scores *lower* than a randomly
  drawn inactive, ties counting one half (the Mann-Whitney statistic from mid-ranks).
  0.5 is random, 1.0 puts every active before every inactive.
* **Enrichment factor at x %**: the ``n_top = max(1, round_half_up(x/100 · n))`` best
  (lowest) scores are "selected"; ``EF = (actives selected / n_top) / (actives / n)``.
  Scores tied with the last selected score are shared out fractionally: if ``s`` of the
  ``t`` tied drugs fit in the selection and ``a`` of the tied drugs are active, the
  selection holds ``a · s / t`` of them -- the expected count over every order of the ties,
  so the result does not depend on input order.
* **Bootstrap**: percentile intervals from ``n_boot`` resamples drawn by a seeded
  ``numpy.random.default_rng``.  AUC and EF resample actives and inactives separately
  (stratified, so each resample keeps the counts and every statistic stays defined);
  Spearman resamples the (x, y) pairs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from jobs.validation.defaults import DEFAULT_BOOTSTRAP, DEFAULT_LEVEL, DEFAULT_SEED

EF_PERCENTS = (1.0, 5.0)
# resamples ranked at once (memory: chunk x n floats)
_CHUNK = 250

Interval = tuple[float, float]


def _arrays(scores: ArrayLike, active: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    s = np.asarray(scores, dtype=float)
    a = np.asarray(active, dtype=bool)
    if s.ndim != 1 or s.shape != a.shape:
        raise ValueError(f"scores and labels must be 1-D of one length (got {s.shape} and {a.shape})")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite numbers")
    return s, a


def _both_classes(a: NDArray[np.bool_]) -> tuple[int, int]:
    n_act = int(a.sum())
    n_ina = int(a.size - n_act)
    if n_act == 0 or n_ina == 0:
        raise ValueError(f"need at least one active and one inactive (got {n_act} actives, {n_ina} inactives)")
    return n_act, n_ina


# ---------------------------------------------------------------------------- ROC
def roc_auc(scores: ArrayLike, active: ArrayLike) -> float:
    """ROC AUC where a lower score means "predicted active" (ties count one half)."""
    s, a = _arrays(scores, active)
    n_act, n_ina = _both_classes(a)
    ranks = stats.rankdata(s)  # mid-ranks, ascending
    u = float(ranks[a].sum()) - n_act * (n_act + 1) / 2.0  # pairs with active above inactive (+ half ties)
    return 1.0 - u / (n_act * n_ina)


def roc_curve(scores: ArrayLike, active: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """False- and true-positive rates selecting by ``score <= threshold`` for each distinct
    score, lowest first, starting at (0, 0) and ending at (1, 1)."""
    s, a = _arrays(scores, active)
    n_act, n_ina = _both_classes(a)
    order = np.argsort(s, kind="stable")
    s_sorted, a_sorted = s[order], a[order]
    tp = np.cumsum(a_sorted)
    fp = np.cumsum(~a_sorted)
    last_of_tie = np.r_[s_sorted[1:] != s_sorted[:-1], True]
    fpr = np.r_[0.0, fp[last_of_tie] / n_ina]
    tpr = np.r_[0.0, tp[last_of_tie] / n_act]
    return fpr, tpr


# ---------------------------------------------------------------------------- enrichment
def n_top(n: int, percent: float) -> int:
    """Size of the top ``percent`` % of ``n``: ``max(1, round_half_up(percent/100 · n))``."""
    if n < 1:
        raise ValueError("n must be at least 1")
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100] (got {percent})")
    return max(1, min(n, math.floor(percent * n / 100.0 + 0.5)))


def actives_in_top(scores: ArrayLike, active: ArrayLike, k: int) -> float:
    """Actives among the ``k`` lowest scores, ties at the cut shared out fractionally."""
    s, a = _arrays(scores, active)
    if not 1 <= k <= s.size:
        raise ValueError(f"k must be between 1 and {s.size} (got {k})")
    cutoff = np.partition(s, k - 1)[k - 1]
    better = s < cutoff
    tied = s == cutoff
    slots = k - int(better.sum())
    return float(a[better].sum()) + slots * float(a[tied].sum()) / float(tied.sum())


def enrichment_factor(scores: ArrayLike, active: ArrayLike, percent: float) -> float:
    """EF at ``percent`` %: (actives in the top / n_top) / (actives / n)."""
    s, a = _arrays(scores, active)
    n_act = int(a.sum())
    if n_act == 0:
        raise ValueError("need at least one active for an enrichment factor")
    k = n_top(s.size, percent)
    return (actives_in_top(s, a, k) / k) / (n_act / s.size)


# ---------------------------------------------------------------------------- bootstrap
def percentile_interval(values: ArrayLike, level: float = DEFAULT_LEVEL) -> Interval | None:
    """The central ``level`` percentile interval of the finite values (None if there are none)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(v, [tail, 100.0 - tail])
    return (float(low), float(high))


def _stratified_resamples(
    s: NDArray[np.float64], a: NDArray[np.bool_], n_boot: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """``n_boot`` stratified resamples: rows of actives' scores then inactives' scores."""
    rng = np.random.default_rng(seed)
    act, ina = s[a], s[~a]
    idx_a = rng.integers(0, act.size, size=(n_boot, act.size))
    idx_i = rng.integers(0, ina.size, size=(n_boot, ina.size))
    boot = np.concatenate([act[idx_a], ina[idx_i]], axis=1)
    labels = np.r_[np.ones(act.size, dtype=bool), np.zeros(ina.size, dtype=bool)]
    return boot, labels


def _auc_rows(boot: NDArray[np.float64], n_act: int) -> NDArray[np.float64]:
    n_ina = boot.shape[1] - n_act
    out = np.empty(boot.shape[0])
    for start in range(0, boot.shape[0], _CHUNK):
        ranks = stats.rankdata(boot[start : start + _CHUNK], axis=1)
        u = ranks[:, :n_act].sum(axis=1) - n_act * (n_act + 1) / 2.0
        out[start : start + _CHUNK] = 1.0 - u / (n_act * n_ina)
    return out


@dataclass(frozen=True)
class EnrichmentStats:
    """Headline numbers for one target: AUC and EFs with their bootstrap intervals."""

    n: int
    n_actives: int
    auc: float | None
    auc_ci: Interval | None
    ef: dict[float, float] = field(default_factory=dict)
    ef_ci: dict[float, Interval | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The statistics as a JSON-ready dict: n, actives, AUC, and EF at each percentage with CIs."""
        d: dict[str, object] = {"n": self.n, "n_actives": self.n_actives, "auc": self.auc,
                                "auc_ci": list(self.auc_ci) if self.auc_ci else None}
        for p in sorted(self.ef):
            name = f"ef{p:g}"
            d[name] = self.ef[p]
            ci = self.ef_ci.get(p)
            d[f"{name}_ci"] = list(ci) if ci else None
        return d


def enrichment_stats(
    scores: ArrayLike,
    active: ArrayLike,
    *,
    percents: Sequence[float] = EF_PERCENTS,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> EnrichmentStats:
    """AUC and EF at each percent, with stratified percentile-bootstrap intervals.

    With no actives or no inactives the statistics are None (reported, not raised).
    ``n_boot=0`` skips the intervals.
    """
    s, a = _arrays(scores, active)
    n_act = int(a.sum())
    if n_act == 0 or n_act == s.size:
        return EnrichmentStats(n=int(s.size), n_actives=n_act, auc=None, auc_ci=None)
    auc = roc_auc(s, a)
    ef = {float(p): enrichment_factor(s, a, p) for p in percents}
    auc_ci: Interval | None = None
    ef_ci: dict[float, Interval | None] = {float(p): None for p in percents}
    if n_boot > 0:
        boot, labels = _stratified_resamples(s, a, n_boot, seed)
        auc_ci = percentile_interval(_auc_rows(boot, n_act), level)
        for p in percents:
            k = n_top(s.size, p)
            vals = [(actives_in_top(row, labels, k) / k) / (n_act / s.size) for row in boot]
            ef_ci[float(p)] = percentile_interval(vals, level)
    return EnrichmentStats(n=int(s.size), n_actives=n_act, auc=auc, auc_ci=auc_ci, ef=ef, ef_ci=ef_ci)


# ---------------------------------------------------------------------------- correlation
@dataclass(frozen=True)
class Correlation:
    """Spearman's rho of paired scores with its bootstrap interval and the mean difference."""

    n: int
    rho: float | None
    p_value: float | None
    ci: Interval | None
    mean_diff: float | None  # mean of (x - y)

    def as_dict(self) -> dict[str, object]:
        """The correlation as a JSON-ready dict: n, Spearman, p-value, its CI and the mean difference."""
        return {"n": self.n, "spearman": self.rho, "p_value": self.p_value,
                "spearman_ci": list(self.ci) if self.ci else None, "mean_diff": self.mean_diff}


def _row_pearson(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    den = np.sqrt((xc * xc).sum(axis=1) * (yc * yc).sum(axis=1))
    num = (xc * yc).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def spearman(x: ArrayLike, y: ArrayLike) -> float | None:
    """Spearman's rho (mid-ranks); None with fewer than 3 pairs or a constant side."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError(f"x and y must be 1-D of one length (got {xs.shape} and {ys.shape})")
    if xs.size < 3 or np.ptp(xs) == 0 or np.ptp(ys) == 0:
        return None
    r = _row_pearson(stats.rankdata(xs)[None, :], stats.rankdata(ys)[None, :])[0]
    return float(r)


def spearman_bootstrap(
    x: ArrayLike,
    y: ArrayLike,
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> Correlation:
    """Spearman's rho, its p-value (scipy), a pair-resampling percentile interval and mean(x - y)."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rho = spearman(xs, ys)
    mean_diff = float(np.mean(xs - ys)) if xs.size else None
    if rho is None:
        return Correlation(n=int(xs.size), rho=None, p_value=None, ci=None, mean_diff=mean_diff)
    p_value = float(stats.spearmanr(xs, ys).pvalue)
    ci: Interval | None = None
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, xs.size, size=(n_boot, xs.size))
        vals = np.empty(n_boot)
        for start in range(0, n_boot, _CHUNK):
            part = idx[start : start + _CHUNK]
            vals[start : start + _CHUNK] = _row_pearson(stats.rankdata(xs[part], axis=1),
                                                        stats.rankdata(ys[part], axis=1))
        ci = percentile_interval(vals, level)
    return Correlation(n=int(xs.size), rho=rho, p_value=p_value, ci=ci, mean_diff=mean_diff)


def bootstrap_statistic(
    scores: ArrayLike,
    active: ArrayLike,
    statistic: Callable[[NDArray[np.float64], NDArray[np.bool_]], float],
    *,
    n_boot: int = DEFAULT_BOOTSTRAP,
    seed: int = DEFAULT_SEED,
    level: float = DEFAULT_LEVEL,
) -> Interval | None:
    """Stratified percentile-bootstrap interval of any ``statistic(scores, active)``."""
    s, a = _arrays(scores, active)
    _both_classes(a)
    if n_boot <= 0:
        return None
    boot, labels = _stratified_resamples(s, a, n_boot, seed)
    return percentile_interval([statistic(row, labels) for row in boot], level)
