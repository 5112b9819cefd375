//! Section 5: the results of the search (levels, suppression, privacy figures).

use crate::report::blocks::{Block, header, row};
use crate::report::chart::Chart;
use crate::report::document::{RecodingResult, Report, Results, SynthesisSection};
use crate::report::format::dash;

/// The generalization levels (a chart with its table) and the result's
/// figures, or a paragraph saying that nothing was released.
pub(crate) fn results(r: &Report) -> Vec<Block> {
    let res = &r.results;
    let mut blocks = if !res.found {
        vec![Block::Paragraph(
            "No transformation of the lattice satisfies the privacy models within the suppression limit; no data was released.".to_owned(),
        )]
    } else {
        match &res.recoding {
            None => vec![levels(res), figures(res)],
            Some(recoding) => vec![recoded(recoding), figures(res)],
        }
    };
    if let Some(synthesis) = &res.synthesis {
        blocks.extend(synthetic(synthesis));
    }
    blocks
}

/// Synthetic records: how they were made, their guarantee, and their
/// utility against the real data.
fn synthetic(s: &SynthesisSection) -> [Block; 3] {
    let (m, u) = (&s.summary, &s.utility);
    let tree: Vec<String> = m.tree.iter().map(|(a, b)| format!("{a}–{b}")).collect();
    let mut rows = vec![
        vec![
            "Method".to_owned(),
            format!(
                "{} over {} attributes, {} {}{}",
                m.method,
                m.attributes.len(),
                if m.method == "MST" {
                    "tree"
                } else {
                    "pairs measured"
                },
                if tree.is_empty() {
                    dash()
                } else {
                    tree.join(", ")
                },
                m.condition.as_ref().map_or_else(String::new, |c| format!(
                    "; every marginal measured within each value of {c}"
                ))
            ),
        ],
        vec![
            "Guarantee".to_owned(),
            if m.method == "MST" {
                format!(
                    "({}, {})-differential privacy: ρ = {:.6} (zCDP), one third each for one-way marginals, the tree and two-way marginals",
                    m.epsilon, m.delta, m.rho
                )
            } else {
                format!(
                    "({}, {})-differential privacy: ρ = {:.6} (zCDP): {:.6} for one-way marginals, {:.6} to choose marginals round by round, {:.6} to measure them",
                    m.epsilon, m.delta, m.rho, m.rho_split[0], m.rho_split[1], m.rho_split[2]
                )
            },
        ],
        vec![
            "Records".to_owned(),
            format!(
                "{} synthetic (noisy count of the input {:.0}), {}",
                m.rows,
                m.estimated_rows,
                s.file
                    .as_ref()
                    .map_or_else(|| "not written".to_owned(), |f| format!("written to {f}"))
            ),
        ],
    ];
    for d in &u.distances {
        rows.push(vec![
            format!("{}-way marginals ({})", d.order, d.marginals),
            format!(
                "total variation distance: mean {:.4}, largest {:.4} ({})",
                d.mean,
                d.max,
                d.worst.join(", ")
            ),
        ]);
    }
    if let Some(c) = &u.classifier {
        rows.push(vec![
            format!("Predicting {}", c.target),
            format!(
                "accuracy on {} {} real records: {:.4} trained on synthetic, {:.4} trained on real, {:.4} for the majority class ({})",
                c.test_rows,
                if c.held_out { "held-out" } else { "(not held-out)" },
                c.trained_on_synthetic,
                c.trained_on_real,
                c.majority,
                c.model
            ),
        ]);
    }
    rows.push(vec![
        "Exact copies".to_owned(),
        format!(
            "{:.2} % of synthetic records equal a real record on every attribute",
            100.0 * u.exact_copies
        ),
    ]);
    rows.push(vec![
        "Randomness".to_owned(),
        if s.seeded {
            "a fixed seed: reproducible, not for a release to anyone who could know it".to_owned()
        } else {
            "from the operating system".to_owned()
        },
    ]);
    [
        Block::Paragraph(
            "Synthetic data learnt under differential privacy, beside the release.".to_owned(),
        ),
        Block::Table(header(["Synthetic data", "Value"]), rows),
        Block::Paragraph(s.guarantee.clone()),
    ]
}

