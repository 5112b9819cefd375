//! Sections 8 to 12: limitations, conditions of release, the audit trail,
//! the expert's sign-off and how to verify the report.

use crate::report::blocks::{Block, header};
use crate::report::document::Report;

/// Section 8: the limitations and residual risks, as a list.
pub(crate) fn limitations(r: &Report) -> Vec<Block> {
    vec![Block::List(r.limitations.clone())]
}

/// Section 9: the conditions the recipients accept, the validity period and
/// the triggers for re-assessment.
pub(crate) fn release(r: &Report) -> Vec<Block> {
    vec![
        Block::Paragraph("The recipients accept these conditions:".to_owned()),
        Block::List(r.release.conditions.clone()),
        Block::Paragraph(format!(
            "This determination is valid for {} months, until {}. It must be re-assessed before then if:",
            r.release.reassessment_months, r.release.valid_until
        )),
        Block::List(r.release.triggers.clone()),
    ]
}

/// Section 10: the hash-chained audit trail, one row per entry.
pub(crate) fn audit(r: &Report) -> Vec<Block> {
    let ruleset = &r.identification.ruleset_sha256;
    vec![
        Block::Paragraph(format!(
            "Each entry carries the SHA-256 of the entry before it; the first entry's predecessor is the SHA-256 of the ruleset ({}…). Token keys appear only as fingerprints.",
            &ruleset[..ruleset.len().min(16)]
        )),
        Block::Table(
            header(["#", "Step", "What", "Counts", "Hash"]),
            r.audit
                .iter()
                .map(|e| {
                    vec![
                        e.sequence.to_string(),
                        e.step.clone(),
                        e.description.clone(),
                        e.counts
                            .iter()
                            .map(|(k, v)| format!("{k} {v}"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        e.hash.clone(),
                    ]
                })
                .collect(),
        ),
    ]
}

/// Section 11: the attestation, the content hash and the lines to sign.
pub(crate) fn sign_off(r: &Report) -> Vec<Block> {
    let s = &r.sign_off;
    vec![
        Block::Paragraph(s.statement.clone()),
        Block::Paragraph(format!(
            "The content signed is identified by its SHA-256: {}",
            s.content_sha256
        )),
        Block::Signature(vec![
            ("Name".to_owned(), s.expert_name.clone()),
            (
                "Credentials and experience".to_owned(),
                s.credentials.clone(),
            ),
            ("Organization".to_owned(), s.organization.clone()),
            ("Date".to_owned(), None),
            ("Signature".to_owned(), None),
        ]),
    ]
}

/// Section 12: the command that checks the report and the released file.
pub(crate) fn verification(r: &Report) -> Vec<Block> {
    vec![Block::Paragraph(format!(
        "To check that this report and the released file are intact, run: cargo run --release --example verify_report -- --report report.json --data {}",
        r.data
            .output_file
            .clone()
            .unwrap_or_else(|| "<released file>".to_owned())
    ))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sections::fixture;

    #[test]
    fn limitations_are_listed() {
        let r = fixture::report();
        assert_eq!(limitations(&r), [Block::List(r.limitations.clone())]);
    }

    #[test]
    fn release_conditions_validity_and_triggers() {
        let r = fixture::report();
        let blocks = release(&r);
        assert_eq!(blocks.len(), 4);
        assert_eq!(blocks[1], Block::List(r.release.conditions.clone()));
        assert_eq!(
            blocks[2],
            Block::Paragraph(
                "This determination is valid for 12 months, until 2027-12-03. It must be re-assessed before then if:"
                    .to_owned()
            )
        );
        assert_eq!(blocks[3], Block::List(r.release.triggers.clone()));
    }

    #[test]
    fn audit_entries_are_tabled_with_their_hashes() {
        let r = fixture::report();
        let blocks = audit(&r);
        assert!(
            matches!(&blocks[0], Block::Paragraph(t) if t.contains("of the ruleset (4cf4a433f48e5441…)"))
        );
        let Block::Table(head, rows) = &blocks[1] else {
            panic!("{:?}", blocks[1])
        };
        assert_eq!(head, &header(["#", "Step", "What", "Counts", "Hash"]));
        assert_eq!(rows.len(), 7);
        assert_eq!(
            rows[0],
            [
                "0",
                "load",
                "Read /tmp/deidentify-it-24954-3-report/adult.csv and the ruleset",
                "columns 9, input_identifier_cells 0, rows 30",
                "e870eb38b1f64fa430157d5acc96aac5bd744f5a8e74de279b7a7e4193e8f1d9"
            ]
        );
    }

    #[test]
    fn sign_off_leaves_blank_lines_to_sign() {
        let mut r = fixture::report();
        r.sign_off.expert_name = Some("Dr. A. Expert".to_owned());
        let blocks = sign_off(&r);
        assert_eq!(blocks[0], Block::Paragraph(r.sign_off.statement.clone()));
        assert!(
            matches!(&blocks[1], Block::Paragraph(t) if t.ends_with(": 2dc370e1d9969a9d54617fc11173c364b48a1f4fddcd2c08fb8336bede423591"))
        );
        let Block::Signature(lines) = &blocks[2] else {
            panic!("{:?}", blocks[2])
        };
        assert_eq!(
            lines[0],
            ("Name".to_owned(), Some("Dr. A. Expert".to_owned()))
        );
        assert_eq!(lines[1], ("Credentials and experience".to_owned(), None));
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn verification_names_the_released_file() {
        let mut r = fixture::report();
        assert!(
            matches!(&verification(&r)[0], Block::Paragraph(t) if t.ends_with("--data deidentified.csv"))
        );
        r.data.output_file = None;
        assert!(
            matches!(&verification(&r)[0], Block::Paragraph(t) if t.ends_with("--data <released file>"))
        );
    }
}
