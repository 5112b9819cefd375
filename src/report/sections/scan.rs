//! Section 7: the scan of the released data for residual identifiers.

use crate::report::blocks::{Block, header};
use crate::report::document::Report;
use crate::report::format::serde_name;

/// What was scanned and, if anything was found, the counts per column and
/// detector.
pub(crate) fn scan(r: &Report) -> Vec<Block> {
    let s = &r.scan;
    let mut blocks = vec![Block::Paragraph(format!(
        "{} cells in {} columns scanned{}: {}.",
        s.cells,
        s.columns.len(),
        if s.skipped.is_empty() {
            String::new()
        } else {
            format!(" (token columns not scanned: {})", s.skipped.join(", "))
        },
        if s.clean {
            "no residual identifier found"
        } else {
            "residual identifiers found"
        }
    ))];
    if !s.clean {
        blocks.push(Block::Table(
            header(["Column", "Detector", "Cells"]),
            s.counts
                .iter()
                .flat_map(|(column, detectors)| {
                    detectors
                        .iter()
                        .map(move |(d, n)| vec![column.clone(), serde_name(d), n.to_string()])
                })
                .collect(),
        ));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sections::fixture;
    use crate::safe_harbor::Detector;

    #[test]
    fn a_clean_scan_is_one_paragraph() {
        let blocks = scan(&fixture::report());
        assert_eq!(
            blocks,
            [Block::Paragraph(
                "270 cells in 9 columns scanned: no residual identifier found.".to_owned()
            )]
        );
    }

    #[test]
    fn findings_are_counted_per_column_and_detector() {
        let mut r = fixture::report();
        r.scan.clean = false;
        r.scan.skipped = vec!["token".to_owned()];
        r.scan
            .counts
            .get_mut("education")
            .unwrap()
            .insert(Detector::PersonalName, 3);
        r.scan
            .counts
            .get_mut("age")
            .unwrap()
            .insert(Detector::Date, 1);
        let blocks = scan(&r);
        assert_eq!(
            blocks[0],
            Block::Paragraph(
                "270 cells in 9 columns scanned (token columns not scanned: token): residual identifiers found."
                    .to_owned()
            )
        );
        assert_eq!(
            blocks[1],
            Block::Table(
                header(["Column", "Detector", "Cells"]),
                vec![
                    vec!["age".to_owned(), "date".to_owned(), "1".to_owned()],
                    vec![
                        "education".to_owned(),
                        "personal-name".to_owned(),
                        "3".to_owned()
                    ],
                ]
            )
        );
    }
}
