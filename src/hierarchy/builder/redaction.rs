//! Redaction (character masking) hierarchies for codes such as ZIP codes.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hierarchy::builder::with_top;
use crate::hierarchy::table::Hierarchy;

/// Masks characters right to left: level `i` replaces the last `i`
/// characters by the mask character (`02139` → `0213*` → `021**` → `02***`
/// → `0****` → `*`).
///
/// With `pad`, shorter values are first left-padded with that character to
/// the longest length, so all values have the same number of levels.
///
/// # Examples
///
/// ```
/// use deidentify::hierarchy::RedactionHierarchy;
/// let h = RedactionHierarchy::default().build("zip", &["02139".into(), "02142".into()])?;
/// assert_eq!(h.generalize("02139", 2), Some("021**"));
/// assert_eq!(h.height(), 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionHierarchy {
    /// The mask character.
    #[serde(default = "default_mask")]
    pub mask: char,
    /// Left-padding character for values shorter than the longest one.
    #[serde(default)]
    pub pad: Option<char>,
}

fn default_mask() -> char {
    '*'
}

impl Default for RedactionHierarchy {
    fn default() -> Self {
        RedactionHierarchy {
            mask: '*',
            pad: None,
        }
    }
}

impl RedactionHierarchy {
    /// Builds the hierarchy for the given values.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidHierarchy`] for an empty value list or an
    /// empty value.
    pub fn build(&self, column: &str, values: &[String]) -> Result<Hierarchy> {
        let longest = values.iter().map(|v| v.chars().count()).max().unwrap_or(0);
        if longest == 0 {
            return Err(Error::hierarchy(column, "redaction needs non-empty values"));
        }
        let rows = values
            .iter()
            .map(|value| {
                let mut chars: Vec<char> = value.chars().collect();
                if let Some(pad) = self.pad {
                    let mut padded = vec![pad; longest - chars.len()];
                    padded.extend(chars);
                    chars = padded;
                }
                let mut row = vec![value.clone()];
                // Masking every character is the top level, `*`.
                for level in 1..longest {
                    let keep = chars.len().saturating_sub(level);
                    let masked: String = chars[..keep]
                        .iter()
                        .copied()
                        .chain(std::iter::repeat_n(self.mask, chars.len() - keep))
                        .collect();
                    row.push(masked);
                }
                row
            })
            .collect();
        with_top(column, rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unequal_lengths_get_a_common_top() {
        let h = RedactionHierarchy::default()
            .build("code", &["123".into(), "12".into()])
            .unwrap();
        assert_eq!(h.generalize("12", 1), Some("1*"));
        assert_eq!(h.generalize("123", 2), Some("1**"));
        assert_eq!(h.generalize("12", 2), Some("**"));
        assert_eq!(h.generalize("12", 3), Some("*"));
        let padded = RedactionHierarchy {
            mask: '*',
            pad: Some('0'),
        }
        .build("code", &["123".into(), "12".into()])
        .unwrap();
        assert_eq!(padded.generalize("12", 1), Some("01*"));
        assert_eq!(padded.generalize("12", 2), Some("0**"));
        assert_eq!(padded.height(), 3);
    }
}
