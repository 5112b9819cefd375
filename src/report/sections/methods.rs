//! Section 4: the methods (Safe Harbor, transformations, privacy models,
//! search and thresholds).

use crate::report::blocks::{Block, header};
use crate::report::document::{DifferentialPrivacySection, Methods, Report};
use crate::report::format::fmt_probability;
use crate::safepub::DpSearch;
use crate::search::Recoding;

/// What Safe Harbor and the statistical transformations did, the settings of
/// the search and the risk thresholds.
pub(crate) fn methods(r: &Report) -> Vec<Block> {
    let m = &r.methods;
    let mut blocks = Vec::new();
    if m.safe_harbor.is_empty() {
        blocks.push(Block::Paragraph(
            "Safe Harbor: the ruleset declares no direct identifier.".to_owned(),
        ));
    } else {
        blocks.push(Block::Table(
            header(["Column", "Action", "Detail", "Cells changed"]),
            m.safe_harbor
                .iter()
                .map(|a| {
                    vec![
                        a.column.clone(),
                        a.action.clone(),
                        a.detail.clone(),
                        a.cells.to_string(),
                    ]
                })
                .collect(),
        ));
    }
    blocks.push(transformations(m));
    blocks.push(settings(m));
    if let Some(dp) = &m.differential_privacy {
        blocks.extend(differential_privacy(dp));
    }
    blocks.push(Block::Table(
        header(["Measure", "Meaning", "Threshold"]),
        m.thresholds
            .iter()
            .map(|t| {
                vec![
                    t.measure.clone(),
                    t.description.clone(),
                    fmt_probability(t.threshold),
                ]
            })
            .collect(),
    ));
    blocks
}

