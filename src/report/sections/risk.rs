//! Section 6: the re-identification risk before and after, with the
//! distributions of class sizes and individual risks as charts.

use crate::report::blocks::{Block, header};
use crate::report::chart::{Chart, Series};
use crate::report::document::Report;
use crate::report::format::{dash, opt_probability, percent};
use crate::risk::RiskAnalysis;

/// Class-size bins for the charts: (label, lowest size, highest size).
const SIZE_BINS: [(&str, u64, u64); 8] = [
    ("1", 1, 1),
    ("2", 2, 2),
    ("3-4", 3, 4),
    ("5-9", 5, 9),
    ("10-19", 10, 19),
    ("20-49", 20, 49),
    ("50-99", 50, 99),
    ("100+", 100, u64::MAX),
];

/// Prosecutor risk bins (1/class size): (label, lowest risk exclusive, highest inclusive).
const RISK_BINS: [(&str, f64, f64); 7] = [
    ("(0.5, 1]", 0.5, 1.0),
    ("(0.2, 0.5]", 0.2, 0.5),
    ("(0.1, 0.2]", 0.1, 0.2),
    ("(0.05, 0.1]", 0.05, 0.1),
    ("(0.02, 0.05]", 0.02, 0.05),
    ("(0.01, 0.02]", 0.01, 0.02),
    ("≤ 0.01", 0.0, 0.01),
];

/// The risk checks against their thresholds, the counts before and after,
/// and the two distributions.
pub(crate) fn risk(r: &Report) -> Vec<Block> {
    let before = &r.risk.before;
    let after = r.risk.after.as_ref();
    vec![
        checks(r),
        counts(before, after),
        before_after_chart(
            "Records by equivalence-class size",
            "class size",
            SIZE_BINS.iter().map(|b| b.0.to_owned()).collect(),
            size_distribution(before),
            after.map(size_distribution),
        ),
        before_after_chart(
            "Records by individual (prosecutor) risk",
            "re-identification risk",
            RISK_BINS.iter().map(|b| b.0.to_owned()).collect(),
            risk_distribution(before),
            after.map(risk_distribution),
        ),
    ]
}

/// Each measure before and after, against its threshold.
fn checks(r: &Report) -> Block {
    Block::Table(
        header([
            "Measure",
            "Meaning",
            "Before",
            "After",
            "Threshold",
            "Meets",
        ]),
        r.risk
            .checks
            .iter()
            .map(|c| {
                vec![
                    c.measure.clone(),
                    c.description.clone(),
                    opt_probability(c.before),
                    opt_probability(c.after),
                    opt_probability(c.threshold),
                    match c.passes {
                        Some(true) => "yes".to_owned(),
                        Some(false) => "NO".to_owned(),
                        None => dash(),
                    },
                ]
            })
            .collect(),
    )
}

/// Records, classes, uniques and SUDA before and after.
fn counts(before: &RiskAnalysis, after: Option<&RiskAnalysis>) -> Block {
    let both = |label: &str, none: &str, f: &dyn Fn(&RiskAnalysis) -> Option<String>| {
        vec![
            label.to_owned(),
            f(before).unwrap_or_else(|| none.to_owned()),
            after.and_then(f).unwrap_or_else(|| none.to_owned()),
        ]
    };
    Block::Table(
        header(["", "Before", "After"]),
        vec![
            both("Records measured", "—", &|a| Some(a.records.to_string())),
            both("Equivalence classes", "—", &|a| {
                Some(a.classes.to_string())
            }),
            both("Sample-unique records", "—", &|a| {
                Some(a.sample_unique_records.to_string())
            }),
            both("Population-uniqueness model", "—", &|a| {
                a.population_uniques
                    .as_ref()
                    .map(|u| format!("{:?}", u.dankar_model))
            }),
            both("SUDA special uniques", "not run", &|a| {
                a.suda.as_ref().map(|s| s.special_uniques.to_string())
            }),
        ],
    )
}

/// The records in `classes` classes of `size` (as a float: a report read
/// from a file may hold any sizes).
fn records(&(size, classes): &(u64, u64)) -> f64 {
    size as f64 * classes as f64
}

/// The fraction of released records in classes of each size bin.
fn size_distribution(analysis: &RiskAnalysis) -> Vec<f64> {
    let total: f64 = analysis.class_sizes.iter().map(records).sum();
    SIZE_BINS
        .iter()
        .map(|&(_, lo, hi)| {
            let within: f64 = analysis
                .class_sizes
                .iter()
                .filter(|(s, _)| (lo..=hi).contains(s))
                .map(records)
                // From +0.0: Rust's sum of no f64 is -0.0, shown "-0.00%".
                .fold(0.0, |sum, r| sum + r);
            within / total.max(1.0)
        })
        .collect()
}

