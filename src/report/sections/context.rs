//! Section 3: the context (recipients, threat model, population) and the
//! quasi-identifiers on the HHS risk principles.

use crate::report::blocks::{Block, header, row};
use crate::report::document::{PrincipleAssessment, Report};
use crate::report::format::{dash, opt_probability, opt_text, serde_name};
use crate::report::settings::Rating;

/// The release's context, the background knowledge, the external sources,
/// the principle ratings and the assumptions.
pub(crate) fn context(r: &Report) -> Vec<Block> {
    let c = &r.context;
    let mut blocks = vec![Block::Table(
        header(["", ""]),
        vec![
            row(
                "Recipients",
                if c.recipients.is_empty() {
                    dash()
                } else {
                    c.recipients.join("; ")
                },
            ),
            row(
                "Release type",
                format!("{} ({})", c.release_type, c.release_description),
            ),
            row("Intended use", opt_text(&c.intended_use)),
            row(
                "Population",
                c.population.map_or_else(dash, |n| n.to_string()),
            ),
            row("Sampling fraction", opt_probability(c.sampling_fraction)),
            row("Population source", opt_text(&c.population_source)),
            row("Attackers considered", c.threat_model.attackers.join(", ")),
            row(
                "Probability of an attempt",
                opt_probability(c.threat_model.attempt_probability),
            ),
        ],
    )];
    blocks.push(Block::Paragraph(format!(
        "Background knowledge: {}",
        c.threat_model.background_knowledge
    )));
    if !c.threat_model.external_sources.is_empty() {
        blocks.push(Block::Paragraph(
            "External sources assumed available:".to_owned(),
        ));
        blocks.push(Block::List(c.threat_model.external_sources.clone()));
    }
    blocks.push(Block::Paragraph(
        "Quasi-identifiers on the HHS risk principles (the expert's ratings, and what the data shows):"
            .to_owned(),
    ));
    blocks.push(Block::Table(
        header([
            "Quasi-identifier",
            "Replicability",
            "Availability",
            "Distinguishability",
            "Overall",
            "Distinct values",
            "Records unique on it alone",
        ]),
        c.principles.iter().map(principle_row).collect(),
    ));
    blocks.push(Block::Paragraph("Assumptions:".to_owned()));
    blocks.push(Block::List(c.assumptions.clone()));
    blocks
}

/// A rating's name, or "not rated".
fn rating(r: Option<Rating>) -> String {
    r.map_or_else(|| "not rated".to_owned(), |r| serde_name(&r))
}

/// One quasi-identifier's row.
fn principle_row(a: &PrincipleAssessment) -> Vec<String> {
    vec![
        a.attribute.clone(),
        rating(a.ratings.as_ref().map(|r| r.replicability)),
        rating(a.ratings.as_ref().map(|r| r.availability)),
        rating(a.ratings.as_ref().map(|r| r.distinguishability)),
        rating(a.overall),
        a.distinct_values.to_string(),
        a.unique_records.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sections::fixture;
    use crate::report::settings::PrincipleRatings;

    #[test]
    fn context_threat_model_and_principles() {
        let r = fixture::report();
        let blocks = context(&r);
        // Table, background, principles intro and table, assumptions intro and list.
        assert_eq!(blocks.len(), 6);
        let Block::Table(_, rows) = &blocks[0] else {
            panic!("{:?}", blocks[0])
        };
        assert_eq!(rows[0], row("Recipients", "—".to_owned()));
        assert_eq!(
            rows[1],
            row(
                "Release type",
                "limited-data-set (non-public release under a data use agreement)".to_owned()
            )
        );
        assert_eq!(rows[3], row("Population", "100000".to_owned()));
        assert_eq!(rows[4], row("Sampling fraction", "0.0003000".to_owned()));
        assert_eq!(
            rows[6],
            row(
                "Attackers considered",
                "prosecutor, journalist, marketer".to_owned()
            )
        );
        assert_eq!(rows[7], row("Probability of an attempt", "—".to_owned()));
        assert!(
            matches!(&blocks[1], Block::Paragraph(t) if t.starts_with("Background knowledge: The attacker knows"))
        );
        let Block::Table(head, principles) = &blocks[3] else {
            panic!("{:?}", blocks[3])
        };
        assert_eq!(head.len(), 7);
        assert_eq!(
            principles[1],
            [
                "age",
                "not rated",
                "not rated",
                "not rated",
                "not rated",
                "23",
                "16"
            ]
        );
        assert_eq!(blocks[5], Block::List(r.context.assumptions.clone()));
    }

    #[test]
    fn ratings_and_external_sources_appear_when_given() {
        let mut r = fixture::report();
        r.context.recipients = vec!["Lab A".to_owned(), "Lab B".to_owned()];
        r.context.threat_model.external_sources = vec!["voter rolls".to_owned()];
        r.context.principles[0].ratings = Some(PrincipleRatings {
            replicability: Rating::High,
            availability: Rating::Medium,
            distinguishability: Rating::Low,
        });
        r.context.principles[0].overall = Some(Rating::Low);
        let blocks = context(&r);
        assert_eq!(blocks.len(), 8);
        let Block::Table(_, rows) = &blocks[0] else {
            panic!("{:?}", blocks[0])
        };
        assert_eq!(rows[0][1], "Lab A; Lab B");
        assert_eq!(blocks[3], Block::List(vec!["voter rolls".to_owned()]));
        let Block::Table(_, principles) = &blocks[5] else {
            panic!("{:?}", blocks[5])
        };
        assert_eq!(
            principles[0],
            ["sex", "high", "medium", "low", "low", "2", "0"]
        );
    }
}