/// The information lost per attribute by a release recoded record by
/// record, measured on the released table.
fn recoded(recoding: &RecodingResult) -> Block {
    let loss = &recoding.loss;
    let mut rows: Vec<Vec<String>> = loss
        .granularity
        .iter()
        .map(|(name, g)| {
            vec![
                name.clone(),
                format!("{g:.4}"),
                loss.non_uniform_entropy
                    .get(name)
                    .map_or_else(dash, |e| format!("{e:.1}")),
                loss.sse_sst
                    .get(name)
                    .map_or_else(dash, |x| format!("{x:.4}")),
            ]
        })
        .collect();
    rows.push(vec![
        format!(
            "all ({} recoding, {} cells released as *)",
            recoding.method, recoding.suppressed_cells
        ),
        format!("{:.4}", loss.granularity_mean),
        format!("{:.1}", loss.non_uniform_entropy.values().sum::<f64>()),
        dash(),
    ]);
    Block::Table(
        header([
            "Attribute",
            "Granularity",
            "Non-uniform entropy (bits)",
            "SSE/SST",
        ]),
        rows,
    )
}

/// The level of each attribute: a chart, and its data as a table.
fn levels(res: &Results) -> Block {
    Block::Chart {
        chart: Chart::LevelBars {
            title: "Generalization level per attribute".to_owned(),
            rows: res
                .levels
                .iter()
                .map(|l| (l.attribute.clone(), l.level, l.height))
                .collect(),
        },
        header: header([
            "Attribute",
            "Level",
            "Height",
            "Distinct before",
            "Distinct after",
            "Loss",
        ]),
        rows: res
            .levels
            .iter()
            .map(|l| {
                vec![
                    l.attribute.clone(),
                    l.level.to_string(),
                    l.height.to_string(),
                    l.distinct_before.to_string(),
                    l.distinct_after.to_string(),
                    l.loss.map_or_else(dash, |x| format!("{x:.4}")),
                ]
            })
            .collect(),
    }
}

/// Suppression, classes, score and the privacy profile's figures.
fn figures(res: &Results) -> Block {
    let mut figures = vec![
        row("Records suppressed", res.suppressed_records.to_string()),
        row("Classes suppressed", res.suppressed_classes.to_string()),
        row("Classes released", res.classes.to_string()),
        row(
            "Metric score",
            res.score.map_or_else(dash, |s| s.to_string()),
        ),
    ];
    if let Some(profile) = &res.privacy {
        figures.push(row("Smallest class (k)", profile.k.to_string()));
        for (name, s) in &profile.sensitive {
            figures.push(vec![
                format!("{name}: distinct / entropy l"),
                format!("{} / {:.3}", s.l_distinct, s.l_entropy),
            ]);
            figures.push(vec![
                format!("{name}: t (equal / hierarchical)"),
                format!(
                    "{:.4} / {}",
                    s.t_equal,
                    s.t_hierarchical.map_or_else(dash, |t| format!("{t:.4}"))
                ),
            ]);
            figures.push(vec![
                format!("{name}: δ-disclosure, β (basic)"),
                format!("{:.4}, {:.4}", s.delta_disclosure, s.beta_basic),
            ]);
        }
    }
    Block::Table(header(["Result", "Value"]), figures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sections::fixture;

    #[test]
    fn levels_chart_and_figures() {
        let r = fixture::report();
        let blocks = results(&r);
        assert_eq!(blocks.len(), 2);
        let Block::Chart {
            chart,
            header: head,
            rows,
        } = &blocks[0]
        else {
            panic!("{:?}", blocks[0])
        };
        assert_eq!(
            chart,
            &Chart::LevelBars {
                title: "Generalization level per attribute".to_owned(),
                rows: vec![
                    ("sex".to_owned(), 0, 1),
                    ("age".to_owned(), 2, 4),
                    ("race".to_owned(), 1, 1)
                ],
            }
        );
        assert_eq!(head.len(), 6);
        assert_eq!(rows[1], ["age", "2", "4", "23", "5", "0.0909"]);
        let Block::Table(_, figures) = &blocks[1] else {
            panic!("{:?}", blocks[1])
        };
        assert_eq!(figures[0], row("Records suppressed", "0".to_owned()));
        assert_eq!(figures[2], row("Classes released", "9".to_owned()));
        assert_eq!(
            figures[3],
            row("Metric score", "0.3636363636333333".to_owned())
        );
        assert_eq!(figures[4], row("Smallest class (k)", "2".to_owned()));
        assert_eq!(
            &figures[5..],
            [
                row("occupation: distinct / entropy l", "2 / 2.000".to_owned()),
                row(
                    "occupation: t (equal / hierarchical)",
                    "0.8667 / —".to_owned()
                ),
                row(
                    "occupation: δ-disclosure, β (basic)",
                    "2.3026, 9.0000".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn no_solution_is_one_paragraph() {
        let mut r = fixture::report();
        r.results.found = false;
        let blocks = results(&r);
        assert_eq!(blocks.len(), 1);
        assert!(matches!(&blocks[0], Block::Paragraph(t) if t.ends_with("no data was released.")));
    }
}
