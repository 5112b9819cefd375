//! ZIP codes under Safe Harbor: three digits, restricted prefixes to `000`.

use std::collections::BTreeSet;

use crate::error::{Error, Result};

/// The bundled restricted-prefix list (HHS, 2000 Census), versioned.
const HHS_2000: &str = include_str!("../../data/zip3-restricted-hhs2000.txt");

/// A set of restricted 3-digit ZIP prefixes with its version ([§1.2](crate::methods#12-zip-codes)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestrictedZipPrefixes {
    version: String,
    prefixes: BTreeSet<String>,
}

impl RestrictedZipPrefixes {
    /// HHS's list from the 2000 Census (17 prefixes), version `hhs_2000`.
    pub fn hhs_2000() -> RestrictedZipPrefixes {
        RestrictedZipPrefixes::parse("hhs_2000", HHS_2000).expect("the bundled list is valid")
    }

    /// Parses a list: one 3-digit prefix per line; `#` starts a comment.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] for a line that is not three digits.
    pub fn parse(version: &str, text: &str) -> Result<RestrictedZipPrefixes> {
        let mut prefixes = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if line.len() != 3 || !line.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::parameter(
                    "restricted ZIP prefixes",
                    format!("line {}: '{line}' is not a 3-digit prefix", i + 1),
                ));
            }
            prefixes.insert(line.to_owned());
        }
        Ok(RestrictedZipPrefixes {
            version: version.to_owned(),
            prefixes,
        })
    }

    /// The list's version (recorded in reports).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The prefixes.
    pub fn prefixes(&self) -> &BTreeSet<String> {
        &self.prefixes
    }

    /// The Safe Harbor form of a ZIP code: its first three digits, or `000`
    /// for a restricted prefix. ZIP+4 and punctuation are accepted
    /// (`02139-4307`); leading zeros are kept.
    ///
    /// # Errors
    ///
    /// [`crate::ErrorKind::InvalidParameter`] when the value does not hold a
    /// 5- or 9-digit ZIP code (never passed through).
    pub fn generalize(&self, zip: &str) -> Result<String> {
        let digits: String = zip.chars().filter(char::is_ascii_digit).collect();
        let shape_ok = zip
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
        if !shape_ok || !(digits.len() == 5 || digits.len() == 9) {
            return Err(Error::parameter(
                "zip",
                "the value is not a 5-digit or ZIP+4 code",
            ));
        }
        let prefix = &digits[..3];
        Ok(if self.prefixes.contains(prefix) {
            "000".to_owned()
        } else {
            prefix.to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hhs_list_and_generalization() {
        let list = RestrictedZipPrefixes::hhs_2000();
        assert_eq!(list.prefixes().len(), 17);
        assert_eq!(list.version(), "hhs_2000");
        assert_eq!(list.generalize("02139").unwrap(), "021");
        assert_eq!(list.generalize("02139-4307").unwrap(), "021");
        assert_eq!(list.generalize("03601").unwrap(), "000");
        assert_eq!(list.generalize("89301").unwrap(), "000");
        assert_eq!(list.generalize("00501").unwrap(), "005");
        for bad in ["0213", "021390", "ABCDE", "", "02139-43", "021a9"] {
            assert!(list.generalize(bad).is_err(), "{bad}");
        }
        assert!(RestrictedZipPrefixes::parse("x", "12\n").is_err());
    }
}
