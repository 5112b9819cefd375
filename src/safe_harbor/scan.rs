//! The residual-identifier scan: finds what looks like one of the HIPAA
//! identifiers left in released data.

use std::collections::{BTreeMap, HashSet};

use polars::prelude::{DataFrame, DataType};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, Result};

const FIRST_NAMES: &str = include_str!("../../data/census-names/first.txt");
const LAST_NAMES: &str = include_str!("../../data/census-names/last.txt");

/// What a detector looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detector {
    /// `123-45-6789`.
    Ssn,
    /// Telephone or fax numbers (NANP forms such as `(617) 555-0100`, `+1 617.555.0100`).
    Phone,
    /// E-mail addresses.
    Email,
    /// Web URLs.
    Url,
    /// IPv4 and IPv6 addresses.
    IpAddress,
    /// Dates with a month or day (`2009-07-14`, `7/14/2009`, `July 14, 2009`).
    Date,
    /// A whole cell that is a 5-digit ZIP code or ZIP+4.
    Zip5,
    /// Record-number-like identifiers: six or more digits, optionally after a short prefix (`MRN-0012345`).
    RecordNumber,
    /// Personal names: two or three capitalized words, the first a first
    /// name and the last a surname of the 1990 Census lists, or `Surname, First`.
    PersonalName,
}

/// One finding. It names the place, never the value (the value may be PHI).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The column.
    pub column: String,
    /// The 1-based data row.
    pub row: usize,
    /// What was found.
    pub detector: Detector,
}

/// The scan's result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    /// Findings, at most [`Scanner::MAX_FINDINGS_PER_COLUMN`] per column and detector.
    pub findings: Vec<Finding>,
    /// Number of cells per (column, detector), all of them counted.
    pub counts: BTreeMap<String, BTreeMap<Detector, u64>>,
    /// The columns scanned.
    pub columns: Vec<String>,
    /// Cells scanned.
    pub cells: u64,
}

impl ScanReport {
    /// Whether nothing was found (the release may proceed).
    pub fn is_clean(&self) -> bool {
        self.counts.values().all(|c| c.values().all(|&n| n == 0))
    }

    /// Total cells flagged.
    pub fn total(&self) -> u64 {
        self.counts.values().flat_map(|c| c.values()).sum()
    }
}

/// The residual-identifier scanner.
#[derive(Debug)]
pub struct Scanner {
    patterns: Vec<(Detector, Regex)>,
    first_names: HashSet<&'static str>,
    last_names: HashSet<&'static str>,
    name_words: Regex,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

impl Scanner {
    /// The most findings listed per column and detector (all are counted).
    pub const MAX_FINDINGS_PER_COLUMN: usize = 100;

