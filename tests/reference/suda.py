#!/usr/bin/env python3
"""SUDA and DIS-SUDA scores of the small tables in src/risk/suda.rs's tests, by brute force.

Independent of the crate: every subset of the key variables is tried, a record's MSUs are the
subsets on which it is unique while no proper subset is, and the scores follow Elliot et al.'s
formulas as sdcMicro's suda2 implements them (src/Suda2.h, original_scores = TRUE):

    score(r)  = sum over the MSUs of r of (M - |MSU|)!
    DIS       = U f / (U f + P (1 - f))     U: records unique on all M variables,
                                            P: records in classes of exactly 2, f = 0.01
    q         = 1 + (8 - M)/20,  A = sum over records with score > 0 of score^-q
    DIS-SUDA  = 1 / (1 + (U/DIS - U) / (score^q A))   (0 for score 0)

DIS and DIS-SUDA are computed in decimal arithmetic with 40 digits (sdcMicro itself computes
DIS and q in single precision, so its disscore agrees with these to about 1e-7 only).

Usage: python3 tests/reference/suda.py
"""

from decimal import Decimal, getcontext
from itertools import combinations
from math import factorial

getcontext().prec = 40

TABLES = {
    # M = 2 (the crate's msus_by_hand).
    "m2": [(0, 0), (0, 1), (1, 0), (1, 0)],
    # M = 3, with MSUs of every size.
    "m3": [(0, 0, 0), (0, 0, 1), (0, 1, 0), (1, 0, 0), (1, 1, 1), (1, 1, 1), (0, 1, 1), (2, 0, 1)],
    # M = 3, sdcMicro tests/testthat/test_suda2.R "suda2 simple example contribution".
    "m3_sdcmicro": [(2, 0, 0), (1, 3, 6), (1, 0, 0)],
    # M = 4, sdcMicro test_suda2.R "suda2 book example" (age, gender, income, education).
    "m4_book": [
        ("20s", "male", "50k+", "highschool"),
        ("20s", "male", "50k+", "highschool"),
        ("20s", "male", "50k-", "highschool"),
        ("20s", "male", "50k-", "highschool"),
        ("20s", "female", "50k-", "university"),
        ("20s", "female", "50k-", "highschool"),
        ("20s", "female", "50k-", "middleschool"),
        ("60s", "male", "50k-", "university"),
    ],
    # M = 4, sdcMicro test_suda2.R "suda2 sdc guideline" (residence, gender, education, labour).
    "m4_guideline": [
        ("Urban", "Female", "Secondary incomplete", "Employed"),
        ("Urban", "Female", "Secondary incomplete", "Employed"),
        ("Urban", "Female", "Primary incomplete", "Non-LF"),
        ("Urban", "Male", "Secondary complete", "Employed"),
        ("Rural", "Female", "Secondary complete", "Unemployed"),
        ("Urban", "Male", "Secondary complete", "Employed"),
        ("Urban", "Female", "Primary complete", "Non-LF"),
        ("Urban", "Male", "Post-secondary", "Unemployed"),
        ("Urban", "Female", "Secondary incomplete", "Non-LF"),
        ("Urban", "Female", "Secondary incomplete", "Non-LF"),
    ],
}


def unique_on(rows, subset, r):
    key = tuple(rows[r][v] for v in subset)
    return sum(1 for row in rows if tuple(row[v] for v in subset) == key) == 1


def suda(rows, f=Decimal("0.01")):
    m = len(rows[0])
    msus = []
    for r in range(len(rows)):
        found = []
        for k in range(1, m + 1):
            for subset in combinations(range(m), k):
                if unique_on(rows, subset, r) and not any(set(s) < set(subset) for s in found):
                    found.append(subset)
        msus.append(found)
    scores = [sum(factorial(m - len(s)) for s in found) for found in msus]
    counts = {}
    for row in rows:
        counts[row] = counts.get(row, 0) + 1
    u = Decimal(sum(1 for c in counts.values() if c == 1))
    p = Decimal(2 * sum(1 for c in counts.values() if c == 2))
    dis = u * f / (u * f + p * (1 - f)) if u else Decimal(0)
    q = 1 + (Decimal(8) - m) / 20
    a = sum((Decimal(s) ** -q for s in scores if s), Decimal(0))
    dis_scores = [
        1 / (1 + (u / dis - u) / (Decimal(s) ** q * a)) if s and dis else Decimal(0) for s in scores
    ]
    return msus, scores, dis, dis_scores


def main():
    for name, rows in TABLES.items():
        msus, scores, dis, dis_scores = suda(rows)
        print(name)
        for r, found in enumerate(msus):
            names = ["{" + ",".join("v%d" % v for v in s) + "}" for s in found]
            print("  record %d: MSUs %s score %d DIS-SUDA %s" % (r, " ".join(names) or "-", scores[r],
                                                                 format(dis_scores[r], ".17g")))
        print("  DIS %s" % format(dis, ".17g"))


if __name__ == "__main__":
    main()
