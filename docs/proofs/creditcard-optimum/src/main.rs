//! An exact branch and bound over a generalization lattice (k-anonymity with at most 2 % of the
//! records suppressed, ARX's Loss), written beside the crate to settle whether any node of
//! creditcard's lattice reaches Loss 0.70 (issue 17). It shares no code with the crate. See
//! README.md beside this file.
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

const USAGE: &str = "usage:
  creditcard-optimum search K FROZEN CAP
      the least Loss below CAP, with the FROZEN widest attributes at their tops
  creditcard-optimum proof K INCUMBENT CAP
      every setting of the twelve widest attributes, by layers, against INCUMBENT
      (the optimum of `search K 12`); each exact search is capped at CAP
environment:
  DEIDENTIFY_CREDITCARD  the folder of the data and its hierarchies (required)
  DEIDENTIFY_DATASET     the data's base name (default creditcard_int)
  BB_STATE               proof: a file of exact values, appended to and reused";

/// The share of the records that may be suppressed.
const SUPPRESSION: f64 = 0.02;

/// The attributes the proof sets first: the widest twelve (creditcard's amounts).
const AMOUNTS: usize = 12;

/// One quasi-identifier with its hierarchy, as codes per level.
struct Attr {
    name: String,
    /// `code[l][r]`: record r's value at level l.
    code: Vec<Vec<u32>>,
    /// `card[l]`: the number of values at level l.
    card: Vec<usize>,
    /// `u[l][v]`: ARX's Loss of value v at level l: (leaves under it − 1) / (leaves − 1).
    u: Vec<Vec<f64>>,
    /// `c[l]`: the mean Loss of the attribute at level l, without suppression.
    c: Vec<f64>,
    top: usize,
}

fn load(dir: &str, base: &str) -> (usize, Vec<Attr>) {
    let split = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split(';').map(str::to_string).collect())
            .collect()
    };
    let mut rows = split(&std::fs::read_to_string(format!("{dir}/{base}.csv")).unwrap());
    let header = rows.remove(0);
    let n = rows.len();
    let mut attrs = Vec::new();
    for (j, name) in header.iter().enumerate() {
        let hierarchy = std::fs::read_to_string(format!("{dir}/{base}_hierarchy_{name}.csv"));
        let hrows = split(&hierarchy.unwrap());
        let height = hrows[0].len() - 1;
        let domain = hrows.len();
        let leaf_index: HashMap<&str, usize> = hrows
            .iter()
            .enumerate()
            .map(|(i, r)| (r[0].as_str(), i))
            .collect();
        let (mut code, mut card, mut u, mut c) = (vec![], vec![], vec![], vec![]);
        for l in 0..=height {
            let mut ids: HashMap<&str, u32> = HashMap::new();
            let mut leaves: Vec<usize> = Vec::new();
            let mut of_leaf = vec![0u32; domain];
            for (i, r) in hrows.iter().enumerate() {
                let next = ids.len() as u32;
                let id = *ids.entry(r[l].as_str()).or_insert(next);
                if id as usize == leaves.len() {
                    leaves.push(0);
                }
                leaves[id as usize] += 1;
                of_leaf[i] = id;
            }
            let loss: Vec<f64> = leaves
                .iter()
                .map(|&k| (k as f64 - 1.0) / (domain as f64 - 1.0))
                .collect();
            let column: Vec<u32> = rows
                .iter()
                .map(|r| of_leaf[leaf_index[r[j].as_str()]])
                .collect();
            let mean = column.iter().map(|&x| loss[x as usize]).sum::<f64>() / n as f64;
            code.push(column);
            card.push(ids.len());
            u.push(loss);
            c.push(mean);
        }
        assert_eq!(card[height], 1, "{name}: the top has more than one value");
        attrs.push(Attr {
            name: name.clone(),
            code,
            card,
            u,
            c,
            top: height,
        });
    }
    (n, attrs)
}

/// A generation-stamped table from (class, code) to a new class id.
#[derive(Default)]
struct Refiner {
    map: FxHashMap<u64, u32>,
    stamp: Vec<u32>,
    id: Vec<u32>,
    generation: u32,
}

/// The largest (class, code) range the dense table serves; past it, a hash map.
const DENSE: usize = 1 << 23;

impl Refiner {
    /// Makes the dense table cover `range` keys and starts a new generation.
    fn dense(&mut self, range: usize) -> u32 {
        if self.stamp.len() < range {
            self.stamp.resize(range, 0);
            self.id.resize(range, 0);
        }
        self.generation += 1;
        self.generation
    }

