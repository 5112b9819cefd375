//! The report as one self-contained HTML page: inline CSS and SVG, no
//! scripts, fonts or external references; printable to PDF.

use std::fmt::Write;

use crate::report::blocks::Block;
use crate::report::document::Report;
use crate::report::format::escape;
use crate::report::outline::{Section, outline};
use crate::report::svg;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}\
h1{font-size:1.6rem;border-bottom:2px solid #4c78a8;padding-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc;page-break-after:avoid}\
table{border-collapse:collapse;margin:.6rem 0;font-size:.85rem;width:100%}th,td{border:1px solid #ccc;padding:.25rem .45rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}\
th{background:#f3f5f8}.verdict{font-weight:bold;padding:.6rem;border-radius:4px}.pass{background:#e6f4ea;border:1px solid #2e7d32}.fail{background:#fdecea;border:1px solid #c62828}\
.chart{display:block;margin:.8rem 0;max-width:100%;height:auto}.signature td{height:2.2rem}nav ul{columns:2;font-size:.9rem;list-style:none;padding-left:0}\
@media print{body{margin:0;max-width:none}nav{display:none}section{page-break-inside:avoid}}";

/// Renders `report` as HTML.
pub fn render_html(report: &Report) -> String {
    let mut h = String::new();
    let title = escape(&report.identification.title);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    let sections = outline(report);
    h.push_str("<nav><ul>");
    for s in &sections {
        let _ = write!(h, "<li><a href=\"#{}\">{}</a></li>", s.id, escape(s.title));
    }
    h.push_str("</ul></nav>\n");
    for s in &sections {
        let _ = writeln!(h, "<section id=\"{}\"><h2>{}</h2>", s.id, escape(s.title));
        for (i, block) in s.blocks.iter().enumerate() {
            match block {
                Block::Paragraph(text) if s.section == Section::Summary && i == 0 => {
                    let class = if report.summary.passes {
                        "pass"
                    } else {
                        "fail"
                    };
                    let _ = writeln!(h, "<p class=\"verdict {class}\">{}</p>", escape(text));
                }
                Block::Paragraph(text) => {
                    let _ = writeln!(h, "<p>{}</p>", escape(text));
                }
                Block::List(items) => {
                    h.push_str("<ul>");
                    for item in items {
                        let _ = write!(h, "<li>{}</li>", escape(item));
                    }
                    h.push_str("</ul>\n");
                }
                Block::Table(header, rows) => table(&mut h, header, rows, ""),
                Block::Chart { chart, .. } => {
                    h.push_str(&svg::render(chart));
                    h.push('\n');
                }
                Block::Signature(lines) => {
                    let rows: Vec<Vec<String>> = lines
                        .iter()
                        .map(|(label, value)| {
                            vec![label.clone(), value.clone().unwrap_or_default()]
                        })
                        .collect();
                    table(&mut h, &[], &rows, " class=\"signature\"");
                }
            }
        }
        h.push_str("</section>\n");
    }
    h.push_str("</body></html>\n");
    h
}

fn table(h: &mut String, header: &[String], rows: &[Vec<String>], class: &str) {
    let _ = write!(h, "<table{class}>");
    if header.iter().any(|c| !c.is_empty()) {
        h.push_str("<thead><tr>");
        for c in header {
            let _ = write!(h, "<th>{}</th>", escape(c));
        }
        h.push_str("</tr></thead>");
    }
    h.push_str("<tbody>");
    for row in rows {
        h.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            if i == 0 && header.first().is_some_and(String::is_empty) {
                let _ = write!(h, "<th>{}</th>", escape(c));
            } else {
                let _ = write!(h, "<td>{}</td>", escape(c));
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>\n");
}
