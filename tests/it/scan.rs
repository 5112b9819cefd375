//! The residual-identifier scan: every planted identifier is found, and
//! adult yields no false positive.

use deidentify::{
    data::{CsvOptions, read_csv},
    safe_harbor::{Detector, Scanner},
};
use polars::prelude::{Column, DataFrame};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::root;

#[test]
fn adult_has_no_residual_identifiers() {
    let options = CsvOptions::default().with_delimiter(b';');
    let adult = read_csv(&root().join("datasets/adult/adult.csv"), &options).unwrap();
    let report = Scanner::new().scan(&adult, &[]).unwrap();
    assert_eq!(report.cells, 30_162 * 9);
    assert!(
        report.is_clean(),
        "false positives on adult: {:?}",
        report.counts
    );
}

#[test]
fn every_planted_identifier_is_found() {
    let mut rng = StdRng::seed_from_u64(2026);
    let filler = [
        "Male",
        "Female",
        "Bachelors",
        "Exec-managerial",
        "United-States",
        "<=50K",
        "39",
        "White",
    ];
    let firsts = ["James", "Mary", "Robert", "Patricia", "Linda", "Michael"];
    let lasts = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia"];
    let rows = 3_000;
    let mut notes: Vec<String> = Vec::with_capacity(rows);
    let mut planted: Vec<(usize, Detector)> = Vec::new();
    for row in 0..rows {
        let kind = rng.random_range(0..10u32);
        let d = |rng: &mut StdRng, n: u32| rng.random_range(0..n);
        let (text, detector) = match kind {
            0 => (
                format!(
                    "{:03}-{:02}-{:04}",
                    100 + d(&mut rng, 800),
                    10 + d(&mut rng, 89),
                    1000 + d(&mut rng, 8999)
                ),
                Some(Detector::Ssn),
            ),
            1 => (
                format!(
                    "call ({}) 555-{:04}",
                    200 + d(&mut rng, 700),
                    d(&mut rng, 9999)
                ),
                Some(Detector::Phone),
            ),
            2 => (
                format!(
                    "{}.{}@example.org",
                    firsts[d(&mut rng, 6) as usize].to_lowercase(),
                    d(&mut rng, 99)
                ),
                Some(Detector::Email),
            ),
            3 => (
                format!("https://portal.example.org/p/{}", d(&mut rng, 99_999)),
                Some(Detector::Url),
            ),
            4 => (
                format!(
                    "{}.{}.{}.{}",
                    d(&mut rng, 256),
                    d(&mut rng, 256),
                    d(&mut rng, 256),
                    d(&mut rng, 256)
                ),
                Some(Detector::IpAddress),
            ),
            5 => (
                format!(
                    "{}-{:02}-{:02}",
                    1950 + d(&mut rng, 70),
                    1 + d(&mut rng, 12),
                    1 + d(&mut rng, 28)
                ),
                Some(Detector::Date),
            ),
            6 => (format!("{:05}", d(&mut rng, 100_000)), Some(Detector::Zip5)),
            7 => (
                format!("MRN{:07}", d(&mut rng, 10_000_000)),
                Some(Detector::RecordNumber),
            ),
            8 => (
                format!(
                    "{} {}",
                    firsts[d(&mut rng, 6) as usize],
                    lasts[d(&mut rng, 6) as usize]
                ),
                Some(Detector::PersonalName),
            ),
            _ => (
                filler[d(&mut rng, filler.len() as u32) as usize].to_string(),
                None,
            ),
        };
        if let Some(detector) = detector {
            planted.push((row + 1, detector));
        }
        notes.push(text);
    }
    let frame = DataFrame::new(rows, vec![Column::new("note".into(), notes)]).unwrap();
    let scanner = Scanner::new();
    let report = scanner.scan(&frame, &[]).unwrap();
    // Findings are listed up to a cap; check every planted cell directly too.
    let column = frame.column("note").unwrap().str().unwrap().clone();
    for &(row, detector) in &planted {
        let value = column.get(row - 1).unwrap();
        assert!(
            scanner.detect(value).contains(&detector),
            "row {row}: {detector:?} missed"
        );
    }
    let total_planted = planted.len() as u64;
    let counts = &report.counts["note"];
    for detector in [
        Detector::Ssn,
        Detector::Phone,
        Detector::Email,
        Detector::Url,
        Detector::IpAddress,
        Detector::Date,
        Detector::Zip5,
        Detector::RecordNumber,
        Detector::PersonalName,
    ] {
        let expected = planted.iter().filter(|p| p.1 == detector).count() as u64;
        assert_eq!(
            counts.get(&detector).copied().unwrap_or(0),
            expected,
            "{detector:?}"
        );
    }
    assert_eq!(
        report.total(),
        total_planted,
        "no false positives among the filler"
    );
    // Skipped columns (declared token columns) are not scanned.
    assert!(scanner.scan(&frame, &["note"]).unwrap().is_clean());
}
