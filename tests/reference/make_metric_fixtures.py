#!/usr/bin/python3
"""Writes tests/golden/metric_fixtures.json: Pearson and Spearman correlations
computed by scipy.stats for a few vectors (with and without ties), so that the
C++ metrics (proformer/evaluation/metrics.cpp) are checked against an independent
implementation. Spearman with ties uses average ranks in scipy, as in C++.

Regenerate (deterministic; needs Debian's python3-scipy):

    /usr/bin/python3 tests/reference/make_metric_fixtures.py
"""
import json
import math
import pathlib

import numpy as np
from scipy import stats


def cases():
    rng = np.random.default_rng(2022)
    x = rng.normal(size=200)
    yield "small, no ties", [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 7.5]
    yield "ties in x", [1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 5.0], [0.5, 0.1, 0.9, 1.5, 1.2, 2.0, 1.9]
    yield "ties in both", [0, 1, 1, 2, 2, 2, 3, 4, 4, 5], [1, 1, 0, 3, 2, 2, 2, 5, 4, 4]
    yield "negative correlation", [0.3, -1.2, 2.5, 0.0, 1.1, -0.7], [-0.1, 1.4, -2.2, 0.4, -0.9, 0.2]
    # Noisy linear relation rounded to one decimal, so that both sides have many ties.
    yield "normal, rounded (many ties)", np.round(x, 1).tolist(), np.round(0.6 * x + 0.8 * rng.normal(size=200), 1).tolist()
    yield "normal, continuous", x.tolist(), (np.sin(3 * x) + 0.3 * rng.normal(size=200)).tolist()


def main():
    fixtures = []
    for name, x, y in cases():
        x = [float(v) for v in x]
        y = [float(v) for v in y]
        pearson = float(stats.pearsonr(x, y)[0])
        spearman = float(stats.spearmanr(x, y)[0])
        assert math.isfinite(pearson) and math.isfinite(spearman), name
        fixtures.append({"name": name, "x": x, "y": y, "pearson": pearson, "spearman": spearman})
    out = pathlib.Path(__file__).resolve().parents[1] / "golden" / "metric_fixtures.json"
    out.write_text(json.dumps({"generator": "tests/reference/make_metric_fixtures.py",
                               "fixtures": fixtures}, indent=1) + "\n")
    print(f"wrote {out} ({len(fixtures)} fixtures)")


if __name__ == "__main__":
    main()
