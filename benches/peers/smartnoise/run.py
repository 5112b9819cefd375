#!/usr/bin/env python3
"""Runs smartnoise-synth's MST or AIM synthesizer on a `;`-separated CSV over a public domain.

usage: run.py SYNTH EPS ROWS SEED IN.csv OUT.csv [--hierarchies DIR] [--delta 1e-9]
              [--sampler shipped|iid] [--verbose]

SYNTH is mst or aim. Every column's domain is the first column of DIR/<column>.csv (default DIR:
`hierarchies/` beside IN.csv), so it is public and costs no budget: each column gets a smartnoise
LabelTransformer fitted on that value list, never on the data, and the resulting TableTransformer
is handed to fit() already fitted (preprocessor_eps=0, nothing is inferred from the data). A data
value outside its column's domain is an error. The synthesizer then spends all of (EPS, delta).

--sampler shipped (default) samples as smartnoise 1.0.8 does, through mbi 1.1.0's default
"round" method, which puts spurious correlations between sibling columns (fixed upstream in mbi
2.0.0, which smartnoise-synth 1.0.8 excludes, see README.md); --sampler iid draws the records
i.i.d. from the same fitted model instead (mbi's method="sample"). Sampling is post-processing:
neither spends budget.

Writes OUT.csv (same header, `;`, the original value strings, the input's line ends) and prints
one JSON line on stdout; whatever the library prints goes to stderr.
"""
import argparse
import contextlib
import csv
import importlib.metadata as md
import json
import os
import platform
import random
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("synth", choices=["mst", "aim"])
    p.add_argument("epsilon", type=float)
    p.add_argument("rows", type=int)
    p.add_argument("seed", type=int)
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--hierarchies", help="folder of <column>.csv files (default: hierarchies/ beside IN.csv)")
    p.add_argument("--delta", type=float, default=1e-9)
    p.add_argument("--sampler", choices=["shipped", "iid"], default="shipped",
                   help="shipped: smartnoise's own sample() (mbi 1.1.0 'round'); iid: mbi method='sample'")
    p.add_argument("--verbose", action="store_true", help="the synthesizer's progress output, on stderr")
    a = p.parse_args()
    if a.epsilon <= 0 or a.rows <= 0 or not (0 < a.delta < 1):
        p.error("need EPS > 0, ROWS > 0 and 0 < delta < 1")
    return a


def read_table(path):
    with open(path, "rb") as f:
        first = f.readline()
    eol = "\r\n" if first.endswith(b"\r\n") else "\n"
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f, delimiter=";") if r]
    header, body = rows[0], rows[1:]
    for i, r in enumerate(body):
        if len(r) != len(header):
            sys.exit(f"{path}: row {i + 2} has {len(r)} fields, header has {len(header)}")
    return header, body, eol


def read_domain(hdir, column):
    path = os.path.join(hdir, column + ".csv")
    if not os.path.isfile(path):
        sys.exit(f"no hierarchy file for column {column!r} ({path}): its domain must be declared")
    values = []
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.reader(f, delimiter=";"):
            if r and r[0] not in values:
                values.append(r[0])
    if len(values) < 1:
        sys.exit(f"{path}: empty domain")
    return values


class _IIDSampler:
    """Stands in for the fitted mbi model in smartnoise's sample(): i.i.d. records from it."""

    def __init__(self, model):
        self.model = model

    def synthetic_data(self, rows=None):
        return self.model.synthetic_data(rows=rows, method="sample")


def versions():
    out = {"python": platform.python_version()}
    for d in ["smartnoise-synth", "smartnoise-sql", "mbi", "opendp", "numpy", "pandas", "scipy", "jax", "jaxlib"]:
        try:
            out[d] = md.version(d)
        except md.PackageNotFoundError:
            out[d] = None
    return out


def main():
    a = parse_args()
    header, body, eol = read_table(a.input)
    hdir = a.hierarchies or os.path.join(os.path.dirname(os.path.abspath(a.input)), "hierarchies")
    domains = [read_domain(hdir, c) for c in header]
    for j, (c, dom) in enumerate(zip(header, domains)):
        outside = {r[j] for r in body} - set(dom)
        if outside:
            sys.exit(f"column {c!r}: values outside its declared domain: {sorted(outside)[:10]}")

    import numpy as np
    import pandas as pd
    from snsynth import Synthesizer
    from snsynth.transform.label import LabelTransformer
    from snsynth.transform.table import TableTransformer

    # Public domain: one LabelTransformer per column, fitted on the domain list only.
    transformers = []
    for dom in domains:
        t = LabelTransformer(nullable=False)
        t.fit(dom)
        assert t.fit_complete and t.cardinality == [len(dom)]
        transformers.append(t)
    table = TableTransformer(transformers)
    assert table.fit_complete and not table.needs_epsilon

    df = pd.DataFrame(body, columns=header, dtype=object)
    random.seed(a.seed)
    np.random.seed(a.seed)  # AIM, MST's selection, mbi's sampling; OpenDP's noise is not seedable

    synth = Synthesizer.create(a.synth, epsilon=a.epsilon, delta=a.delta, verbose=a.verbose)
    with contextlib.redirect_stdout(sys.stderr):
        t0 = time.perf_counter()
        synth.fit(df, transformer=table, preprocessor_eps=0.0)
        t1 = time.perf_counter()
        if a.sampler == "iid":
            synth.synthesizer = _IIDSampler(synth.synthesizer)
        out = synth.sample(a.rows)
        t2 = time.perf_counter()

    pre_eps, pre_delta = table.odometer.spent
    if pre_eps != 0.0 or pre_delta != 0.0 or synth.epsilon != a.epsilon:
        sys.exit(f"smartnoise spent budget on preprocessing: {table.odometer.spent}, epsilon left {synth.epsilon}")
    if list(out.columns) != header or len(out) != a.rows:
        sys.exit(f"unexpected sample: columns {list(out.columns)}, {len(out)} rows")
    for c, dom in zip(header, domains):
        bad = set(out[c]) - set(dom)
        if bad:
            sys.exit(f"column {c!r}: sampled values outside the domain: {sorted(map(str, bad))[:10]}")

    with open(a.output, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";", lineterminator=eol)
        w.writerow(header)
        w.writerows(out[header].itertuples(index=False, name=None))

    print(json.dumps({
        "synth": a.synth,
        "epsilon": a.epsilon,
        "delta": a.delta,
        "rows": int(len(out)),
        "fit_s": round(t1 - t0, 4),
        "sample_s": round(t2 - t1, 4),
        "seed": a.seed,
        "sampler": a.sampler,
        "input_rows": len(body),
        "domain_sizes": {c: len(d) for c, d in zip(header, domains)},
        "preprocessor_eps_spent": pre_eps,
        "versions": versions(),
    }), flush=True)


if __name__ == "__main__":
    main()