/// The statistical transformations with their fitted parameters.
fn transformations(m: &Methods) -> Block {
    if m.transformations.is_empty() {
        return Block::Paragraph(
            "Statistical transformations (binning, microaggregation, noise): none configured."
                .to_owned(),
        );
    }
    let text = |t: &serde_json::Value, key: &str| match &t[key] {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    };
    Block::Table(
        header([
            "Transformation",
            "Columns",
            "Fitted parameters (replayable)",
            "Cells changed",
            "Missing cells",
        ]),
        m.transformations
            .iter()
            .map(|t| {
                vec![
                    text(t, "kind"),
                    t["columns"]
                        .as_array()
                        .map(|c| {
                            c.iter()
                                .filter_map(|v| v.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default(),
                    text(t, "parameters"),
                    text(t, "rows_affected"),
                    text(t, "missing_cells"),
                ]
            })
            .collect(),
    )
}

/// The privacy models, suppression, metric, search and base threshold.
fn settings(m: &Methods) -> Block {
    Block::Table(
        header(["Setting", "Value"]),
        vec![
            vec![
                "Privacy models".to_owned(),
                m.models
                    .iter()
                    .map(|s| serde_json::to_string(s).unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("; "),
            ],
            vec!["Models as applied".to_owned(), m.applied_models.join("; ")],
            vec![
                "Suppression limit".to_owned(),
                format!(
                    "{} of the rows ({} records)",
                    m.suppression_limit, m.max_suppressed
                ),
            ],
            vec!["Utility metric".to_owned(), m.metric.to_string()],
            vec![
                "Search".to_owned(),
                format!(
                    "{} over {} nodes ({} evaluated, {:.0} ms){}",
                    m.strategy,
                    m.lattice_size,
                    m.nodes_checked,
                    m.search_ms,
                    if m.proven_optimal {
                        ", proven optimal"
                    } else {
                        ", not proven optimal"
                    }
                ),
            ],
            vec!["Recoding".to_owned(), recoding(&m.recoding)],
            vec![
                "Base risk threshold".to_owned(),
                format!(
                    "{} (smallest class size {})",
                    fmt_probability(m.base_threshold.probability),
                    m.base_threshold.k
                ),
            ],
        ],
    )
}

/// A differentially private release: its parameters, the budget split,
/// the counts and what the guarantee means.
fn differential_privacy(dp: &DifferentialPrivacySection) -> [Block; 2] {
    let (p, counts) = (&dp.summary.parameters, &dp.summary);
    let search = match &p.search {
        DpSearch::Lattice => "one exponential mechanism over every node of the lattice".to_owned(),
        DpSearch::Walk { steps } => format!(
            "SafePub's walk of {steps} steps, then one exponential mechanism among its pivots ({} each)",
            p.search_epsilon / (f64::from(*steps) + 1.0)
        ),
        DpSearch::Fixed { node } => format!("none: the transformation {node} was fixed in advance"),
    };
    let rows = vec![
        vec![
            "Guarantee".to_owned(),
            format!("({}, {})-differential privacy", p.epsilon, p.delta),
        ],
        vec![
            "Budget split".to_owned(),
            format!(
                "ε {} choosing the transformation, ε {} sampling and suppression",
                p.search_epsilon, p.anonymization_epsilon
            ),
        ],
        vec!["Choice of the transformation".to_owned(), search],
        vec!["Utility score".to_owned(), p.score.name().to_owned()],
        vec![
            "Sampling probability β".to_owned(),
            format!("{:.6} (1 − e^−{})", p.beta, p.anonymization_epsilon),
        ],
        vec![
            "Smallest released class k".to_owned(),
            format!("{} (δ reached: {:.3e})", p.k, p.delta_at_k),
        ],
        vec![
            "Records".to_owned(),
            format!(
                "{} in the input, {} sampled, {} released in {} classes (the others dropped, not starred)",
                counts.input_rows,
                counts.sampled_rows,
                counts.released_rows,
                counts.released_classes
            ),
        ],
        vec!["Loss".to_owned(), format!("{:.4}", counts.loss)],
        vec![
            "Randomness".to_owned(),
            if dp.seeded {
                "a fixed seed: reproducible, not for a release to anyone who could know it"
                    .to_owned()
            } else {
                "the operating system's".to_owned()
            },
        ],
    ];
    [
        Block::Table(header(["Differential privacy", "Value"]), rows),
        Block::Paragraph(dp.guarantee.clone()),
    ]
}

/// How the records were recoded, in words.
fn recoding(recoding: &Recoding) -> String {
    match recoding {
        Recoding::Global => "global: one level per attribute for every record".to_owned(),
        Recoding::Local => {
            "local: records of one attribute released at different levels of its hierarchy"
                .to_owned()
        }
        Recoding::Mondrian { relaxed } => format!(
            "Mondrian ({}): integer, decimal and date attributes released as ranges",
            if *relaxed { "relaxed" } else { "strict" }
        ),
        Recoding::CellSuppression { importance } if importance.is_empty() => {
            "cell suppression: the fewest cells blanked for k-anonymity".to_owned()
        }
        Recoding::CellSuppression { importance } => format!(
            "cell suppression: the fewest cells blanked for k-anonymity (most important first: {})",
            importance.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sections::fixture;
    use crate::safe_harbor::ColumnAction;

    #[test]
    fn settings_and_thresholds_without_safe_harbor_or_transformations() {
        let r = fixture::report();
        let blocks = methods(&r);
        assert_eq!(blocks.len(), 4);
        assert!(matches!(&blocks[0], Block::Paragraph(t) if t.contains("no direct identifier")));
        assert!(matches!(&blocks[1], Block::Paragraph(t) if t.ends_with("none configured.")));
        let Block::Table(_, rows) = &blocks[2] else {
            panic!("{:?}", blocks[2])
        };
        assert_eq!(rows[0][1], r#"{"type":"k-anonymity","k":2}"#);
        assert_eq!(rows[1][1], "2-anonymity");
        assert_eq!(rows[2][1], "0.1 of the rows (3 records)");
        assert_eq!(
            rows[4][1],
            "optimal over 20 nodes (13 evaluated, 0 ms), proven optimal"
        );
        assert_eq!(
            rows[5][1],
            "global: one level per attribute for every record"
        );
        assert_eq!(rows[6][1], "0.5000 (smallest class size 2)");
        let Block::Table(head, thresholds) = &blocks[3] else {
            panic!("{:?}", blocks[3])
        };
        assert_eq!(head, &header(["Measure", "Meaning", "Threshold"]));
        assert_eq!(thresholds[0][0], "prosecutor_highest");
        assert_eq!(thresholds[0][2], "0.5000");
    }

    #[test]
    fn safe_harbor_actions_and_transformations_are_tabled() {
        let mut r = fixture::report();
        r.methods.safe_harbor = vec![ColumnAction {
            column: "zip".to_owned(),
            kind: None,
            action: "generalized".to_owned(),
            detail: "ZIP3".to_owned(),
            cells: 30,
        }];
        r.methods.transformations = vec![serde_json::json!({
            "kind": "noise",
            "columns": ["age", "income"],
            "parameters": {"scale": 1.5},
            "rows_affected": 30,
            "missing_cells": null,
        })];
        let blocks = methods(&r);
        assert_eq!(
            blocks[0],
            Block::Table(
                header(["Column", "Action", "Detail", "Cells changed"]),
                vec![vec![
                    "zip".to_owned(),
                    "generalized".to_owned(),
                    "ZIP3".to_owned(),
                    "30".to_owned()
                ]]
            )
        );
        let Block::Table(_, rows) = &blocks[1] else {
            panic!("{:?}", blocks[1])
        };
        assert_eq!(
            rows[0],
            ["noise", "age, income", r#"{"scale":1.5}"#, "30", "—"]
        );
    }
}
