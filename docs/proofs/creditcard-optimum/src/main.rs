// An exact branch and bound over creditcard's generalization lattice (k-anonymity with
// suppression, ARX's Loss), written beside the crate to settle whether any node reaches
// Loss 0.70 (issue 17). It shares no code with the crate. See README.md beside this file.
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use std::time::Instant;

struct Attr {
    name: String,
    // code[l][r]
    code: Vec<Vec<u32>>,
    card: Vec<usize>,
    // u[l][code]
    u: Vec<Vec<f64>>,
    // mean cost without suppression
    c: Vec<f64>,
    top: usize,
}

fn load(dir: &str, base: &str) -> (usize, Vec<Attr>) {
    let text = std::fs::read_to_string(format!("{dir}/{base}.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(';')
        .map(|s| s.to_string())
        .collect();
    let rows: Vec<Vec<String>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(';').map(|s| s.to_string()).collect())
        .collect();
    let n = rows.len();
    let mut attrs = Vec::new();
    for (j, name) in header.iter().enumerate() {
        let h = std::fs::read_to_string(format!("{dir}/{base}_hierarchy_{name}.csv")).unwrap();
        let hrows: Vec<Vec<String>> = h
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split(';').map(|s| s.to_string()).collect())
            .collect();
        let height = hrows[0].len() - 1;
        let domain = hrows.len();
        let leaf_index: HashMap<&str, usize> = hrows
            .iter()
            .enumerate()
            .map(|(i, r)| (r[0].as_str(), i))
            .collect();
        let mut code = Vec::new();
        let mut card = Vec::new();
        let mut u = Vec::new();
        let mut c = Vec::new();
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
            let uu: Vec<f64> = leaves
                .iter()
                .map(|&k| (k as f64 - 1.0) / (domain as f64 - 1.0))
                .collect();
            let col: Vec<u32> = rows
                .iter()
                .map(|r| of_leaf[leaf_index[r[j].as_str()]])
                .collect();
            let mean = col.iter().map(|&x| uu[x as usize]).sum::<f64>() / n as f64;
            code.push(col);
            card.push(ids.len());
            u.push(uu);
            c.push(mean);
        }
        assert_eq!(card[height], 1, "{name} top not single");
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

struct Ctx<'a> {
    n: usize,
    k: u32,
    max_sup: usize,
    attrs: &'a [Attr],
    order: Vec<usize>,
    threshold: f64,
    best: f64,
    best_levels: Vec<usize>,
    visited: u64,
    checks: u64,
    start: Instant,
    last: Instant,
    map: Refiner,
    group: usize,
    group_checks: u64,
    union: bool,
    union_prunes: u64,
    by_depth: Vec<u64>,
    max_dev: usize,
    tail: usize,
    first: Vec<usize>,
}

#[derive(Default)]
struct Refiner {
    map: FxHashMap<u64, u32>,
    stamp: Vec<u32>,
    id: Vec<u32>,
    generation: u32,
}

/// Refines `classes` by `codes`: new class ids and sizes.
fn refine(r: &mut Refiner, classes: &[u32], codes: &[u32], card: usize) -> (Vec<u32>, Vec<u32>) {
    let mut out = Vec::with_capacity(classes.len());
    let mut sizes: Vec<u32> = Vec::new();
    let nc = classes.iter().copied().max().unwrap_or(0) as usize + 1;
    let range = nc * card;
    if range <= 1 << 23 {
        if r.stamp.len() < range {
            r.stamp.resize(range, 0);
            r.id.resize(range, 0);
        }
        r.generation += 1;
        let g = r.generation;
        for (&c, &x) in classes.iter().zip(codes) {
            let key = c as usize * card + x as usize;
            let id = if r.stamp[key] == g {
                r.id[key]
            } else {
                r.stamp[key] = g;
                let id = sizes.len() as u32;
                r.id[key] = id;
                sizes.push(0);
                id
            };
            sizes[id as usize] += 1;
            out.push(id);
        }
        return (out, sizes);
    }
    let map = &mut r.map;
    map.clear();
    for (&c, &x) in classes.iter().zip(codes) {
        let key = c as u64 * card as u64 + x as u64;
        let next = sizes.len() as u32;
        let id = *map.entry(key).or_insert(next);
        if id == next {
            sizes.push(0);
        }
        sizes[id as usize] += 1;
        out.push(id);
    }
    (out, sizes)
}

