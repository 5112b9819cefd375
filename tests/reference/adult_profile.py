#!/usr/bin/env python3
"""Independent reference profile of privacy-model quantities (docs/methods.md §3.1-3.8).

Written from the definitions (docs/methods.md) (not from pycanon). Pure Python/pandas; no cargo.

Usage:
    python3 tests/reference/adult_profile.py            # own values only
    python3 tests/reference/adult_profile.py --pycanon  # also run pycanon and compare

Data: ARX's benchmark folder with adult.csv and adult_hierarchy_*.csv, given in env ARX_DATA.
Output: tests/data/adult_profile_reference.json (relative to the repo root).

Conventions
- Generalization: value -> hierarchy label at the node's level (column `level` of the hierarchy file).
- Classes: records sharing all generalized QI label strings. No suppression.
- p = SA distribution over the whole table, q = SA distribution within the class.
- EMD values (equal / hierarchical / ordered), beta, alpha are computed in exact rational
  arithmetic (fractions.Fraction) and rounded to double once, so they are correctly rounded.
- Entropy / delta use math.log (natural log); entropy sums use math.fsum.
"""
import json
import math
import os
import sys
from collections import Counter
from fractions import Fraction

import pandas as pd

DATA = os.environ.get("ARX_DATA") or sys.exit("set ARX_DATA to the folder of adult.csv and its hierarchies")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "tests", "data", "adult_profile_reference.json")

ADULT_QI = ["sex", "age", "race", "marital-status", "education",
            "native-country", "workclass", "salary-class"]
ADULT_SA = "occupation"
NODES = {
    "A": [0, 0, 0, 0, 0, 0, 0, 0],
    "B": [0, 2, 0, 1, 1, 1, 1, 0],
    "C": [1, 0, 1, 1, 2, 2, 2, 1],
    "D": [1, 3, 1, 1, 3, 2, 2, 1],
    "E": [0, 3, 1, 1, 3, 2, 1, 1],
}
RECURSIVE_C = 2


# ----------------------------------------------------------------------------- I/O
def read_table(path):
    """';'-separated, header, CRLF or LF line ends, no quoting. All values as str."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = [ln.rstrip("\r\n") for ln in f.read().split("\n")]
    lines = [ln.rstrip("\r") for ln in lines if ln.strip("\r") != ""]
    header = lines[0].split(";")
    rows = [ln.split(";") for ln in lines[1:]]
    assert all(len(r) == len(header) for r in rows)
    return pd.DataFrame(rows, columns=header, dtype=str)


def read_hierarchy(path):
    """No header; col 0 = original value, col i = label at level i."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = [ln.rstrip("\r") for ln in f.read().split("\n")]
    rows = [ln.split(";") for ln in lines if ln != ""]
    width = len(rows[0])
    assert all(len(r) == width for r in rows), path
    return {r[0]: r for r in rows}


def generalize(df, qis, levels, hier):
    out = pd.DataFrame(index=df.index)
    for col, lev in zip(qis, levels):
        h = hier[col]
        missing = set(df[col]) - set(h)
        assert not missing, (col, missing)
        out[col] = df[col].map(lambda v, h=h, lev=lev: h[v][lev])
    return out


# ------------------------------------------------------------------------- metrics
def hier_emd_bottom_up(p, q, hrows):
    """docs/methods.md §3.3 bottom-up algorithm, exact rationals.
    p, q: dict leaf -> Fraction. hrows: leaf -> [leaf, lvl1, ..., root]. H = len-1.
    Nodes are identified by their path from the root (labels may repeat across branches)."""
    H = len(next(iter(hrows.values()))) - 1
    # node id at height h for leaf: tuple of labels from root down to level h
    def node_id(leaf, h):
        r = hrows[leaf]
        return tuple(r[H:h - 1:-1]) if h > 0 else tuple(r[H:0:-1]) + (leaf,)
    extra = {}
    for leaf in hrows:
        extra[node_id(leaf, 0)] = p.get(leaf, Fraction(0)) - q.get(leaf, Fraction(0))
    total = Fraction(0)
    for h in range(1, H + 1):
        children = {}
        for leaf in hrows:
            children.setdefault(node_id(leaf, h), set()).add(node_id(leaf, h - 1))
        new_extra = {}
        for node, kids in children.items():
            ex = [extra[k] for k in kids]
            pos = sum((e for e in ex if e > 0), Fraction(0))
            neg = -sum((e for e in ex if e < 0), Fraction(0))
            total += Fraction(h, H) * min(pos, neg)
            new_extra[node] = sum(ex, Fraction(0))
        extra = new_extra
    assert len(extra) == 1 and list(extra.values())[0] == 0
    return total