/// The fraction of released records in each individual (prosecutor) risk bin.
fn risk_distribution(analysis: &RiskAnalysis) -> Vec<f64> {
    let total: f64 = analysis.class_sizes.iter().map(records).sum();
    RISK_BINS
        .iter()
        .map(|&(_, lo, hi)| {
            let within: f64 = analysis
                .class_sizes
                .iter()
                .filter(|(s, _)| {
                    let r = 1.0 / *s as f64;
                    r > lo && r <= hi
                })
                .map(records)
                .fold(0.0, |sum, r| sum + r);
            within / total.max(1.0)
        })
        .collect()
}

/// A distribution before (and after) as a grouped bar chart, with its data
/// in percent as a table.
fn before_after_chart(
    title: &str,
    x_label: &str,
    labels: Vec<String>,
    before: Vec<f64>,
    after: Option<Vec<f64>>,
) -> Block {
    let rows = labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            vec![
                label.clone(),
                percent(before[i]),
                after.as_ref().map_or_else(dash, |a| percent(a[i])),
            ]
        })
        .collect();
    let mut series = vec![Series {
        name: "before",
        color: "#e45756",
        values: before,
    }];
    if let Some(after) = after {
        series.push(Series {
            name: "after",
            color: "#4c78a8",
            values: after,
        });
    }
    Block::Chart {
        chart: Chart::GroupedBars {
            title: title.to_owned(),
            x_label: x_label.to_owned(),
            categories: labels,
            series,
        },
        header: vec![
            x_label.to_owned(),
            "records before".to_owned(),
            "records after".to_owned(),
        ],
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sections::fixture;

    #[test]
    fn checks_counts_and_distributions() {
        let r = fixture::report();
        let blocks = risk(&r);
        assert_eq!(blocks.len(), 4);
        let Block::Table(head, checks) = &blocks[0] else {
            panic!("{:?}", blocks[0])
        };
        assert_eq!(head.len(), 6);
        assert_eq!(checks.len(), r.risk.checks.len());
        let Block::Table(_, counts) = &blocks[1] else {
            panic!("{:?}", blocks[1])
        };
        assert_eq!(counts[0], ["Records measured", "30", "30"]);
        assert_eq!(counts[1], ["Equivalence classes", "28", "9"]);
        assert_eq!(counts[2], ["Sample-unique records", "26", "0"]);
        assert_eq!(counts[3], ["Population-uniqueness model", "Zayatz", "None"]);
        assert_eq!(counts[4], ["SUDA special uniques", "not run", "not run"]);
        // Before: 26 records in classes of 1, 4 in classes of 2; after:
        // 10 of 2, 6 of 3, 4 of 4, 10 of 10.
        let Block::Chart {
            chart: Chart::GroupedBars {
                categories, series, ..
            },
            rows,
            ..
        } = &blocks[2]
        else {
            panic!("{:?}", blocks[2])
        };
        assert_eq!(categories.len(), SIZE_BINS.len());
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].name, "before");
        assert!((series[0].values[0] - 26.0 / 30.0).abs() < 1e-12);
        assert!((series[1].values[2] - 10.0 / 30.0).abs() < 1e-12);
        // An empty bin reads "0.00%" (Rust's sum of no f64 is -0.0, which
        // read "-0.00%" before the sums started from +0.0).
        assert_eq!(rows[0], ["1", "86.67%", "0.00%"]);
        assert_eq!(rows[4], ["10-19", "0.00%", "33.33%"]);
        let Block::Chart { rows, .. } = &blocks[3] else {
            panic!("{:?}", blocks[3])
        };
        assert_eq!(rows[0], ["(0.5, 1]", "86.67%", "0.00%"]);
        assert_eq!(rows[1], ["(0.2, 0.5]", "13.33%", "66.67%"]);
        assert_eq!(rows[3], ["(0.05, 0.1]", "0.00%", "33.33%"]);
    }

    #[test]
    fn without_a_release_the_after_column_is_empty() {
        let mut r = fixture::report();
        r.risk.after = None;
        let blocks = risk(&r);
        let Block::Table(_, counts) = &blocks[1] else {
            panic!("{:?}", blocks[1])
        };
        assert_eq!(counts[0], ["Records measured", "30", "—"]);
        let Block::Chart {
            chart: Chart::GroupedBars { series, .. },
            rows,
            ..
        } = &blocks[2]
        else {
            panic!("{:?}", blocks[2])
        };
        assert_eq!(series.len(), 1);
        assert_eq!(rows[1], ["2", "13.33%", "—"]);
    }
}