fn small_count(sizes: &[u32], k: u32) -> usize {
    sizes.iter().filter(|&&s| s < k).map(|&s| s as usize).sum()
}

fn feasible_with(ctx: &mut Ctx, classes: &[u32], a: usize, l: usize) -> bool {
    ctx.checks += 1;
    let at = &ctx.attrs[a];
    let (codes, card) = (&at.code[l], at.card[l]);
    let r = &mut ctx.map;
    let nc = classes.iter().copied().max().unwrap_or(0) as usize + 1;
    let range = nc * card;
    if range > 1 << 23 {
        let (_, sizes) = refine(r, classes, codes, card);
        return small_count(&sizes, ctx.k) <= ctx.max_sup;
    }
    if r.stamp.len() < range {
        r.stamp.resize(range, 0);
        r.id.resize(range, 0);
    }
    r.generation += 1;
    let g = r.generation;
    // id holds the count here
    for (&c, &x) in classes.iter().zip(codes) {
        let key = c as usize * card + x as usize;
        if r.stamp[key] == g {
            r.id[key] += 1;
        } else {
            r.stamp[key] = g;
            r.id[key] = 1;
        }
    }
    let k = ctx.k;
    let mut small = 0usize;
    for (&c, &x) in classes.iter().zip(codes) {
        let key = c as usize * card + x as usize;
        if r.id[key] < k {
            small += 1;
        }
    }
    small <= ctx.max_sup
}

/// Suppression part of the cost for assigned attributes.
fn sup_term(ctx: &Ctx, classes: &[u32], sizes: &[u32], levels: &[usize], depth: usize) -> f64 {
    let mut t = 0.0;
    for (r, &c) in classes.iter().enumerate() {
        if sizes[c as usize] < ctx.k {
            for &a in &ctx.order[..depth] {
                let at = &ctx.attrs[a];
                let l = levels[a];
                t += 1.0 - at.u[l][at.code[l][r] as usize];
            }
        }
    }
    t / ctx.n as f64
}