def hier_emd_tree_formula(p, q, hrows):
    """Alternative: the ground distance LCA-level/H is the path metric of the hierarchy tree
    with every edge weighted 1/(2H) (all leaves at depth H), and on a tree
    EMD = sum over non-root nodes of w(edge to parent) * |mass imbalance of the subtree|."""
    H = len(next(iter(hrows.values()))) - 1
    sub = Counter()
    for leaf, r in hrows.items():
        d = p.get(leaf, Fraction(0)) - q.get(leaf, Fraction(0))
        for h in range(0, H):  # non-root ancestors incl. the leaf itself
            key = (h,) + tuple(r[H:h:-1]) + (r[h],)
            sub[key] += d
    return sum((abs(v) for v in sub.values()), Fraction(0)) / (2 * H)


def hier_emd_lp(p, q, hrows):
    """Generic transportation LP (scipy.optimize.linprog, HiGHS)."""
    import numpy as np
    from scipy.optimize import linprog
    H = len(next(iter(hrows.values()))) - 1
    leaves = sorted(hrows)
    n = len(leaves)

    def dist(a, b):
        if a == b:
            return 0.0
        ra, rb = hrows[a], hrows[b]
        for lev in range(1, H + 1):
            if ra[lev:] == rb[lev:]:
                return lev / H
        raise AssertionError

    C = np.array([[dist(a, b) for b in leaves] for a in leaves]).ravel()
    pv = np.array([float(p.get(v, 0)) for v in leaves])
    qv = np.array([float(q.get(v, 0)) for v in leaves])
    A = []
    for i in range(n):
        row = np.zeros(n * n); row[i * n:(i + 1) * n] = 1; A.append(row)
    for j in range(n):
        row = np.zeros(n * n); row[j::n] = 1; A.append(row)
    res = linprog(C, A_eq=np.array(A), b_eq=np.concatenate([pv, qv]),
                  bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun


def ordered_emd(p, q, ordered_values):
    """docs/methods.md §3.3 ordered distance, exact: (1/(m-1)) sum_i |sum_{j<=i} (q_j - p_j)|."""
    m = len(ordered_values)
    if m == 1:
        return Fraction(0)
    cum, tot = Fraction(0), Fraction(0)
    for v in ordered_values:
        cum += q.get(v, Fraction(0)) - p.get(v, Fraction(0))
        tot += abs(cum)
    return tot / (m - 1)


def recursive_l_of_class(counts_desc, c):
    """Largest l with m >= l and n_1 < c*(n_l + ... + n_m) (1-based, counts descending)."""
    best = 0
    for l in range(1, len(counts_desc) + 1):
        if counts_desc[0] < c * sum(counts_desc[l - 1:]):
            best = l
        else:
            break  # tail sums only shrink with l
    return best


def min_c_for_l(counts_desc, l):
    """Smallest integer c with n_1 < c*(n_l+...+n_m) (None if m < l)."""
    if len(counts_desc) < l:
        return None
    tail = sum(counts_desc[l - 1:])
    return counts_desc[0] // tail + 1


def profile(gen_df, sa_series, qis, sa_hier=None, sa_order=None, with_lp_sample=0):
    """All quantities for one node. gen_df: generalized QIs, sa_series: SA values."""
    n = len(gen_df)
    N = Counter(sa_series)
    p = {v: Fraction(c, n) for v, c in N.items()}
    keys = list(map(tuple, gen_df[qis].itertuples(index=False, name=None)))
    classes = {}
    for key, v in zip(keys, sa_series):
        classes.setdefault(key, Counter())[v] += 1
    sizes = Counter(sum(cnt.values()) for cnt in classes.values())

    res = {"rows": n, "classes": len(classes), "k": min(sizes)}
    res["classes_of_size_1"] = sizes.get(1, 0)
    res["size_histogram"] = {str(s): sizes[s] for s in sorted(sizes)}

    l_distinct = None
    min_H, min_H_counts = None, None
    rec_l, rec_counts = None, None
    t_eq, t_eq_counts = Fraction(-1), None
    t_h, t_h_counts = Fraction(-1), None
    t_o, t_o_counts = Fraction(-1), None
    delta, delta_where = 0.0, None
    beta, beta_where = Fraction(0), None
    enh_viol = []
    max_ratio_gain_over_neglnp = 0.0
    alpha, alpha_counts = Fraction(0), None
    lp_checked, lp_maxdiff, tree_maxdiff = 0, 0.0, Fraction(0)
    c_for_ldistinct = 0
    entropy_exact_ties = 0

    cls_list = list(classes.values())
    for idx, cnt in enumerate(cls_list):
        T = sum(cnt.values())
        desc = sorted(cnt.values(), reverse=True)
        m = len(desc)
        pattern = desc
        # distinct
        if l_distinct is None or m < l_distinct:
            l_distinct = m
        # entropy (natural log)
        Hs = -math.fsum((c / T) * math.log(c / T) for c in desc)
        if min_H is None or Hs < min_H:
            min_H, min_H_counts = Hs, pattern
        # recursive (c,l)
        rl = recursive_l_of_class(desc, RECURSIVE_C)
        if rec_l is None or rl < rec_l:
            rec_l, rec_counts = rl, pattern
        q = {v: Fraction(c, T) for v, c in cnt.items()}
        # t equal
        emd = sum((abs(p[v] - q.get(v, Fraction(0))) for v in p), Fraction(0)) / 2
        if emd > t_eq:
            t_eq, t_eq_counts = emd, dict(cnt)
        # t hierarchical
        if sa_hier is not None:
            eh = hier_emd_bottom_up(p, q, sa_hier)
            et = hier_emd_tree_formula(p, q, sa_hier)
            tree_maxdiff = max(tree_maxdiff, abs(eh - et))
            if eh > t_h:
                t_h, t_h_counts = eh, dict(cnt)
            if with_lp_sample and idx % with_lp_sample == 0:
                lp_maxdiff = max(lp_maxdiff, abs(hier_emd_lp(p, q, sa_hier) - float(eh)))
                lp_checked += 1
        if sa_order is not None:
            eo = ordered_emd(p, q, sa_order)
            if eo > t_o:
                t_o, t_o_counts = eo, dict(cnt)
        # delta disclosure (present values only, natural log)
        for v, c in cnt.items():
            d = abs(math.log(Fraction(c * n, T * N[v])))  # exact ratio, one log
            if d > delta:
                delta, delta_where = d, (dict(cnt), v)
        # beta
        for v, c in cnt.items():
            if q[v] > p[v]:
                g = (q[v] - p[v]) / p[v]
                if g > beta:
                    beta, beta_where = g, (dict(cnt), v)
                lim = -math.log(p[v])
                if float(g) > lim:
                    enh_viol.append((float(g), lim, v, T))
                max_ratio_gain_over_neglnp = max(max_ratio_gain_over_neglnp, float(g) / lim)
        # alpha
        a = Fraction(desc[0], T)
        if a > alpha:
            alpha, alpha_counts = a, pattern

    # c needed for the table-wide distinct l (what pycanon claims to report)
    for cnt in cls_list:
        desc = sorted(cnt.values(), reverse=True)
        c = min_c_for_l(desc, l_distinct)
        c_for_ldistinct = max(c_for_ldistinct, c)

    res["l_distinct"] = l_distinct
    res["min_entropy_nats"] = min_H
    res["l_entropy"] = math.exp(min_H)
    res["l_entropy_worst_class_counts_desc"] = min_H_counts
    res["recursive_c"] = RECURSIVE_C
    res["recursive_c_l"] = rec_l
    res["recursive_worst_class_counts_desc"] = rec_counts
    res["min_integer_c_for_l_distinct"] = c_for_ldistinct
    res["t_equal"] = float(t_eq)
    res["t_equal_exact"] = str(t_eq)
    res["t_equal_worst_class"] = t_eq_counts
    if sa_hier is not None:
        res["t_hierarchical"] = float(t_h)
        res["t_hierarchical_exact"] = str(t_h)
        res["t_hierarchical_H"] = len(next(iter(sa_hier.values()))) - 1
        res["t_hierarchical_worst_class"] = t_h_counts
        res["t_hierarchical_check"] = {
            "tree_formula_max_abs_diff_exact": str(tree_maxdiff),
            "lp_classes_checked": lp_checked,
            "lp_max_abs_diff": lp_maxdiff,
            "lp_on_worst_class": hier_emd_lp(
                p, {v: Fraction(c, sum(t_h_counts.values())) for v, c in t_h_counts.items()},
                sa_hier),
        }
    if sa_order is not None:
        res["t_ordered"] = float(t_o)
        res["t_ordered_exact"] = str(t_o)
        res["t_ordered_worst_class"] = t_o_counts
    res["delta_disclosure"] = delta
    res["delta_disclosure_where"] = {"class": delta_where[0], "value": delta_where[1]}
    res["beta_basic"] = float(beta)
    res["beta_basic_exact"] = str(beta)
    res["beta_basic_where"] = ({"class": beta_where[0], "value": beta_where[1]}
                               if beta_where else None)
    res["beta_enhanced"] = None if enh_viol else float(beta)
    res["beta_enhanced_violations"] = len(enh_viol)
    res["beta_enhanced_max_gain_over_neg_ln_p"] = max_ratio_gain_over_neglnp
    res["alpha"] = float(alpha)
    res["alpha_exact"] = str(alpha)
    res["alpha_worst_class_counts_desc"] = alpha_counts
    return res


# ------------------------------------------------------------------------- pycanon
def run_pycanon(df, qis, sas):
    from pycanon import anonymity as an
    df = df.reset_index(drop=True)
    out = {}
    out["k"] = int(an.k_anonymity(df, qis))
    a, k = an.alpha_k_anonymity(df, qis, sas)
    out["alpha"] = float(a)
    out["l_distinct"] = int(an.l_diversity(df, qis, sas))
    out["l_entropy"] = int(an.entropy_l_diversity(df, qis, sas))
    c, l = an.recursive_c_l_diversity(df, qis, sas)
    out["recursive_c_l_returns_(c,l)"] = [None if c != c else int(c), int(l)]
    out["t_closeness"] = float(an.t_closeness(df, qis, sas))
    out["beta_basic"] = float(an.basic_beta_likeness(df, qis, sas))
    out["beta_enhanced"] = float(an.enhanced_beta_likeness(df, qis, sas))
    out["delta_disclosure"] = float(an.delta_disclosure(df, qis, sas))
    return out


def recursive_handcheck(g, sa):
    """pycanon's recursive_c_l_diversity on (i) a synthetic 2-class table and (ii) the 3 largest
    real classes of a node, versus the docs/methods.md §3.2 definition (counts sorted DESCENDING)."""
    from pycanon import anonymity as an
    out = {}
    syn = pd.DataFrame({"q": ["a"] * 7 + ["b"] * 4, "s": list("xxxxxyz") + list("uvww")})
    c, l = an.recursive_c_l_diversity(syn, ["q"], ["s"])
    out["synthetic"] = {
        "class_counts_desc": [[5, 1, 1], [2, 1, 1]],
        "pycanon_(c,l)": [int(c), int(l)],
        "correct_min_integer_c_for_l3": max(min_c_for_l([5, 1, 1], 3), min_c_for_l([2, 1, 1], 3)),
        "correct_largest_l_for_c2": min(recursive_l_of_class([5, 1, 1], 2),
                                        recursive_l_of_class([2, 1, 1], 2)),
    }
    df = g.copy(); df["SA"] = list(sa)
    qis = list(g.columns)
    sizes = df.groupby(qis).size().sort_values(ascending=False)
    keys = list(sizes.index[:3])
    mask = pd.Series(False, index=df.index)
    classes = []
    for key in keys:
        m = (df[qis] == pd.Series(key, index=qis)).all(axis=1)
        mask |= m
        desc = sorted(Counter(df.loc[m, "SA"]).values(), reverse=True)
        classes.append(desc)
    sub = df[mask].reset_index(drop=True)
    c, l = an.recursive_c_l_diversity(sub, qis, ["SA"])
    asc = [sorted(d) for d in classes]
    out["node_C_three_largest_classes"] = {
        "class_counts_desc": classes,
        "pycanon_(c,l)": [int(c), int(l)],
        "pycanon_per_class_formula_floor(asc[0]/sum(asc[l-1:])+1)":
            [math.floor(a[0] / sum(a[l - 1:]) + 1) for a in asc],
        "correct_min_integer_c_per_class_for_that_l": [min_c_for_l(d, l) for d in classes],
        "correct_largest_l_for_c2_per_class": [recursive_l_of_class(d, 2) for d in classes],
    }
    return out


def compare(mine, pc, t_key):
    rows = {}
    def eq(a, b):
        return a is not None and b is not None and abs(a - b) <= 1e-12 * max(1.0, abs(a))
    rows["k"] = mine["k"] == pc["k"]
    rows["alpha"] = eq(mine["alpha"], pc["alpha"])
    rows["l_distinct"] = mine["l_distinct"] == pc["l_distinct"]
    rows["l_entropy(pycanon floors to int)"] = int(mine["l_entropy"]) == pc["l_entropy"]
    rows["t_closeness vs " + t_key] = eq(mine[t_key], pc["t_closeness"])
    rows["beta_basic"] = eq(mine["beta_basic"], pc["beta_basic"])
    rows["beta_enhanced"] = eq(mine["beta_enhanced"], pc["beta_enhanced"])
    rows["delta_disclosure"] = eq(mine["delta_disclosure"], pc["delta_disclosure"])
    rows["recursive: pycanon c vs min integer c for l_distinct"] = (
        pc["recursive_c_l_returns_(c,l)"][0] == mine["min_integer_c_for_l_distinct"])
    return rows


# ---------------------------------------------------------------------------- main
def main():
    do_pycanon = "--pycanon" in sys.argv
    adult = read_table(os.path.join(DATA, "adult.csv"))
    assert len(adult) == 30162, len(adult)
    hier = {c: read_hierarchy(os.path.join(DATA, f"adult_hierarchy_{c}.csv"))
            for c in ADULT_QI + [ADULT_SA]}
    result = {"source": (
        "tests/reference/adult_profile.py: independent Python/pandas implementation of "
        "docs/methods.md §3.1-3.8 on ARX's adult.csv (30,162 rows, CRLF stripped); "
        "QIs = sex, age, race, marital-status, education, native-country, workclass, salary-class "
        "(level vectors in that order), SA = occupation; generalization = hierarchy label at the level; "
        "no suppression. EMDs, beta, alpha in exact rationals (Fraction) rounded once; entropy via "
        "math.fsum/math.log; delta = |ln| of the exact ratio q/p (present values only). Hierarchical EMD: "
        "§3.3 bottom-up, checked against the tree closed form (exact) and a scipy linprog transportation LP. "
        "pycanon 1.3.6 run on the same generalized tables for comparison (key 'pycanon')."),
        "nodes": {}}
    for name, levels in NODES.items():
        g = generalize(adult, ADULT_QI, levels, hier)
        prof = profile(g, list(adult[ADULT_SA]), ADULT_QI, sa_hier=hier[ADULT_SA],
                       with_lp_sample=50)
        prof = {"levels": levels, **prof}
        if do_pycanon:
            gdf = g.copy(); gdf[ADULT_SA] = adult[ADULT_SA].values
            pc = run_pycanon(gdf, ADULT_QI, [ADULT_SA])
            prof["pycanon"] = pc
            prof["pycanon_agrees"] = compare(prof, pc, "t_equal")
        if do_pycanon and name == "C":
            prof["pycanon_recursive_handcheck"] = recursive_handcheck(g, adult[ADULT_SA])
        result["nodes"][name] = prof
        print(name, {k: prof[k] for k in ("classes", "k", "l_distinct", "l_entropy",
                                          "recursive_c_l", "t_equal", "t_hierarchical",
                                          "delta_disclosure", "beta_basic", "beta_enhanced",
                                          "alpha")}, flush=True)

    # ---- Li et al. 2007 textbook table
    t2 = read_table(os.path.join(DATA, "test2.csv"))
    t2h = {c: read_hierarchy(os.path.join(DATA, f"test2_hierarchy_{c}.csv"))
           for c in ["ZIPCode", "Age", "Disease"]}
    qis2 = ["ZIPCode", "Age"]
    sal_order = sorted(set(t2["Salary"]), key=lambda s: float(s))
    # which (ZIP, Age) levels give which partitions (records numbered 1..9 in file order)
    partitions = {}
    for zl in range(len(next(iter(t2h["ZIPCode"].values())))):
        for al in range(len(next(iter(t2h["Age"].values())))):
            g = generalize(t2, qis2, [zl, al], t2h)
            grp = {}
            for i, key in enumerate(g.itertuples(index=False, name=None), start=1):
                grp.setdefault(key, []).append(i)
            partitions[f"[{zl},{al}]"] = sorted(grp.values())
    target = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    nodes_target = [k for k, v in partitions.items() if v == target]
    table5 = [[1, 3, 8], [2, 7, 9], [4, 5, 6]]
    nodes_t5 = [k for k, v in partitions.items() if v == table5]
    test2 = {"source": "test2.csv (Li et al. 2007 example), QIs ZIPCode, Age (levels [ZIP, Age]); "
                       "SA Disease (hierarchy test2_hierarchy_Disease.csv, H=3) and Salary (ordered, "
                       "m = 9 distinct values sorted numerically)",
             "partitions_by_node": {k: v for k, v in partitions.items()},
             "nodes_giving_123_456_789": nodes_target,
             "nodes_giving_138_279_456": nodes_t5,
             "nodes": {}}
    # profile the lowest node of each partition (higher ZIP levels give the same classes)
    for key in nodes_target[:1] + nodes_t5[:1]:
        lv = json.loads(key)
        g = generalize(t2, qis2, lv, t2h)
        entry = {"levels": lv, "classes_rows": partitions[key]}
        entry["Disease"] = profile(g, list(t2["Disease"]), qis2, sa_hier=t2h["Disease"],
                                   with_lp_sample=1)
        entry["Salary"] = profile(g, list(t2["Salary"]), qis2, sa_order=sal_order)
        # per-class EMDs for the paper comparison
        per = []
        n = len(t2)
        pD = {v: Fraction(c, n) for v, c in Counter(t2["Disease"]).items()}
        pS = {v: Fraction(c, n) for v, c in Counter(t2["Salary"]).items()}
        for rows in partitions[key]:
            sub = t2.iloc[[r - 1 for r in rows]]
            qD = {v: Fraction(c, len(rows)) for v, c in Counter(sub["Disease"]).items()}
            qS = {v: Fraction(c, len(rows)) for v, c in Counter(sub["Salary"]).items()}
            per.append({"rows": rows, "salaries": sorted(sub["Salary"], key=float),
                        "diseases": list(sub["Disease"]),
                        "t_ordered_salary": float(ordered_emd(pS, qS, sal_order)),
                        "t_ordered_salary_exact": str(ordered_emd(pS, qS, sal_order)),
                        "t_equal_disease": float(sum((abs(pD[v] - qD.get(v, 0)) for v in pD),
                                                     Fraction(0)) / 2),
                        "t_hierarchical_disease": float(hier_emd_bottom_up(pD, qD, t2h["Disease"])),
                        "t_hierarchical_disease_exact": str(hier_emd_bottom_up(pD, qD, t2h["Disease"])),
                        "t_hierarchical_disease_lp": hier_emd_lp(pD, qD, t2h["Disease"])})
        entry["per_class"] = per
        if do_pycanon:
            gdf = g.copy(); gdf["Disease"] = t2["Disease"].values
            gdf["Salary"] = t2["Salary"].astype(int).values
            entry["pycanon_Disease"] = run_pycanon(gdf, qis2, ["Disease"])
            entry["pycanon_Salary_t_closeness(ordered)"] = float(
                __import__("pycanon.anonymity", fromlist=["t_closeness"]).t_closeness(
                    gdf, qis2, ["Salary"]))
            entry["pycanon_agrees_Disease"] = compare(entry["Disease"], entry["pycanon_Disease"],
                                                      "t_equal")
        test2["nodes"][key] = entry
        print("test2", key, partitions[key],
              [(c["t_ordered_salary"], c["t_hierarchical_disease"]) for c in per], flush=True)
    result["test2"] = test2

    with open(OUT, "w") as f:
        json.dump(result, f, indent=1, sort_keys=False)  # json uses repr() for floats
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
