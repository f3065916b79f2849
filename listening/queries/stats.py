"""Statistics of the Competitors page: net sentiment with 95% CIs and significant differences.

Net sentiment of a cell is the mean of per-mention scores +1 (positive), 0 (neutral),
-1 (negative): ``(pos - neg) / n``. Its 95% confidence interval uses the normal
approximation ``m ± 1.96·sqrt(s²/n)`` with ``s² = (pos + neg)/n - m²``. A competitor's
cell differs significantly from the own brand's when a two-sided two-sample z-test on
the difference of the means rejects equality at α = 5% (|z| ≥ 1.96), with at least
``MIN_N`` mentions on each side. Share of voice is a brand's share of all mentions of the
criterion, with a Wilson 95% interval.
"""

from __future__ import annotations

import math

import pandas as pd

Z95 = 1.959964
MIN_N = 10


def net_and_variance(pos: float, neg: float, n: float) -> tuple[float, float]:
    if n <= 0:
        return float("nan"), float("nan")
    mean = (pos - neg) / n
    return mean, max((pos + neg) / n - mean * mean, 0.0)


def net_ci(pos: float, neg: float, n: float) -> tuple[float, float, float]:
    """(net, low, high) with a 95% normal interval clipped to [-1, 1]."""
    mean, var = net_and_variance(pos, neg, n)
    if n <= 0:
        return mean, float("nan"), float("nan")
    half = Z95 * math.sqrt(var / n)
    return mean, max(-1.0, mean - half), min(1.0, mean + half)


def difference_z(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """z statistic of net(a) - net(b) for (pos, neg, n) counts (inf when both are exact)."""
    (ma, va), (mb, vb) = net_and_variance(*a), net_and_variance(*b)
    se = math.sqrt(va / a[2] + vb / b[2])
    if se == 0:
        return 0.0 if ma == mb else math.copysign(math.inf, ma - mb)
    return (ma - mb) / se


def wilson(k: float, n: float) -> tuple[float, float]:
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def criterion_stats(matrix: pd.DataFrame) -> pd.DataFrame:
    """Add net, net_low, net_high, sov, sov_low, sov_high, z_vs_own and flag to each brand × topic.

    ``flag`` is "▲" (significantly above the own brand), "▼" (below) or "" (not significant,
    too few mentions, or the own brand itself).
    """
    df = matrix.copy()
    if df.empty:
        for col in ("net", "net_low", "net_high", "sov", "sov_low", "sov_high", "z_vs_own"):
            df[col] = pd.Series(dtype=float)
        df["flag"] = pd.Series(dtype=str)
        return df
    for col in ("positive", "neutral", "negative", "n"):
        df[col] = df[col].fillna(0).astype(int)
    cis = [net_ci(r.positive, r.negative, r.n) for r in df.itertuples()]
    df["net"], df["net_low"], df["net_high"] = zip(*cis, strict=True)
    totals = df.groupby("topic")["n"].transform("sum")
    df["sov"] = df["n"] / totals
    sov = [wilson(k, n) for k, n in zip(df["n"], totals, strict=True)]
    df["sov_low"], df["sov_high"] = zip(*sov, strict=True)
    own = df[df["is_own"]].groupby("topic")[["positive", "negative", "n"]].sum()
    zs, flags = [], []
    for r in df.itertuples():
        if r.is_own or r.topic not in own.index:
            zs.append(float("nan"))
            flags.append("")
            continue
        o = own.loc[r.topic]
        if r.n < MIN_N or o["n"] < MIN_N:
            zs.append(float("nan"))
            flags.append("")
            continue
        z = difference_z((r.positive, r.negative, r.n), (o["positive"], o["negative"], o["n"]))
        zs.append(z)
        flags.append("▲" if z >= Z95 else "▼" if z <= -Z95 else "")
    df["z_vs_own"] = zs
    df["flag"] = flags
    return df