fn dfs(
    ctx: &mut Ctx,
    depth: usize,
    classes: &[u32],
    sizes: &[u32],
    levels: &mut Vec<usize>,
    assigned: f64,
    mins: &[usize],
) {
    ctx.visited += 1;
    ctx.by_depth[depth] += 1;
    if ctx.last.elapsed().as_secs() >= 10 {
        ctx.last = Instant::now();
        eprintln!(
            "{:.0}s visited {} checks {} group {} union prunes {} best {:.6} levels so far {:?}",
            ctx.start.elapsed().as_secs_f64(),
            ctx.visited,
            ctx.checks,
            ctx.group_checks,
            ctx.union_prunes,
            ctx.best / 24.0,
            &ctx.order[..depth]
                .iter()
                .map(|&a| levels[a])
                .collect::<Vec<_>>()
        );
        eprintln!("by depth {:?}", ctx.by_depth);
    }
    let d = ctx.order.len();
    let sup = sup_term(ctx, classes, sizes, levels, depth);
    if depth == d {
        let total = assigned + sup;
        if total < ctx.best {
            ctx.best = total;
            ctx.best_levels = levels.clone();
            if ctx.threshold.is_finite() {
                eprintln!("new best {:.9} {:?}", total / 24.0, levels);
            }
        }
        return;
    }
    // Bound with the mins, refined lazily.
    let mut mins = mins.to_vec();
    let rest = |mins: &[usize], ctx: &Ctx| -> f64 {
        ctx.order[depth..]
            .iter()
            .map(|&a| ctx.attrs[a].c[mins[a]])
            .sum::<f64>()
    };
    let limit = ctx.threshold.min(ctx.best) - 1e-9;
    if assigned + sup + rest(&mins, ctx) > limit {
        return;
    }
    // Refine each unassigned min (largest potential first: all of them in order).
    for idx in depth..d {
        let a = ctx.order[idx];
        let top = ctx.attrs[a].top;
        while mins[a] < top && !feasible_with(ctx, classes, a, mins[a]) {
            mins[a] += 1;
        }
        if assigned + sup + rest(&mins, ctx) > limit {
            return;
        }
    }
    if ctx.group >= 2 {
        let indiv = rest(&mins, ctx);
        let mut extra = 0.0;
        let unassigned: Vec<usize> = ctx.order[depth..].to_vec();
        for g in unassigned.chunks(ctx.group) {
            if g.len() < 2 {
                continue;
            }
            let gmin = group_min(ctx, classes, g, &mins);
            let gind: f64 = g.iter().map(|&a| ctx.attrs[a].c[mins[a]]).sum();
            extra += gmin - gind;
            if assigned + sup + indiv + extra > limit {
                return;
            }
        }
    }
    if ctx.union {
        let budget = limit - assigned - sup;
        if !union_fits(ctx, classes, sizes, depth, &mins, budget) {
            ctx.union_prunes += 1;
            return;
        }
    }
    let a = ctx.order[depth];
    let top = ctx.attrs[a].top;
    // Children from top down (cheap to check); stop when infeasible.
    let devs = if depth <= ctx.tail {
        ctx.order[..depth]
            .iter()
            .filter(|&&b| levels[b] != ctx.attrs[b].top)
            .count()
    } else {
        0
    };
    for l in (mins[a]..=top).rev() {
        if depth < ctx.tail && l != top && devs >= ctx.max_dev {
            break;
        }
        if depth < ctx.tail && l != top && devs == 0 && !ctx.first.contains(&depth) {
            break;
        }
        let cost = ctx.attrs[a].c[l];
        let mut child_mins = mins.clone();
        child_mins[a] = l;
        let base = assigned + cost;
        let rest_child: f64 = ctx.order[depth + 1..]
            .iter()
            .map(|&b| ctx.attrs[b].c[mins[b]])
            .sum();
        if base + sup + rest_child > limit {
            continue; // lower levels are cheaper: keep going
        }
        levels[a] = l;
        if l == top {
            dfs(ctx, depth + 1, classes, sizes, levels, base, &child_mins);
        } else {
            let at = &ctx.attrs[a];
            let (cl, sz) = refine(&mut ctx.map, classes, &at.code[l], at.card[l]);
            ctx.checks += 1;
            if small_count(&sz, ctx.k) > ctx.max_sup {
                levels[a] = top;
                break;
            }
            dfs(ctx, depth + 1, &cl, &sz, levels, base, &child_mins);
        }
        levels[a] = top;
    }
}

/// The least cost of `g`'s levels (each at least its min) feasible with the state.
fn group_min(ctx: &mut Ctx, classes: &[u32], g: &[usize], mins: &[usize]) -> f64 {
    // All combos, sorted by cost.
    let mut combos: Vec<(f64, Vec<usize>)> = vec![(0.0, vec![])];
    for &a in g {
        let at = &ctx.attrs[a];
        let mut next = Vec::new();
        for (c, ls) in &combos {
            for l in mins[a]..=at.top {
                let mut ls = ls.clone();
                ls.push(l);
                next.push((c + at.c[l], ls));
            }
        }
        combos = next;
    }
    combos.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap());
    let mut failed: Vec<Vec<usize>> = Vec::new();
    for (c, ls) in combos {
        // Below (or at) a failed combo: fails too.
        if failed.iter().any(|f| ls.iter().zip(f).all(|(x, y)| x <= y)) {
            continue;
        }
        if ls.iter().zip(g).all(|(&l, &a)| l == ctx.attrs[a].top) {
            return c;
        }
        ctx.group_checks += 1;
        ctx.checks += 1;
        let mut cl: Vec<u32> = classes.to_vec();
        let mut sizes: Vec<u32> = vec![];
        for (&l, &a) in ls.iter().zip(g) {
            let at = &ctx.attrs[a];
            if l < at.top {
                let (c2, s2) = refine(&mut ctx.map, &cl, &at.code[l], at.card[l]);
                cl = c2;
                sizes = s2;
            }
        }
        if sizes.is_empty() || small_count(&sizes, ctx.k) <= ctx.max_sup {
            return c;
        }
        failed.push(ls);
    }
    unreachable!("the top is feasible")
}