    /// Refines `classes` by `codes`: the new class ids and sizes.
    fn refine(&mut self, classes: &[u32], codes: &[u32], card: usize) -> (Vec<u32>, Vec<u32>) {
        let mut out = Vec::with_capacity(classes.len());
        let mut sizes: Vec<u32> = Vec::new();
        let range = class_count(classes) * card;
        if range <= DENSE {
            let g = self.dense(range);
            for (&c, &x) in classes.iter().zip(codes) {
                let key = c as usize * card + x as usize;
                if self.stamp[key] != g {
                    self.stamp[key] = g;
                    self.id[key] = sizes.len() as u32;
                    sizes.push(0);
                }
                let id = self.id[key];
                sizes[id as usize] += 1;
                out.push(id);
            }
            return (out, sizes);
        }
        self.map.clear();
        for (&c, &x) in classes.iter().zip(codes) {
            let key = c as u64 * card as u64 + x as u64;
            let next = sizes.len() as u32;
            let id = *self.map.entry(key).or_insert(next);
            if id == next {
                sizes.push(0);
            }
            sizes[id as usize] += 1;
            out.push(id);
        }
        (out, sizes)
    }

    /// The records in classes below k once `classes` is refined by `codes`.
    fn small_after(&mut self, classes: &[u32], codes: &[u32], card: usize, k: u32) -> usize {
        let range = class_count(classes) * card;
        if range > DENSE {
            let (_, sizes) = self.refine(classes, codes, card);
            return small_count(&sizes, k);
        }
        let g = self.dense(range);
        // (`id` holds the counts here.)
        for (&c, &x) in classes.iter().zip(codes) {
            let key = c as usize * card + x as usize;
            if self.stamp[key] == g {
                self.id[key] += 1;
            } else {
                self.stamp[key] = g;
                self.id[key] = 1;
            }
        }
        classes
            .iter()
            .zip(codes)
            .filter(|&(&c, &x)| self.id[c as usize * card + x as usize] < k)
            .count()
    }
}

fn class_count(classes: &[u32]) -> usize {
    classes.iter().copied().max().unwrap_or(0) as usize + 1
}

fn small_count(sizes: &[u32], k: u32) -> usize {
    sizes.iter().filter(|&&s| s < k).map(|&s| s as usize).sum()
}

/// The problem: the records, k, the suppression limit, the attributes and the order in which
/// the search assigns them.
struct Problem<'a> {
    n: usize,
    k: u32,
    max_sup: usize,
    attrs: &'a [Attr],
    order: Vec<usize>,
}

/// One depth-first search's state.
struct Search<'a> {
    p: &'a Problem<'a>,
    /// Branches whose bound exceeds this (a sum over the attributes) are cut.
    cap: f64,
    /// The first `frozen` attributes of the order stay at their tops.
    frozen: usize,
    best: f64,
    best_levels: Vec<usize>,
    visited: u64,
    checks: u64,
    start: Instant,
    last: Instant,
    refiner: Refiner,
}

impl<'a> Search<'a> {
    fn new(p: &'a Problem<'a>, cap: f64, frozen: usize) -> Self {
        Search {
            p,
            cap,
            frozen,
            best: f64::INFINITY,
            best_levels: vec![],
            visited: 0,
            checks: 0,
            start: Instant::now(),
            last: Instant::now(),
            refiner: Refiner::default(),
        }
    }

    /// Whether attribute `a` at level `l` keeps the records in small classes within the limit.
    fn feasible_with(&mut self, classes: &[u32], a: usize, l: usize) -> bool {
        self.checks += 1;
        let at = &self.p.attrs[a];
        let small = self
            .refiner
            .small_after(classes, &at.code[l], at.card[l], self.p.k);
        small <= self.p.max_sup
    }

    /// The suppression cost on the first `depth` attributes of the order: each record in a
    /// class below k costs 1 − its Loss on each of them (it costs 1 in all, with its Loss
    /// counted in the attributes' means).
    fn suppression(&self, classes: &[u32], sizes: &[u32], levels: &[usize], depth: usize) -> f64 {
        let mut t = 0.0;
        for (r, &c) in classes.iter().enumerate() {
            if sizes[c as usize] < self.p.k {
                for &a in &self.p.order[..depth] {
                    let (at, l) = (&self.p.attrs[a], levels[a]);
                    t += 1.0 - at.u[l][at.code[l][r] as usize];
                }
            }
        }
        t / self.p.n as f64
    }

