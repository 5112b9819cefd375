#!/usr/bin/env python3
"""Pitman-model population uniques, computed independently of the crate (standard library only).

The crate (src/population.rs) fits the Pitman sampling formula's (theta, alpha) by
two-dimensional Newton-Raphson from a moment guess. This script solves the same two
maximum-likelihood equations (Hoshino 2001) a different way, by nested bisection:

    g1(theta, alpha) = sum_{i=1}^{u-1} 1/(theta + i*alpha) - sum_{i=1}^{n-1} 1/(theta + i) = 0
    g2(theta, alpha) = sum_{i=1}^{u-1} i/(theta + i*alpha)
                       - sum_{j>=2} c_j sum_{i=1}^{j-1} 1/(i - alpha)                 = 0

for each alpha, theta(alpha) solves g1 by bisection; then alpha solves g2(theta(alpha), alpha)
by bisection. Population uniques: exp(lgamma(theta+1) - lgamma(theta+alpha)) * N^alpha.
Sums use math.fsum (exactly rounded).

Usage: python3 tests/reference/pitman.py   (from the repository root)
Prints the estimates the crate's tests pin:
  - the unit test's long-tailed histogram at N = 1e7 and 1e8 (src/population.rs);
  - adult with all nine attributes as quasi-identifiers at N = 317,238,626, next to ARX 3.9.2's
    figure (tests/it/risk.rs).
"""

import math
from collections import Counter


def g1(theta, alpha, n, u):
    a = math.fsum(1.0 / (theta + i * alpha) for i in range(1, u))
    b = math.fsum(1.0 / (theta + i) for i in range(1, n))
    return a - b


def g2(theta, alpha, hist, u):
    a = math.fsum(i / (theta + i * alpha) for i in range(1, u))
    b = math.fsum(c * math.fsum(1.0 / (i - alpha) for i in range(1, j)) for j, c in hist if j >= 2)
    return a - b


def bisect(f, lo, hi, iterations=200):
    flo = f(lo)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        fm = f(mid)
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return (lo + hi) / 2


def theta_of(alpha, n, u):
    # g1 decreases from +inf-ish (theta -> 0 and u-1 terms dominate only if alpha small) ...
    # bracket by expanding the upper end until the sign changes.
    lo, hi = 1e-9, 1.0
    s = g1(lo, alpha, n, u) > 0
    while (g1(hi, alpha, n, u) > 0) == s:
        hi *= 2
        if hi > 1e12:
            raise ValueError("no theta for alpha=%r" % alpha)
    return bisect(lambda t: g1(t, alpha, n, u), lo, hi)


def pitman(hist, population):
    n = sum(j * c for j, c in hist)
    u = sum(c for _, c in hist)

    def h(alpha):
        return g2(theta_of(alpha, n, u), alpha, hist, u)

    alpha = bisect(h, 1e-6, 1 - 1e-6, iterations=80)
    theta = theta_of(alpha, n, u)
    uniques = math.exp(math.lgamma(theta + 1) - math.lgamma(theta + alpha) + alpha * math.log(population))
    return theta, alpha, uniques


def main():
    hist = [(1, 600), (2, 150), (3, 60), (5, 20), (20, 5)]
    for population in (1e7, 1e8):
        theta, alpha, uniques = pitman(hist, population)
        print("unit histogram N=%g: theta=%r alpha=%r uniques=%r" % (population, theta, alpha, uniques))

    with open("datasets/adult/adult.csv", encoding="utf-8") as f:
        next(f)
        classes = Counter(line.rstrip("\r\n") for line in f if line.strip())
    sizes = Counter(classes.values())
    hist = sorted(sizes.items())
    population = 317238626
    theta, alpha, uniques = pitman(hist, population)
    print("adult9 n=%d classes=%d uniques(sample)=%d" % (sum(classes.values()), len(classes), sizes[1]))
    print("adult9 N=%d: theta=%r alpha=%r uniques=%r fraction=%r" % (
        population, theta, alpha, uniques, uniques / population))
    print("ARX 3.9.2 risk-adult9: uniques=1.2339373406325705E7 fraction=0.038896188531360315")


if __name__ == "__main__":
    main()