type Bits = Vec<u64>;

fn small_bits(classes: &[u32], sizes: &[u32], k: u32) -> Bits {
    let mut b = vec![0u64; classes.len().div_ceil(64)];
    for (r, &c) in classes.iter().enumerate() {
        if sizes[c as usize] < k {
            b[r / 64] |= 1 << (r % 64);
        }
    }
    b
}

/// Whether some levels of the unassigned attributes (each at least its
/// min) cost at most `budget` with the union of their small records within
/// the limit (a relaxation of feasibility).
fn union_fits(
    ctx: &mut Ctx,
    classes: &[u32],
    sizes: &[u32],
    depth: usize,
    mins: &[usize],
    budget: f64,
) -> bool {
    let base = small_bits(classes, sizes, ctx.k);
    // options[u] = (cost, bits) sorted by cost
    let mut options: Vec<Vec<(f64, Bits)>> = Vec::new();
    for &a in &ctx.order[depth..].to_vec() {
        let at = &ctx.attrs[a];
        let mut opts = vec![(1.0, base.clone())];
        for l in mins[a]..at.top {
            ctx.checks += 1;
            let (cl, sz) = refine(&mut ctx.map, classes, &at.code[l], at.card[l]);
            let b = small_bits(&cl, &sz, ctx.k);
            let count: u32 = b.iter().map(|w| w.count_ones()).sum();
            if count as usize <= ctx.max_sup {
                opts.push((at.c[l], b));
            }
        }
        opts.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap());
        options.push(opts);
    }
    // Most spread first.
    options.sort_by(|x, y| {
        let sx = x.last().unwrap().0 - x[0].0;
        let sy = y.last().unwrap().0 - y[0].0;
        sy.partial_cmp(&sx).unwrap()
    });
    let mut rest_min = vec![0.0; options.len() + 1];
    for i in (0..options.len()).rev() {
        rest_min[i] = rest_min[i + 1] + options[i][0].0;
    }
    if rest_min[0] > budget {
        return false;
    }
    let mut steps = 0u64;
    fn go(
        i: usize,
        cost: f64,
        acc: &Bits,
        options: &[Vec<(f64, Bits)>],
        rest_min: &[f64],
        budget: f64,
        max: usize,
        steps: &mut u64,
    ) -> bool {
        *steps += 1;
        if *steps > 200_000 {
            return true; // give up: cannot prune
        }
        if i == options.len() {
            return true;
        }
        for (c, b) in &options[i] {
            if cost + c + rest_min[i + 1] > budget {
                break;
            }
            let mut next = acc.clone();
            let mut count = 0usize;
            for (w, x) in next.iter_mut().zip(b) {
                *w |= x;
                count += w.count_ones() as usize;
            }
            if count > max {
                continue;
            }
            if go(
                i + 1,
                cost + c,
                &next,
                options,
                rest_min,
                budget,
                max,
                steps,
            ) {
                return true;
            }
        }
        false
    }
    go(
        0,
        0.0,
        &base,
        &options,
        &rest_min,
        budget,
        ctx.max_sup,
        &mut steps,
    )
}

