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
    /// A 5-digit ZIP code or ZIP+4, as a whole cell or as a number of its
    /// own inside text (`lives in 02139`; not part of a longer number or a
    /// decimal).
    Zip5,
    /// Record-number-like identifiers: six or more digits, optionally after
    /// a short prefix (`MRN-0012345`, `ref MRN8494566`), as a whole cell or
    /// inside text (not a decimal).
    RecordNumber,
    /// Personal names anywhere in a cell: two capitalized words (optionally
    /// with a middle initial between them), the first a first name and the
    /// second a surname of the 1990 Census lists, or `Surname, First`.
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
#[non_exhaustive]
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
    numbers: Regex,
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
            ],
            numbers: re(r"\d+(?:-\d+)?"),
            first_names: FIRST_NAMES.lines().collect(),
            last_names: LAST_NAMES.lines().collect(),
            name_words: re(r"\b[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?\b"),
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
        // Numbers are judged once each, with what stands around them: the
        // dotted octets of an IP address are neither a ZIP code nor a date,
        // and the digits of an SSN, phone number or date are not a record
        // number.
        let (zip, record) = self.numbers_in(value);
        if zip {
            found.push(Detector::Zip5);
        }
        if record {
            found.push(Detector::RecordNumber);
        }
        if self.has_personal_name(value) {
            found.push(Detector::PersonalName);
        }
        if found.contains(&Detector::IpAddress) {
            found.retain(|d| *d != Detector::Date);
        }
        found
    }

    /// Whether `value` holds a ZIP code and whether it holds a record
    /// number: digit runs (with one optional `-` group, for ZIP+4) that are
    /// not part of a decimal, a dotted or slashed group, or a word; five
    /// digits or ZIP+4 are a ZIP code, six or more a record number (a short
    /// letter prefix such as `MRN` may precede them). Digits another
    /// detector already explains (in an SSN, phone number, e-mail address,
    /// URL, date or IP address) are not also reported as numbers.
    fn numbers_in(&self, value: &str) -> (bool, bool) {
        let explained: Vec<(usize, usize)> = self
            .patterns
            .iter()
            .filter(|(d, _)| *d != Detector::Zip5 && *d != Detector::RecordNumber)
            .flat_map(|(_, re)| re.find_iter(value).map(|m| (m.start(), m.end())))
            .collect();
        let bytes = value.as_bytes();
        let (mut zip, mut record) = (false, false);
        for m in self.numbers.find_iter(value) {
            if explained
                .iter()
                .any(|&(start, end)| m.start() < end && start < m.end())
            {
                continue;
            }
            let before = bytes[..m.start()].last().copied();
            let after = bytes.get(m.end()).copied();
            let next = bytes.get(m.end() + 1).copied();
            let glued =
                |b: Option<u8>| b.is_some_and(|b| b == b'.' || b == b'/' || b == b',' || b == b':');
            // A decimal point, a thousands separator or a time glue digits
            // to the next group.
            if (glued(after) && next.is_some_and(|b| b.is_ascii_digit()))
                || (glued(before) && m.start() >= 2 && bytes[m.start() - 2].is_ascii_digit())
            {
                continue;
            }
            let text = m.as_str();
            let (head, tail) = text.split_once('-').unwrap_or((text, ""));
            if head.len() == 5 && (tail.is_empty() || tail.len() == 4) {
                zip = true;
            }
            if head.len() >= 6 || tail.len() >= 6 {
                record = true;
            }
        }
        (zip, record)
    }

    /// Whether a first name followed by a surname (optionally with a
    /// middle initial between them), or `Surname, First`, appears anywhere
    /// in `value`.
    fn has_personal_name(&self, value: &str) -> bool {
        let words: Vec<_> = self.name_words.find_iter(value).collect();
        words.windows(2).any(|pair| {
            let gap = &value[pair[0].end()..pair[1].start()];
            let first = pair[0].as_str().to_uppercase();
            let second = pair[1].as_str().to_uppercase();
            let initial = gap.trim();
            let spaced = gap.starts_with(char::is_whitespace) && gap.ends_with(char::is_whitespace);
            if gap.chars().all(char::is_whitespace) && !gap.is_empty()
                || spaced
                    && initial.len() <= 2
                    && initial.starts_with(|c: char| c.is_ascii_uppercase())
                    && initial[1..].chars().all(|c| c == '.')
            {
                self.first_names.contains(first.as_str())
                    && self.last_names.contains(second.as_str())
            } else if gap.starts_with(',') && gap[1..].chars().all(char::is_whitespace) {
                self.last_names.contains(first.as_str())
                    && self.first_names.contains(second.as_str())
            } else {
                false
            }
        })
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
        let cases: [(&str, &[Detector]); 25] = [
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
            // Inside free text, every finding of a cell.
            ("patient Amber Faulk", &[Detector::PersonalName]),
            ("ref MRN8494566", &[Detector::RecordNumber]),
            ("lives in 02139", &[Detector::Zip5]),
            ("lives in 02139-4307, MA", &[Detector::Zip5]),
            (
                "seen by Dr. Amber Faulk ref MRN8494566 at 02139",
                &[
                    Detector::Zip5,
                    Detector::RecordNumber,
                    Detector::PersonalName,
                ],
            ),
            (
                "call (617) 555-0100, SSN 123-45-6789",
                &[Detector::Ssn, Detector::Phone],
            ),
            ("Faulk, Amber was admitted", &[Detector::PersonalName]),
            ("1234567", &[Detector::RecordNumber]),
            (
                "admitted 7/14/2009, MRN 1234567",
                &[Detector::Date, Detector::RecordNumber],
            ),
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
            "dose 12.50000 mg",
            "weight 80000.5",
            "3,141,592 people",
            "Never-married Own-child",
            "White Female United-States",
            "stable",
            "Bachelors Prof-specialty",
        ] {
            assert!(
                scanner.detect(clean).is_empty(),
                "{clean}: {:?}",
                scanner.detect(clean)
            );
        }
    }
}
