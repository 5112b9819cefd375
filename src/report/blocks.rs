//! The neutral blocks a report section is made of, rendered by both the HTML
//! and the Markdown writers (so the two always say the same).

use crate::report::chart::Chart;

/// A block of content.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Block {
    /// A paragraph of text.
    Paragraph(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table: header and rows.
    Table(Vec<String>, Vec<Vec<String>>),
    /// A chart: drawn (SVG) in HTML, and its data as a table in Markdown.
    Chart {
        chart: Chart,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// Blank lines to sign on (label → value or blank).
    Signature(Vec<(String, Option<String>)>),
}

/// Owned header cells from string literals.
pub(crate) fn header<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.map(str::to_owned).to_vec()
}

/// A two-column row: label and value.
pub(crate) fn row(label: &str, value: String) -> Vec<String> {
    vec![label.to_owned(), value]
}
