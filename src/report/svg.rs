//! Hand-written inline SVG charts for the HTML report: grouped vertical bars
//! (before/after distributions) and horizontal bars (levels per attribute).
//! No scripts, fonts or external references; text inherits the page's font.

use std::fmt::Write;

use crate::report::chart::{Chart, Series};
use crate::report::format::escape;

/// Draws `chart` as inline SVG.
pub(crate) fn render(chart: &Chart) -> String {
    match chart {
        Chart::GroupedBars {
            title,
            x_label,
            categories,
            series,
        } => grouped_bars(title, x_label, categories, series),
        Chart::LevelBars { title, rows } => level_bars(title, rows),
    }
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 56.0;
const TOP: f64 = 28.0;

/// A grouped bar chart of fractions in [0, 1] (y axis in percent).
fn grouped_bars(title: &str, x_label: &str, categories: &[String], series: &[Series]) -> String {
    let mut s = String::new();
    let plot_w = WIDTH - LEFT - 12.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    let top = nice_ceiling(max);
    let _ = write!(
        s,
        r#"<svg role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" class="chart"><title>{}</title>"#,
        escape(title)
    );
    // Axes and grid.
    for i in 0..=4 {
        let v = top * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * v / top;
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{:.0}%</text>"##,
            LEFT + plot_w,
            LEFT - 4.0,
            y + 3.0,
            v * 100.0
        );
    }
    let groups = categories.len().max(1) as f64;
    let group_w = plot_w / groups;
    let bar_w = (group_w * 0.8) / series.len().max(1) as f64;
    for (g, category) in categories.iter().enumerate() {
        let x0 = LEFT + group_w * g as f64 + group_w * 0.1;
        for (j, serie) in series.iter().enumerate() {
            let v = serie.values.get(g).copied().unwrap_or(0.0);
            let h = plot_h * v / top;
            let _ = write!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"><title>{}: {}: {:.2}%</title></rect>"#,
                x0 + bar_w * j as f64,
                TOP + plot_h - h,
                bar_w.max(1.0),
                serie.color,
                escape(serie.name),
                escape(category),
                v * 100.0
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"#,
            x0 + group_w * 0.4,
            TOP + plot_h + 14.0,
            escape(category)
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#333"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text><text x="{LEFT}" y="16" font-size="12" font-weight="bold">{}</text>"##,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h,
        LEFT + plot_w / 2.0,
        TOP + plot_h + 32.0,
        escape(x_label),
        escape(title)
    );
    // Legend.
    for (j, serie) in series.iter().enumerate() {
        let x = LEFT + plot_w - 150.0 + 80.0 * j as f64;
        let _ = write!(
            s,
            r#"<rect x="{x:.1}" y="8" width="10" height="10" fill="{}"/><text x="{:.1}" y="17" font-size="11">{}</text>"#,
            serie.color,
            x + 14.0,
            escape(serie.name)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars: for each attribute, its level out of the hierarchy's height.
fn level_bars(title: &str, rows: &[(String, u32, u32)]) -> String {
    let row_h = 22.0;
    let label_w = 150.0;
    let plot_w = WIDTH - label_w - 60.0;
    let height = 30.0 + row_h * rows.len() as f64 + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" class="chart"><title>{}</title><text x="4" y="16" font-size="12" font-weight="bold">{}</text>"#,
        escape(title),
        escape(title)
    );
    for (i, (name, level, max)) in rows.iter().enumerate() {
        let y = 28.0 + row_h * i as f64;
        let fraction = if *max == 0 {
            0.0
        } else {
            f64::from(*level) / f64::from(*max)
        };
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><rect x="{label_w}" y="{y:.1}" width="{plot_w:.1}" height="14" fill="#eee"/><rect x="{label_w}" y="{y:.1}" width="{:.1}" height="14" fill="#4c78a8"/><text x="{:.1}" y="{:.1}" font-size="11">{level} / {max}</text>"##,
            label_w - 6.0,
            y + 11.0,
            escape(name),
            plot_w * fraction,
            label_w + plot_w + 6.0,
            y + 11.0
        );
    }
    s.push_str("</svg>");
    s
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at or above `x`.
fn nice_ceiling(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * p >= x * (1.0 - 1e-12) {
            return (m * p).min(1.0).max(x);
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_self_contained_svg() {
        let chart = grouped_bars(
            "Class sizes <before & after>",
            "size",
            &["1".to_owned(), "2-4".to_owned()],
            &[
                Series {
                    name: "before",
                    color: "#999",
                    values: vec![0.5, 0.5],
                },
                Series {
                    name: "after",
                    color: "#333",
                    values: vec![0.0, 1.0],
                },
            ],
        );
        assert!(chart.starts_with("<svg") && chart.ends_with("</svg>"));
        assert!(chart.contains("&lt;before &amp; after&gt;"));
        assert_eq!(chart.matches("<rect").count(), 4 + 2);
        assert!(!chart.contains("<script"));
        let levels = render(&Chart::LevelBars {
            title: "Levels".to_owned(),
            rows: vec![("age".to_owned(), 1, 4)],
        });
        assert!(levels.contains("1 / 4"));
        assert_eq!(nice_ceiling(0.37), 0.5);
        assert_eq!(nice_ceiling(0.9), 1.0);
    }
}
