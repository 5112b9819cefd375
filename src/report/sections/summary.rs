//! Section 1: the summary and verdict.

use crate::report::blocks::{Block, header, row};
use crate::report::document::Report;
use crate::report::format::opt_text;

/// The verdict, any failures, the key figures and the report's identification.
pub(crate) fn summary(r: &Report) -> Vec<Block> {
    let mut blocks = vec![Block::Paragraph(format!(
        "Verdict: {} — {}",
        if r.summary.passes {
            "MEETS ALL THRESHOLDS"
        } else {
            "DOES NOT MEET THE THRESHOLDS"
        },
        r.summary.verdict
    ))];
    if !r.summary.failures.is_empty() {
        blocks.push(Block::List(r.summary.failures.clone()));
    }
    blocks.push(Block::Table(
        header(["Figure", "Value"]),
        r.summary
            .figures
            .iter()
            .map(|(k, v)| vec![k.clone(), v.clone()])
            .collect(),
    ));
    let id = &r.identification;
    blocks.push(Block::Table(
        header(["Report", ""]),
        vec![
            row("Title", id.title.clone()),
            row("Report id", id.report_id.clone()),
            row("Created (UTC)", id.created_utc.clone()),
            row("Software", id.software.clone()),
            row("Covered entity", opt_text(&id.covered_entity)),
            row("Project", opt_text(&id.project)),
            row("Ruleset", id.ruleset_path.clone()),
            row("Ruleset SHA-256", id.ruleset_sha256.clone()),
            row("Schema version", r.schema_version.clone()),
        ],
    ));
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sections::fixture;

    #[test]
    fn a_passing_report_states_its_verdict_figures_and_identity() {
        let r = fixture::report();
        let blocks = summary(&r);
        assert_eq!(blocks.len(), 3);
        let Block::Paragraph(verdict) = &blocks[0] else {
            panic!("{:?}", blocks[0])
        };
        assert!(verdict.starts_with("Verdict: MEETS ALL THRESHOLDS — Every threshold is met"));
        let Block::Table(head, figures) = &blocks[1] else {
            panic!("{:?}", blocks[1])
        };
        assert_eq!(head, &header(["Figure", "Value"]));
        assert_eq!(figures.len(), r.summary.figures.len());
        let Block::Table(_, identity) = &blocks[2] else {
            panic!("{:?}", blocks[2])
        };
        assert_eq!(identity[0], row("Title", "Fuzz seed".to_owned()));
        assert_eq!(identity[1], row("Report id", "95ada359ebcf05d0".to_owned()));
        assert_eq!(identity[4], row("Covered entity", "—".to_owned()));
        assert_eq!(identity[8], row("Schema version", "1.0".to_owned()));
    }

    #[test]
    fn a_failing_report_lists_its_failures() {
        let mut r = fixture::report();
        r.summary.passes = false;
        r.summary.failures = vec!["prosecutor risk 0.6 above 0.5".to_owned()];
        let blocks = summary(&r);
        assert_eq!(blocks.len(), 4);
        assert!(
            matches!(&blocks[0], Block::Paragraph(v) if v.starts_with("Verdict: DOES NOT MEET THE THRESHOLDS — "))
        );
        assert_eq!(blocks[1], Block::List(r.summary.failures.clone()));
    }
}
