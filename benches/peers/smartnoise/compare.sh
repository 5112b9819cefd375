#!/usr/bin/env bash
# Side by side on Adult: this crate's MST (the `synthesize` example; plain,
# and with every marginal measured per salary class) and AIM against
# smartnoise-synth's MST and AIM at ε ∈ {0.3, 1, 3}, δ = 1e-9. Adult is split
# once (seeded) into 80 % training and 20 % held-out records; every
# synthesizer learns from the training records and samples as many; every
# output is measured by `synthesize --evaluate` (marginal TVD against the
# training records, a decision tree trained on the output and tested on the
# held-out records, exact copies).
#
#   benches/peers/smartnoise/compare.sh [OUT_DIR] [OUR_SEEDS] [PEER_RUNS]
#
# EPSILONS (default "0.3 1 3"), OURS (default "mst cond aim") and PEERS
# (default "mst aim") narrow a run, e.g. EPSILONS=0.3 OURS=aim PEERS=aim.
#
# Needs `cargo build --release --example synthesize` and install.sh's venv.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
out=${1:-/tmp/synth-compare}
our_seeds=${2:-5}
peer_runs=${3:-1}
venv=${SMARTNOISE_VENV:-$HOME/.cache/smartnoise-peer/venv}
bin=$repo/target/release/examples/synthesize
mkdir -p "$out"
python3 - "$repo" "$out" <<'PY'
import random, sys
repo, out = sys.argv[1], sys.argv[2]
lines = open(f"{repo}/datasets/adult/adult.csv", newline="").read().splitlines(keepends=True)
header, rows = lines[0], lines[1:]
random.Random(2026).shuffle(rows)
cut = len(rows) // 5
open(f"{out}/test.csv", "w", newline="").write(header + "".join(rows[:cut]))
open(f"{out}/train.csv", "w", newline="").write(header + "".join(rows[cut:]))
toml = open(f"{repo}/datasets/adult/adult9-synth.toml").read()
toml = toml.replace('path = "adult.csv"', 'path = "train.csv"')
toml = toml.replace('hierarchy = "hierarchies/', f'hierarchy = "{repo}/datasets/adult/hierarchies/')
open(f"{out}/train.toml", "w").write(toml)
PY
mkdir -p "$out/hierarchies" && cp "$repo"/datasets/adult/hierarchies/*.csv "$out/hierarchies/"
rows=$(( $(wc -l < "$out/train.csv") - 1 ))
echo "date $(date -u +%FT%TZ), build $(git -C "$repo" rev-parse --short HEAD), train $rows rows"
epsilons=${EPSILONS:-0.3 1 3}
ours=${OURS:-mst cond aim}
peers=${PEERS:-mst aim}
export EPSILONS="$epsilons" OURS="$ours" PEERS="$peers"
for eps in $epsilons; do
  for seed in $(seq 1 "$our_seeds"); do
    for kind in $ours; do
      case $kind in
        mst) name=ours; extra=() ;;
        cond) name=cond; extra=(--condition salary-class) ;;
        aim) name=oaim; extra=(--method aim) ;;
      esac
      "$bin" --config "$out/train.toml" --epsilon "$eps" --rows "$rows" --seed "$seed" \
        "${extra[@]}" --test "$out/test.csv" --output "$out/$name-$eps-$seed.csv" \
        --json > "$out/$name-$eps-$seed.json"
    done
  done
  for synth in $peers; do
    for run in $(seq 1 "$peer_runs"); do
      "$venv/bin/python" "$here/run.py" "$synth" "$eps" "$rows" "$run" "$out/train.csv" \
        "$out/$synth-$eps-$run.csv" --sampler "${SAMPLER:-iid}" > "$out/$synth-$eps-$run.run.json" 2> "$out/$synth-$eps-$run.log"
      "$bin" --config "$out/train.toml" --evaluate "$out/$synth-$eps-$run.csv" \
        --test "$out/test.csv" --json > "$out/$synth-$eps-$run.json"
    done
  done
done
python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
ours, peers = os.environ["OURS"].split(), os.environ["PEERS"].split()
def row(name, eps, files, timing):
    us = [json.load(open(f))["utility"] for f in files]
    med = lambda xs: statistics.median(xs)
    tvd = [med([u["distances"][i]["mean"] for u in us]) for i in range(3)]
    acc = med([u["classifier"]["trained_on_synthetic"] for u in us])
    real = us[0]["classifier"]["trained_on_real"]
    cp = med([u["exact_copies"] for u in us])
    print(f"| {name} | {eps} | {len(us)} | {tvd[0]:.4f} | {tvd[1]:.4f} | {tvd[2]:.4f} | {acc:.4f} (real {real:.4f}) | {cp:.3f} | {timing} |")
print("| synthesizer | ε | runs | 1-way TVD | 2-way TVD | 3-way TVD | accuracy, trained on synthetic | exact copies | fit + sample |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
names = {"mst": ("ours", "deidentify MST"),
         "cond": ("cond", "deidentify MST, conditioned on salary class"),
         "aim": ("oaim", "deidentify AIM")}
for eps in os.environ["EPSILONS"].split():
    for kind in ours:
        prefix, label = names[kind]
        files = sorted(glob.glob(f"{out}/{prefix}-{eps}-*.json"))
        ms = statistics.median(json.load(open(f))["synthesis"]["elapsed_ms"] for f in files)
        row(label, eps, files, f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1e3:.1f} s")
    for synth in peers:
        runs = sorted(glob.glob(f"{out}/{synth}-{eps}-*.run.json"))
        secs = statistics.median(json.load(open(f))["fit_s"] + json.load(open(f))["sample_s"] for f in runs)
        row(f"smartnoise {synth.upper()}", eps, [f.replace(".run.json", ".json") for f in runs], f"{secs:.1f} s")
PY
