//! Charts as data: what a chart shows (series, categories, axis labels),
//! built by the sections and drawn by the renderers (see `svg.rs`). A leaf
//! module.

/// One series of a grouped bar chart.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Series {
    /// The legend entry.
    pub name: &'static str,
    /// The bar colour (CSS).
    pub color: &'static str,
    /// One value per category: fractions in [0, 1].
    pub values: Vec<f64>,
}

/// A chart.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Chart {
    /// Grouped vertical bars of fractions (y axis in percent), one group per
    /// category and one bar per series.
    GroupedBars {
        title: String,
        x_label: String,
        categories: Vec<String>,
        series: Vec<Series>,
    },
    /// Horizontal bars: per attribute, its level out of its hierarchy's
    /// height (attribute, level, height).
    LevelBars {
        title: String,
        rows: Vec<(String, u32, u32)>,
    },
}