    /// The open attributes' least Loss, each at its lowest level in `mins`.
    fn rest(&self, mins: &[usize], from: usize) -> f64 {
        self.p.order[from..]
            .iter()
            .map(|&a| self.p.attrs[a].c[mins[a]])
            .sum()
    }

    fn progress(&mut self, levels: &[usize], depth: usize) {
        if self.last.elapsed().as_secs() < 10 {
            return;
        }
        self.last = Instant::now();
        let assigned: Vec<usize> = self.p.order[..depth].iter().map(|&a| levels[a]).collect();
        eprintln!(
            "{:.0}s visited {} checks {} best {:.6} at {:?}",
            self.start.elapsed().as_secs_f64(),
            self.visited,
            self.checks,
            self.best / self.p.attrs.len() as f64,
            assigned
        );
    }

    /// Assigns the attribute at `depth` of the order and searches on. `classes` and `sizes`
    /// are the records' classes under the levels assigned so far, `assigned` their Loss without
    /// suppression, `mins` the lowest levels the open attributes can take.
    fn dfs(
        &mut self,
        depth: usize,
        (classes, sizes): (&[u32], &[u32]),
        levels: &mut Vec<usize>,
        assigned: f64,
        mins: &[usize],
    ) {
        self.visited += 1;
        self.progress(levels, depth);
        let d = self.p.order.len();
        let sup = self.suppression(classes, sizes, levels, depth);
        if depth == d {
            if assigned + sup < self.best {
                self.best = assigned + sup;
                self.best_levels = levels.clone();
            }
            return;
        }
        let limit = self.cap.min(self.best) - 1e-9;
        // The bound, with each open attribute's lowest level refined lazily: it is feasible with
        // the assigned levels and the other open attributes at their tops.
        let mut mins = mins.to_vec();
        if assigned + sup + self.rest(&mins, depth) > limit {
            return;
        }
        for idx in depth..d {
            let a = self.p.order[idx];
            let top = self.p.attrs[a].top;
            while mins[a] < top && !self.feasible_with(classes, a, mins[a]) {
                mins[a] += 1;
            }
            if assigned + sup + self.rest(&mins, depth) > limit {
                return;
            }
        }
        let a = self.p.order[depth];
        let top = self.p.attrs[a].top;
        let lowest = if depth < self.frozen { top } else { mins[a] };
        let rest_after = self.rest(&mins, depth + 1);
        // Levels from the top down; the first infeasible one ends the loop (lower ones fail too).
        for l in (lowest..=top).rev() {
            let cost = self.p.attrs[a].c[l];
            if assigned + cost + sup + rest_after > limit {
                continue; // lower levels cost less: go on
            }
            let mut child_mins = mins.clone();
            child_mins[a] = l;
            levels[a] = l;
            if l == top {
                self.dfs(
                    depth + 1,
                    (classes, sizes),
                    levels,
                    assigned + cost,
                    &child_mins,
                );
            } else {
                let at = &self.p.attrs[a];
                let (refined, refined_sizes) =
                    self.refiner.refine(classes, &at.code[l], at.card[l]);
                self.checks += 1;
                if small_count(&refined_sizes, self.p.k) > self.p.max_sup {
                    levels[a] = top;
                    break;
                }
                let state = (&refined[..], &refined_sizes[..]);
                self.dfs(depth + 1, state, levels, assigned + cost, &child_mins);
            }
            levels[a] = top;
        }
    }
}

/// The least total Loss (a sum) below `cap` with the first twelve attributes of the order at
/// `amount_levels`: None when they alone are infeasible, `cap` when nothing is below it.
fn exact_total(p: &Problem, amount_levels: &[usize], cap: f64) -> Option<f64> {
    let mut search = Search::new(p, cap + 1e-9, 0);
    let mut levels: Vec<usize> = p.attrs.iter().map(|a| a.top).collect();
    let mut classes = vec![0u32; p.n];
    let mut sizes = vec![p.n as u32];
    let mut assigned = 0.0;
    for (&a, &l) in p.order[..AMOUNTS].iter().zip(amount_levels) {
        let at = &p.attrs[a];
        levels[a] = l;
        assigned += at.c[l];
        if l != at.top {
            (classes, sizes) = search.refiner.refine(&classes, &at.code[l], at.card[l]);
            if small_count(&sizes, p.k) > p.max_sup {
                return None;
            }
        }
    }
    let mins = vec![0usize; p.attrs.len()];
    search.dfs(AMOUNTS, (&classes, &sizes), &mut levels, assigned, &mins);
    Some(search.best.min(cap))
}

