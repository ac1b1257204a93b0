"""The few statistics the notebooks need, on numpy alone: bootstrap intervals, OLS, a permutation test.

scikit-learn, statsmodels and scipy are not dependencies of the project. What is needed here is
small, and writing the resampling out keeps every interval reproducible from a seed. Intervals are
percentile bootstrap intervals over titles (pairs bootstrap): with a few dozen titles they are
wide, and that width is the honest answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a bootstrap interval (``nan`` when the data cannot support one)."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return bool(self.low > 0 or self.high < 0)

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class OlsFit:
    """Least-squares coefficients (intercept first) with bootstrap intervals, the in-sample R² and
    the residuals (what the drivers leave unexplained, e.g. to test another grouping on)."""

    coefficients: dict[str, Interval]
    r2: float
    n: int
    residuals: FloatArray


def as_floats(values: Sequence[float] | npt.ArrayLike) -> FloatArray:
    return np.asarray(values, dtype=np.float64)


def zscore(values: npt.ArrayLike) -> FloatArray:
    """Centre and scale to unit standard deviation, so coefficients read "per standard deviation"."""
    x = as_floats(values)
    sd = float(x.std())
    return np.asarray((x - x.mean()) / sd if sd > 0 else x - x.mean(), dtype=np.float64)


def _percentiles(samples: FloatArray, level: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size < 2:
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _row_correlations(x: FloatArray, y: FloatArray) -> FloatArray:
    """Pearson correlation of every row of ``x`` with the same row of ``y`` (nan without variance)."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    denominator = np.sqrt((xc**2).sum(axis=-1) * (yc**2).sum(axis=-1))
    numerator = (xc * yc).sum(axis=-1)
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.asarray(np.where(denominator > 0, numerator / safe, np.nan), dtype=np.float64)


def pearson(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Pearson's r, or nan with fewer than three pairs or a constant variable."""
    xs, ys = as_floats(x), as_floats(y)
    if xs.size < 3:
        return float("nan")
    return float(_row_correlations(xs, ys))


def bootstrap_corr(
    x: npt.ArrayLike, y: npt.ArrayLike, *, n_boot: int = 2000, level: float = 0.95, seed: int = 0
) -> Interval:
    """Pearson's r with a percentile bootstrap interval over resampled pairs."""
    xs, ys = as_floats(x), as_floats(y)
    estimate = pearson(xs, ys)
    if not np.isfinite(estimate):
        return Interval(estimate, float("nan"), float("nan"))
    rows = np.random.default_rng(seed).integers(0, xs.size, size=(n_boot, xs.size))
    low, high = _percentiles(_row_correlations(xs[rows], ys[rows]), level)
    return Interval(estimate, low, high)


def _lstsq(design: FloatArray, y: FloatArray) -> FloatArray:
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return np.asarray(coefficients, dtype=np.float64)


def ols(
    columns: dict[str, npt.ArrayLike],
    y: npt.ArrayLike,
    *,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> OlsFit:
    """Regress ``y`` on ``columns`` plus an intercept, with pairs-bootstrap intervals.

    With fewer titles than coefficients + 2 there is nothing to estimate: every value is nan.
    A resample that happens to make a column constant still has a least-squares solution (the
    minimum-norm one), so it stays in the bootstrap rather than being silently dropped.
    """
    names = ["intercept", *columns]
    ys = as_floats(y)
    design = np.column_stack([np.ones_like(ys), *(as_floats(c) for c in columns.values())])
    n, p = design.shape
    if n < p + 2:
        nan = Interval(float("nan"), float("nan"), float("nan"))
        return OlsFit(dict.fromkeys(names, nan), float("nan"), n, np.full(n, np.nan))
    beta = _lstsq(design, ys)
    residual = ys - design @ beta
    total = float(((ys - ys.mean()) ** 2).sum())
    r2 = 1 - float((residual**2).sum()) / total if total > 0 else float("nan")
    rng = np.random.default_rng(seed)
    draws = np.array([_lstsq(design[rows], ys[rows]) for rows in rng.integers(0, n, size=(n_boot, n))])
    coefficients = {}
    for k, name in enumerate(names):
        low, high = _percentiles(draws[:, k], level)
        coefficients[name] = Interval(float(beta[k]), low, high)
    return OlsFit(coefficients, r2, n, residual)


def eta_squared(groups: Sequence[str], y: npt.ArrayLike) -> float:
    """Share of the variance of ``y`` between the groups' means (0: groups explain nothing)."""
    ys = as_floats(y)
    labels, codes = np.unique(np.asarray(groups), return_inverse=True)
    return float(_eta_squared_rows(codes.reshape(1, -1), ys.reshape(1, -1), len(labels))[0])


def _eta_squared_rows(codes: npt.NDArray[np.int64], y: FloatArray, n_groups: int) -> FloatArray:
    """eta² for every row of ``y`` grouped by ``codes`` (same shape), vectorised over rows."""
    total = ((y - y.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1)
    one_hot = codes[..., None] == np.arange(n_groups)  # rows × titles × groups
    sums = (one_hot * y[..., None]).sum(axis=-2)
    counts = one_hot.sum(axis=-2)
    between = (sums**2 / np.maximum(counts, 1)).sum(axis=-1) - y.sum(axis=-1) ** 2 / y.shape[-1]
    return np.asarray(np.where(total > 0, between / np.where(total > 0, total, 1.0), np.nan))


def permutation_eta_squared(
    groups: Sequence[str], y: npt.ArrayLike, *, n_perm: int = 5000, seed: int = 0
) -> tuple[float, float]:
    """eta² of ``y`` by group and its permutation p-value (shuffling ``y`` across the titles).

    With many small groups eta² is large by chance alone, so only the p-value says whether the
    grouping matters; ``(1 + exceedances) / (1 + n_perm)`` never reports an impossible 0.
    """
    ys = as_floats(y)
    labels, codes = np.unique(np.asarray(groups), return_inverse=True)
    observed = eta_squared(groups, ys)
    if not np.isfinite(observed):
        return observed, float("nan")
    rng = np.random.default_rng(seed)
    shuffled = np.array([rng.permutation(ys) for _ in range(n_perm)])
    null = _eta_squared_rows(np.broadcast_to(codes, shuffled.shape), shuffled, len(labels))
    p_value = (1 + int((null >= observed - 1e-12).sum())) / (1 + n_perm)
    return observed, p_value