fn new_ctx<'a>(
    n: usize,
    k: u32,
    max_sup: usize,
    attrs: &'a [Attr],
    order: &[usize],
    threshold: f64,
) -> Ctx<'a> {
    Ctx {
        n,
        k,
        max_sup,
        attrs,
        order: order.to_vec(),
        threshold,
        best: f64::INFINITY,
        best_levels: vec![],
        visited: 0,
        checks: 0,
        start: Instant::now(),
        last: Instant::now(),
        map: Refiner::default(),
        group: 0,
        group_checks: 0,
        union: false,
        union_prunes: 0,
        by_depth: vec![0; 25],
        max_dev: 99,
        tail: 0,
        first: vec![],
    }
}

/// Exact total (below `cap`) with the tail at `tail_levels`; None when the tail alone is infeasible; Some(cap) when at least cap.
fn exact_total(
    n: usize,
    k: u32,
    max_sup: usize,
    attrs: &[Attr],
    order: &[usize],
    tail_levels: &[usize],
    cap: f64,
) -> Option<f64> {
    let mut ctx = new_ctx(n, k, max_sup, attrs, order, cap + 1e-9);
    let mut levels: Vec<usize> = attrs.iter().map(|a| a.top).collect();
    let mut classes = vec![0u32; n];
    let mut sizes = vec![n as u32];
    let mut assigned = 0.0;
    for (i, &a) in order[..12].iter().enumerate() {
        let l = tail_levels[i];
        levels[a] = l;
        assigned += attrs[a].c[l];
        if l != attrs[a].top {
            let (c2, s2) = refine(&mut ctx.map, &classes, &attrs[a].code[l], attrs[a].card[l]);
            classes = c2;
            sizes = s2;
            if small_count(&sizes, k) > max_sup {
                return None;
            }
        }
    }
    let mins = vec![0usize; attrs.len()];
    dfs(&mut ctx, 12, &classes, &sizes, &mut levels, assigned, &mins);
    Some(if ctx.best.is_finite() {
        ctx.best.min(cap)
    } else {
        cap
    })
}

