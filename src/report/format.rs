//! Text formatting shared by the report's sections and renderers: numbers,
//! missing values and HTML escaping. A leaf module: it uses no other part of
//! the report.

/// A probability with four significant digits ("0" for zero, "n/a" when not
/// finite).
pub(crate) fn fmt_probability(p: f64) -> String {
    if !p.is_finite() {
        return "n/a".to_owned();
    }
    if p == 0.0 {
        return "0".to_owned();
    }
    let digits = (3 - p.abs().log10().floor() as i32).max(0) as usize;
    format!("{p:.digits$}")
}

/// An optional probability; "—" when absent.
pub(crate) fn opt_probability(value: Option<f64>) -> String {
    value.map_or_else(dash, fmt_probability)
}

/// An optional text; "—" when absent.
pub(crate) fn opt_text(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(dash)
}

/// The placeholder for a missing value.
pub(crate) fn dash() -> String {
    "—".to_owned()
}

/// A fraction as a percentage with two decimals.
pub(crate) fn percent(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// The name a value serializes to as a JSON string (a detector, a rating);
/// empty if it does not serialize to a string.
pub(crate) fn serde_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_keep_four_significant_digits() {
        assert_eq!(fmt_probability(0.0), "0");
        assert_eq!(fmt_probability(f64::NAN), "n/a");
        assert_eq!(fmt_probability(0.5), "0.5000");
        assert_eq!(fmt_probability(0.012_345_6), "0.01235");
        assert_eq!(fmt_probability(2.0), "2.000");
        assert_eq!(fmt_probability(1234.4), "1234");
        assert_eq!(opt_probability(None), "—");
        assert_eq!(opt_text(&Some("x".to_owned())), "x");
        assert_eq!(percent(0.123_45), "12.35%");
    }

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
