//! The report as Markdown (GitHub-flavoured tables); charts appear as the
//! tables of their data.

use std::fmt::Write;

use crate::report::blocks::Block;
use crate::report::document::Report;
use crate::report::outline::outline;

/// Escapes a table cell: pipes and line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Renders `report` as Markdown.
pub fn render_markdown(report: &Report) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# {}\n", report.identification.title);
    for s in outline(report) {
        let _ = writeln!(m, "## {}\n", s.title);
        for block in &s.blocks {
            match block {
                Block::Paragraph(text) => {
                    let _ = writeln!(m, "{text}\n");
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(m, "- {item}");
                    }
                    m.push('\n');
                }
                Block::Table(header, rows) | Block::Chart { header, rows, .. } => {
                    table(&mut m, header, rows);
                }
                Block::Signature(lines) => {
                    for (label, value) in lines {
                        let _ = writeln!(
                            m,
                            "{label}: {}\n",
                            value.clone().unwrap_or_else(|| "_".repeat(40))
                        );
                    }
                }
            }
        }
    }
    m
}

fn table(m: &mut String, header: &[String], rows: &[Vec<String>]) {
    let width = header
        .len()
        .max(rows.iter().map(Vec::len).max().unwrap_or(0));
    let _ = writeln!(
        m,
        "| {} |",
        (0..width)
            .map(|i| cell(header.get(i).map_or("", String::as_str)))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(m, "|{}", "---|".repeat(width));
    for row in rows {
        let _ = writeln!(
            m,
            "| {} |",
            (0..width)
                .map(|i| cell(row.get(i).map_or("", String::as_str)))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    m.push('\n');
}