fn proof(n: usize, k: u32, max_sup: usize, attrs: &[Attr], order: &[usize], b: f64, cap: f64) {
    let tail: Vec<usize> = order[..12].to_vec();
    let tops: Vec<usize> = tail.iter().map(|&a| attrs[a].top).collect();
    // Level 0 of each tail attribute alone.
    {
        let mut ctx = new_ctx(n, k, max_sup, attrs, order, 0.0);
        let classes = vec![0u32; n];
        for &a in &tail {
            let ok = feasible_with(&mut ctx, &classes, a, 0);
            eprintln!("{} at level 0 alone feasible: {}", attrs[a].name, ok);
            assert!(
                !ok,
                "level 0 of a tail attribute is feasible: extend the proof"
            );
        }
    }
    let key = |levels: &[usize]| -> u64 { levels.iter().fold(0u64, |acc, &l| acc * 4 + l as u64) };
    // LB of the total for each tail prefix; f64::INFINITY: infeasible.
    let mut lb: FxHashMap<u64, f64> = FxHashMap::default();
    lb.insert(key(&tops), b); // the top prefix: its optimum is the incumbent (layer 0)
    let c = |i: usize, l: usize| attrs[tail[i]].c[l];
    let mut exact_runs = 0usize;
    // Exact values computed before (BB_STATE: lines "key value", value "inf" when the tail alone fails).
    let state = std::env::var("BB_STATE").ok();
    let mut cache: FxHashMap<u64, f64> = FxHashMap::default();
    if let Some(path) = &state {
        if let Ok(text) = std::fs::read_to_string(path) {
            for line in text.lines() {
                let mut it = line.split_whitespace();
                if let (Some(k), Some(v)) = (it.next(), it.next()) {
                    cache.insert(
                        k.parse().unwrap(),
                        if v == "inf" {
                            f64::INFINITY
                        } else {
                            v.parse().unwrap()
                        },
                    );
                }
            }
        }
        eprintln!("{} exact values loaded from {path}", cache.len());
    }
    let sink = std::sync::Mutex::new(state.as_ref().map(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .unwrap()
    }));
    let started = Instant::now();
    for m in 1..=12 {
        // Prefixes with m deviations, levels 1 or 2, in layer order.
        let mut layer: Vec<Vec<usize>> = Vec::new();
        let mut combo = vec![3usize; 12];
        fn gen(i: usize, left: usize, combo: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            if left == 0 {
                out.push(combo.clone());
                return;
            }
            if i == 12 {
                return;
            }
            if 12 - i > left - 0 {
                gen(i + 1, left, combo, out);
            }
            for l in 1..=2 {
                combo[i] = l;
                gen(i + 1, left - 1, combo, out);
                combo[i] = 3;
            }
        }
        gen(0, m, &mut combo, &mut layer);
        let mut need: Vec<(Vec<usize>, f64)> = Vec::new();
        let mut infeasible = 0;
        let mut derived = 0;
        for p in &layer {
            let mut best_lb = f64::NEG_INFINITY;
            for i in 0..12 {
                if p[i] == 3 {
                    continue;
                }
                let mut q = p.clone();
                let cands: Vec<(usize, f64)> = if p[i] == 1 {
                    vec![(2, c(i, 2) - c(i, 1)), (3, 1.0 - c(i, 1))]
                } else {
                    vec![(3, 1.0 - c(i, 2))]
                };
                for (up, drop) in cands {
                    q[i] = up;
                    if let Some(&v) = lb.get(&key(&q)) {
                        best_lb = best_lb.max(v - drop);
                    }
                }
            }
            let margin = if m == 2 { 100.0 } else { 0.0 };
            if best_lb >= b + margin {
                lb.insert(key(p), best_lb);
                if best_lb.is_infinite() {
                    infeasible += 1;
                } else {
                    derived += 1;
                }
            } else if let Some(&v) = cache.get(&key(p)) {
                lb.insert(key(p), v);
                if v < b - 1e-9 {
                    println!("BETTER {:?} {:.9}", p, v / 24.0);
                }
            } else {
                need.push((p.clone(), best_lb));
            }
        }
        eprintln!("layer {m}: {} prefixes, {} infeasible by subsets, {} bounded by subsets, {} to search ({:.0}s)", layer.len(), infeasible, derived, need.len(), started.elapsed().as_secs_f64());
        // Exact runs in 2 threads.
        let results: Vec<(Vec<usize>, Option<f64>)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|t| {
                    let need = &need;
                    let tops = &tops;
                    let sink = &sink;
                    let key = &key;
                    s.spawn(move || {
                        let mut out = Vec::new();
                        for (j, (p, _)) in need.iter().enumerate() {
                            if j % 2 != t {
                                continue;
                            }
                            let tlev: Vec<usize> = p
                                .iter()
                                .enumerate()
                                .map(|(i, &l)| if l == 3 { tops[i] } else { l })
                                .collect();
                            let v = exact_total(n, k, max_sup, attrs, order, &tlev, cap);
                            let shown = v.map_or("inf".to_string(), |x| format!("{x:.12}"));
                            eprintln!("EXACT {:?} {}", p, shown);
                            if v.is_some_and(|x| x < b - 1e-9) {
                                println!("BETTER {:?} {}", p, shown);
                            }
                            if let Some(f) = sink.lock().unwrap().as_mut() {
                                use std::io::Write;
                                writeln!(f, "{} {}", key(p), shown).unwrap();
                            }
                            out.push((p.clone(), v));
                        }
                        out
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        exact_runs += results.len();
        for (p, v) in results {
            let v = v.unwrap_or(f64::INFINITY);
            if v < b - 1e-9 {
                println!("BETTER {:?} {:.9}", p, v / 24.0);
            }
            lb.insert(key(&p), v);
        }
        let finite: Vec<f64> = lb.values().copied().filter(|v| v.is_finite()).collect();
        eprintln!(
            "layer {m} done: exact runs so far {exact_runs}, min lb {:.6} ({:.0}s)",
            finite.iter().copied().fold(f64::INFINITY, f64::min) / 24.0,
            started.elapsed().as_secs_f64()
        );
    }
    eprintln!("proof done in {:.0}s", started.elapsed().as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threshold: f64 = args
        .get(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(0.702473456775)
        * 24.0;
    let order_kind = args.get(2).cloned().unwrap_or("wide".into());
    let k: u32 = args.get(3).map(|s| s.parse().unwrap()).unwrap_or(5);
    let base = std::env::var("BB_BASE").unwrap_or("creditcard_int".into());
    let dir = std::env::var("DEIDENTIFY_CREDITCARD")
        .expect("DEIDENTIFY_CREDITCARD names the folder of creditcard_int.csv and its hierarchies");
    let (n, attrs) = load(&dir, &base);
    for a in &attrs {
        eprintln!(
            "{:12} card {:?} c {:?}",
            a.name,
            a.card,
            a.c.iter()
                .map(|x| (x * 1000.0).round() / 1000.0)
                .collect::<Vec<_>>()
        );
    }
    let d = attrs.len();
    let mut order: Vec<usize> = (0..d).collect();
    if order_kind == "wide" || order_kind.starts_with("prefixes") || order_kind.starts_with("proof")
    {
        order.sort_by_key(|&a| std::cmp::Reverse(attrs[a].card[0]));
    } else if order_kind == "narrow" {
        order.sort_by_key(|&a| attrs[a].card[0]);
    }
    eprintln!(
        "order {:?}",
        order.iter().map(|&a| &attrs[a].name).collect::<Vec<_>>()
    );
    let max_sup = (0.02 * n as f64).floor() as usize;
    let mut ctx = Ctx {
        n,
        k,
        max_sup,
        attrs: &attrs,
        order: order.clone(),
        threshold: threshold + 1e-9,
        best: f64::INFINITY,
        best_levels: vec![],
        visited: 0,
        checks: 0,
        start: Instant::now(),
        last: Instant::now(),
        map: Refiner::default(),
        group: args.get(4).map(|s| s.parse().unwrap()).unwrap_or(0),
        group_checks: 0,
        union: args.get(5).map(|s| s == "union").unwrap_or(false),
        union_prunes: 0,
        by_depth: vec![0; 25],
        max_dev: args.get(6).map(|s| s.parse().unwrap()).unwrap_or(99),
        tail: 12,
        first: args
            .get(7)
            .map(|s| s.split(',').map(|x| x.parse().unwrap()).collect())
            .unwrap_or((0..24).collect()),
    };
    if let Some(capm) = order_kind.strip_prefix("proof:") {
        proof(
            n,
            k,
            max_sup,
            &attrs,
            &order,
            threshold,
            capm.parse::<f64>().unwrap() * 24.0,
        );
        return;
    }
    if let Some(m) = order_kind.strip_prefix("prefixes:") {
        // Exact totals T(P) (below the cap) for every tail prefix with m deviations.
        let m: usize = m.parse().unwrap();
        let tail: Vec<usize> = order[..12].to_vec();
        let mut prefixes: Vec<Vec<(usize, usize)>> = vec![vec![]];
        for _ in 0..m {
            let mut next = Vec::new();
            for p in &prefixes {
                let start = p.last().map_or(0, |&(i, _)| i + 1);
                for i in start..12 {
                    for l in 1..=2 {
                        let mut q = p.clone();
                        q.push((i, l));
                        next.push(q);
                    }
                }
            }
            prefixes = next;
        }
        let cap = threshold;
        let threads = 2;
        let results: Vec<(Vec<(usize, usize)>, Option<f64>, bool)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let prefixes = &prefixes;
                    let attrs = &attrs;
                    let order = order.clone();
                    let tail = tail.clone();
                    s.spawn(move || {
                        let mut out = Vec::new();
                        for (pi, p) in prefixes.iter().enumerate() {
                            if pi % threads != t {
                                continue;
                            }
                            let mut ctx = Ctx {
                                n,
                                k,
                                max_sup,
                                attrs,
                                order: order.clone(),
                                threshold: cap + 1e-9,
                                best: f64::INFINITY,
                                best_levels: vec![],
                                visited: 0,
                                checks: 0,
                                start: Instant::now(),
                                last: Instant::now(),
                                map: Refiner::default(),
                                group: 0,
                                group_checks: 0,
                                union: false,
                                union_prunes: 0,
                                by_depth: vec![0; 25],
                                max_dev: 99,
                                tail: 0,
                                first: vec![],
                            };
                            let mut levels: Vec<usize> = attrs.iter().map(|a| a.top).collect();
                            let mut classes = vec![0u32; n];
                            let mut sizes = vec![n as u32];
                            let mut assigned = 0.0;
                            for &a in &tail {
                                assigned += attrs[a].c[attrs[a].top];
                            }
                            for &(i, l) in p {
                                let a = tail[i];
                                levels[a] = l;
                                assigned += attrs[a].c[l] - 1.0;
                                let (c2, s2) = refine(
                                    &mut ctx.map,
                                    &classes,
                                    &attrs[a].code[l],
                                    attrs[a].card[l],
                                );
                                classes = c2;
                                sizes = s2;
                            }
                            if small_count(&sizes, k) > max_sup {
                                out.push((p.clone(), None, true));
                                continue;
                            }
                            let mins = vec![0usize; attrs.len()];
                            dfs(&mut ctx, 12, &classes, &sizes, &mut levels, assigned, &mins);
                            let t = ctx.best.is_finite().then_some(ctx.best);
                            eprintln!(
                                "P {:?} T {:?} in {:.1}s",
                                p,
                                t.map(|x| x / 24.0),
                                ctx.start.elapsed().as_secs_f64()
                            );
                            out.push((p.clone(), t, false));
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        for (p, t, inf) in results {
            let ps: Vec<String> = p.iter().map(|(i, l)| format!("{i}:{l}")).collect();
            println!(
                "{} {}",
                ps.join(","),
                if inf {
                    "infeasible".to_string()
                } else {
                    t.map_or("cap".to_string(), |x| format!("{:.9}", x))
                }
            );
        }
        return;
    }
    if let Some(spec) = order_kind.strip_prefix("proj:") {
        let mut total = 0.0;
        for g in spec.split('|') {
            let group: Vec<usize> = g.split(',').map(|x| x.parse().unwrap()).collect();
            ctx.order = group.clone();
            ctx.best = f64::INFINITY;
            ctx.threshold = f64::INFINITY;
            let classes = vec![0u32; n];
            let sizes = vec![n as u32];
            let mut levels: Vec<usize> = attrs.iter().map(|a| a.top).collect();
            let mins = vec![0usize; d];
            let t = Instant::now();
            dfs(&mut ctx, 0, &classes, &sizes, &mut levels, 0.0, &mins);
            eprintln!(
                "group {:?} opt {:.6} levels {:?} in {:.2}s",
                group,
                ctx.best,
                group
                    .iter()
                    .map(|&a| ctx.best_levels[a])
                    .collect::<Vec<_>>(),
                t.elapsed().as_secs_f64()
            );
            total += ctx.best;
        }
        println!("bound {:.6} (mean {:.6})", total, total / 24.0);
        return;
    }
    let classes = vec![0u32; n];
    let sizes = vec![n as u32];
    let mut levels: Vec<usize> = attrs.iter().map(|a| a.top).collect();
    let mins = vec![0usize; d];
    dfs(&mut ctx, 0, &classes, &sizes, &mut levels, 0.0, &mins);
    eprintln!(
        "done in {:.1}s visited {} checks {} best {:.9} {:?}",
        ctx.start.elapsed().as_secs_f64(),
        ctx.visited,
        ctx.checks,
        ctx.best / 24.0,
        ctx.best_levels
    );
}