/// The settings of the twelve with exactly `m` of them below their tops (at level 1 or 2;
/// 3 stands for the top).
fn layer(m: usize) -> Vec<[usize; AMOUNTS]> {
    fn go(i: usize, left: usize, at: &mut [usize; AMOUNTS], out: &mut Vec<[usize; AMOUNTS]>) {
        if left == 0 {
            out.push(*at);
            return;
        }
        if i == AMOUNTS {
            return;
        }
        go(i + 1, left, at, out);
        for l in 1..=2 {
            at[i] = l;
            go(i + 1, left - 1, at, out);
            at[i] = 3;
        }
    }
    let mut out = Vec::new();
    go(0, m, &mut [3; AMOUNTS], &mut out);
    out
}

fn key(levels: &[usize; AMOUNTS]) -> u64 {
    levels.iter().fold(0u64, |acc, &l| acc * 4 + l as u64)
}

/// Exact values from `BB_STATE` (lines "key value"; "inf" when the twelve alone fail).
fn load_state(path: &str) -> FxHashMap<u64, f64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let values: FxHashMap<u64, f64> = text
        .lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(' ')?;
            let v = if v == "inf" {
                f64::INFINITY
            } else {
                v.parse().unwrap()
            };
            Some((k.parse().unwrap(), v))
        })
        .collect();
    eprintln!("{} exact values loaded from {path}", values.len());
    values
}

