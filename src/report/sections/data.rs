//! Section 2: the data, input and released.

use crate::report::blocks::{Block, header};
use crate::report::document::{ColumnReport, Report};
use crate::report::format::{opt_text, serde_name};

/// The input and released files, and one row per column: its role, type,
/// Safe Harbor category, the identifiers detected in the input and its
/// treatment.
pub(crate) fn data(r: &Report) -> Vec<Block> {
    let d = &r.data;
    let files = Block::Table(
        header(["", "Input", "Released"]),
        vec![
            vec![
                "File".to_owned(),
                d.source.clone(),
                opt_text(&d.output_file),
            ],
            vec![
                "SHA-256".to_owned(),
                d.input_sha256.clone(),
                opt_text(&d.output_sha256),
            ],
            vec![
                "Rows".to_owned(),
                d.input_rows.to_string(),
                d.output_rows.to_string(),
            ],
            vec!["Format".to_owned(), "".to_owned(), d.output_format.clone()],
        ],
    );
    let columns = Block::Table(
        header([
            "Column",
            "Role",
            "Type",
            "Safe Harbor category",
            "Identifiers detected in the input",
            "Treatment",
        ]),
        d.columns.iter().map(|c| column_row(r, c)).collect(),
    );
    vec![files, columns]
}

/// One column's row.
fn column_row(r: &Report, c: &ColumnReport) -> Vec<String> {
    let detected = r
        .data
        .input_scan
        .get(&c.name)
        .filter(|d| !d.is_empty())
        .map_or_else(
            || "none".to_owned(),
            |d| {
                d.iter()
                    .map(|(detector, n)| format!("{} {n}", serde_name(detector)))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
    vec![
        c.name.clone(),
        c.role.clone(),
        c.data_type.clone(),
        opt_text(&c.identifier_kind),
        detected,
        c.treatment.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sections::fixture;
    use crate::safe_harbor::Detector;

    #[test]
    fn files_and_columns_are_tabled() {
        let mut r = fixture::report();
        r.data
            .input_scan
            .get_mut("age")
            .unwrap()
            .extend([(Detector::Ssn, 2), (Detector::Email, 1)]);
        let blocks = data(&r);
        assert_eq!(blocks.len(), 2);
        let Block::Table(head, files) = &blocks[0] else {
            panic!("{:?}", blocks[0])
        };
        assert_eq!(head, &header(["", "Input", "Released"]));
        assert_eq!(files[0][2], "deidentified.csv");
        assert_eq!(files[2], ["Rows", "30", "30"]);
        assert_eq!(files[3], ["Format", "", "csv"]);
        let Block::Table(head, columns) = &blocks[1] else {
            panic!("{:?}", blocks[1])
        };
        assert_eq!(head.len(), 6);
        assert_eq!(columns.len(), 9);
        assert_eq!(
            columns[0],
            [
                "sex",
                "quasi-identifier",
                "string",
                "—",
                "none",
                "generalized to level 0 of 1 (2 → 2 distinct values)"
            ]
        );
        // Detectors in their order, with their kebab-case names.
        assert_eq!(columns[1][4], "ssn 2, email 1");
    }
}
