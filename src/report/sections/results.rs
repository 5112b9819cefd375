//! Section 5: the results of the search (levels, suppression, privacy figures).

use crate::report::blocks::{Block, header, row};
use crate::report::chart::Chart;
use crate::report::document::{RecodingResult, Report, Results};
use crate::report::format::dash;

/// The generalization levels (a chart with its table) and the result's
/// figures, or a paragraph saying that nothing was released.
pub(crate) fn results(r: &Report) -> Vec<Block> {
    let res = &r.results;
    if !res.found {
        return vec![Block::Paragraph(
            "No transformation of the lattice satisfies the privacy models within the suppression limit; no data was released.".to_owned(),
        )];
    }
    match &res.recoding {
        None => vec![levels(res), figures(res)],
        Some(recoding) => vec![recoded(recoding), figures(res)],
    }
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