/// Every setting of the twelve widest attributes, layer by layer, against the incumbent `b`
/// (the optimum with all twelve at their tops; sums over the attributes, as is `cap`).
fn proof(p: &Problem, b: f64, cap: f64) {
    let amounts = &p.order[..AMOUNTS];
    for &a in amounts {
        let at = &p.attrs[a];
        assert_eq!(at.top, 3, "{}: the proof's layers need height 3", at.name);
        let mut search = Search::new(p, 0.0, 0);
        let feasible = search.feasible_with(&vec![0u32; p.n], a, 0);
        eprintln!("{} at level 0 alone feasible: {feasible}", at.name);
        assert!(
            !feasible,
            "level 0 of {} is feasible: extend the proof",
            at.name
        );
    }
    let c = |i: usize, l: usize| p.attrs[amounts[i]].c[l];
    // Lower bounds of the total for each setting; infinite: infeasible.
    let mut lb: FxHashMap<u64, f64> = FxHashMap::default();
    lb.insert(key(&[3; AMOUNTS]), b);
    let state = std::env::var("BB_STATE").ok();
    let known = state.as_deref().map(load_state).unwrap_or_default();
    let sink = Mutex::new(state.as_ref().map(|path| {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true).open(path).unwrap()
    }));
    let started = Instant::now();
    let mut exact_runs = 0usize;
    for m in 1..=AMOUNTS {
        let settings = layer(m);
        let (mut need, mut infeasible, mut derived) = (Vec::new(), 0, 0);
        for s in &settings {
            // T(s) ≥ T(s′) − (the Loss s′ costs more than s), for s′ one step coarser.
            let mut bound = f64::NEG_INFINITY;
            for i in (0..AMOUNTS).filter(|&i| s[i] != 3) {
                let coarser: &[(usize, f64)] = if s[i] == 1 {
                    &[(2, c(i, 2) - c(i, 1)), (3, 1.0 - c(i, 1))]
                } else {
                    &[(3, 1.0 - c(i, 2))]
                };
                for &(up, more) in coarser {
                    let mut q = *s;
                    q[i] = up;
                    if let Some(&v) = lb.get(&key(&q)) {
                        bound = bound.max(v - more);
                    }
                }
            }
            // (Layer 2 is searched whole: its exact values tighten layer 3's bounds.)
            let margin = if m == 2 { 100.0 } else { 0.0 };
            if bound >= b + margin {
                lb.insert(key(s), bound);
                if bound.is_infinite() {
                    infeasible += 1;
                } else {
                    derived += 1;
                }
            } else if let Some(&v) = known.get(&key(s)) {
                report_better(s, v, b, p);
                lb.insert(key(s), v);
            } else {
                need.push(*s);
            }
        }
        eprintln!(
            "layer {m}: {} settings, {infeasible} infeasible by coarser ones, {derived} bounded by coarser ones, {} to search ({:.0}s)",
            settings.len(),
            need.len(),
            started.elapsed().as_secs_f64()
        );
        let results: Vec<([usize; AMOUNTS], f64)> = std::thread::scope(|scope| {
            let threads: Vec<_> = (0..2)
                .map(|t| {
                    let (need, sink) = (&need, &sink);
                    scope.spawn(move || {
                        let mut out = Vec::new();
                        for s in need.iter().skip(t).step_by(2) {
                            let levels: Vec<usize> = s
                                .iter()
                                .zip(amounts)
                                .map(|(&l, &a)| if l == 3 { p.attrs[a].top } else { l })
                                .collect();
                            let v = exact_total(p, &levels, cap).unwrap_or(f64::INFINITY);
                            let shown = if v.is_finite() {
                                format!("{v:.12}")
                            } else {
                                "inf".into()
                            };
                            eprintln!("EXACT {s:?} {shown}");
                            if let Some(f) = sink.lock().unwrap().as_mut() {
                                writeln!(f, "{} {shown}", key(s)).unwrap();
                            }
                            out.push((*s, v));
                        }
                        out
                    })
                })
                .collect();
            threads
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        exact_runs += results.len();
        for (s, v) in results {
            report_better(&s, v, b, p);
            lb.insert(key(&s), v);
        }
        let least = lb
            .values()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
        eprintln!(
            "layer {m} done: exact runs so far {exact_runs}, least bound {:.6} ({:.0}s)",
            least / p.attrs.len() as f64,
            started.elapsed().as_secs_f64()
        );
    }
    eprintln!("proof done in {:.0}s", started.elapsed().as_secs_f64());
}

/// Prints a setting whose exact total is below the incumbent's (the proof run printed none).
fn report_better(s: &[usize; AMOUNTS], v: f64, b: f64, p: &Problem) {
    if v < b - 1e-9 {
        println!("BETTER {s:?} {:.9}", v / p.attrs.len() as f64);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| -> f64 {
        let arg = args.get(i).unwrap_or_else(|| panic!("{USAGE}"));
        arg.parse()
            .unwrap_or_else(|_| panic!("{arg}: not a number\n{USAGE}"))
    };
    let mode = args.first().map(String::as_str);
    if !matches!(mode, Some("search" | "proof")) {
        eprintln!("{USAGE}");
        std::process::exit(2);
    }
    let k = number(1) as u32;
    let dir = std::env::var("DEIDENTIFY_CREDITCARD")
        .expect("DEIDENTIFY_CREDITCARD names the folder of the data and its hierarchies");
    let base = std::env::var("DEIDENTIFY_DATASET").unwrap_or("creditcard_int".into());
    let (n, attrs) = load(&dir, &base);
    let d = attrs.len() as f64;
    // The widest attributes first (creditcard's twelve amounts).
    let mut order: Vec<usize> = (0..attrs.len()).collect();
    order.sort_by_key(|&a| std::cmp::Reverse(attrs[a].card[0]));
    for &a in &order {
        let means: Vec<f64> = attrs[a].c.iter().map(|x| (x * 1e3).round() / 1e3).collect();
        eprintln!(
            "{:28} values {:?} mean Loss {:?}",
            attrs[a].name, attrs[a].card, means
        );
    }
    let max_sup = (SUPPRESSION * n as f64).floor() as usize;
    let problem = Problem {
        n,
        k,
        max_sup,
        attrs: &attrs,
        order,
    };
    if mode == Some("proof") {
        proof(&problem, number(2) * d, number(3) * d);
        return;
    }
    let frozen = number(2) as usize;
    let mut search = Search::new(&problem, number(3) * d + 1e-9, frozen);
    let mut levels: Vec<usize> = attrs.iter().map(|a| a.top).collect();
    let mins = vec![0usize; attrs.len()];
    let (classes, sizes) = (vec![0u32; n], vec![n as u32]);
    search.dfs(0, (&classes, &sizes), &mut levels, 0.0, &mins);
    let elapsed = search.start.elapsed().as_secs_f64();
    eprintln!(
        "done in {elapsed:.1}s: {} branches, {} checks",
        search.visited, search.checks
    );
    if search.best.is_finite() {
        println!(
            "best {:.9} levels {:?}",
            search.best / d,
            search.best_levels
        );
    } else {
        println!("none below {}", number(3));
    }
}