    /// A scanner with every detector.
    pub fn new() -> Scanner {
        let re = |p: &str| Regex::new(p).expect("the detector patterns are valid");
        let month = "(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\\.?";
        Scanner {
            patterns: vec![
                (Detector::Ssn, re(r"\b\d{3}-\d{2}-\d{4}\b")),
                (
                    Detector::Phone,
                    re(r"(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b"),
                ),
                (
                    Detector::Email,
                    re(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
                ),
                (Detector::Url, re(r"(?i)\b(?:https?://|ftp://|www\.)\S+")),
                (
                    Detector::IpAddress,
                    re(
                        r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b|\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b",
                    ),
                ),
                (
                    Detector::Date,
                    re(&format!(
                        r"(?i)\b\d{{4}}-\d{{1,2}}-\d{{1,2}}\b|\b\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}}\b|\b{month}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b|\b\d{{1,2}}\s+{month}\s+\d{{4}}\b"
                    )),
                ),
                (Detector::Zip5, re(r"^\s*\d{5}(?:-\d{4})?\s*$")),
                (
                    Detector::RecordNumber,
                    re(r"^\s*[A-Za-z]{0,4}[-#:]?\s?\d{6,}\s*$"),
                ),
            ],
            first_names: FIRST_NAMES.lines().collect(),
            last_names: LAST_NAMES.lines().collect(),
            name_words: re(
                r"^\s*([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)(?:\s+[A-Z]\.?)?(?:\s+([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?))\s*$|^\s*([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?),\s*([A-Z][a-z]+)\s*$",
            ),
        }
    }

    /// The detectors that match `value`.
    pub fn detect(&self, value: &str) -> Vec<Detector> {
        let mut found: Vec<Detector> = self
            .patterns
            .iter()
            .filter(|(_, re)| re.is_match(value))
            .map(|(d, _)| *d)
            .collect();
        if self.is_personal_name(value) {
            found.push(Detector::PersonalName);
        }
        // A ZIP+4 or 9-digit number is not also reported as a record number,
        // nor the dotted octets of an IP address as a date.
        if found.contains(&Detector::Zip5) {
            found.retain(|d| *d != Detector::RecordNumber);
        }
        if found.contains(&Detector::IpAddress) {
            found.retain(|d| *d != Detector::Date);
        }
        found
    }

    fn is_personal_name(&self, value: &str) -> bool {
        let Some(caps) = self.name_words.captures(value) else {
            return false;
        };
        let upper = |i: usize| caps.get(i).map(|m| m.as_str().to_uppercase());
        match (upper(1), upper(2), upper(3), upper(4)) {
            (Some(first), Some(last), _, _) | (_, _, Some(last), Some(first)) => {
                self.first_names.contains(first.as_str()) && self.last_names.contains(last.as_str())
            }
            _ => false,
        }
    }

    /// Scans every column of `frame` except `skip` (declared token columns).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Parse`] when a column cannot be read as text.
    pub fn scan(&self, frame: &DataFrame, skip: &[&str]) -> Result<ScanReport> {
        let mut report = ScanReport::default();
        for column in frame.columns() {
            let name = column.name().to_string();
            if skip.contains(&name.as_str()) {
                continue;
            }
            let text = column
                .cast(&DataType::String)
                .map_err(|e| ErrorKind::Parse {
                    path: "<scan>".into(),
                    reason: e.to_string(),
                })?;
            let values = text.str().map_err(|e| ErrorKind::Parse {
                path: "<scan>".into(),
                reason: e.to_string(),
            })?;
            let counts = report.counts.entry(name.clone()).or_default();
            let mut cache: BTreeMap<&str, Vec<Detector>> = BTreeMap::new();
            for (row, value) in values.iter().enumerate() {
                let Some(value) = value else { continue };
                report.cells += 1;
                let found = cache.entry(value).or_insert_with(|| self.detect(value));
                for &detector in found.iter() {
                    let count = counts.entry(detector).or_default();
                    *count += 1;
                    if *count as usize <= Scanner::MAX_FINDINGS_PER_COLUMN {
                        report.findings.push(Finding {
                            column: name.clone(),
                            row: row + 1,
                            detector,
                        });
                    }
                }
            }
            report.columns.push(name);
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_detector_by_example() {
        let scanner = Scanner::new();
        let cases: [(&str, &[Detector]); 16] = [
            ("123-45-6789", &[Detector::Ssn]),
            ("(617) 555-0100", &[Detector::Phone]),
            ("+1 617.555.0100", &[Detector::Phone]),
            ("jane.doe@example.org", &[Detector::Email]),
            ("see https://example.org/patient/7", &[Detector::Url]),
            ("10.0.12.254", &[Detector::IpAddress]),
            (
                "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                &[Detector::IpAddress],
            ),
            ("2009-07-14", &[Detector::Date]),
            ("7/14/2009", &[Detector::Date]),
            ("admitted July 14, 2009", &[Detector::Date]),
            ("02139", &[Detector::Zip5]),
            ("02139-4307", &[Detector::Zip5]),
            ("MRN-0012345", &[Detector::RecordNumber]),
            ("John Smith", &[Detector::PersonalName]),
            ("Smith, Mary", &[Detector::PersonalName]),
            ("Mary J. Johnson", &[Detector::PersonalName]),
        ];
        for (value, expected) in cases {
            assert_eq!(scanner.detect(value), expected, "{value}");
        }
        for clean in [
            "2009",
            "021",
            "90+",
            "White",
            "Married-civ-spouse",
            "United-States",
            "Exec-managerial",
            "[20, 30)",
            "*",
            "<=50K",
            "Self-emp-not-inc",
        ] {
            assert!(
                scanner.detect(clean).is_empty(),
                "{clean}: {:?}",
                scanner.detect(clean)
            );
        }
    }
}
