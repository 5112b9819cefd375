//! Fail closed, as a hostile but realistic user would try the programs: no
//! output onto an input or over a device, no column released unexamined, no
//! key or cell value echoed, nothing under the release's name when the run
//! fails, and one exit status per outcome.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::examples::cargo_example;
use crate::{root, scratch};

/// The synthetic PHI data and its ruleset in a fresh folder, with `edit`
/// applied to the CSV text and `extra` appended to the ruleset.
fn phi(name: &str, edit: impl Fn(&str) -> String, extra: &str) -> PathBuf {
    let folder = root().join("datasets/synthetic-phi");
    let csv = std::fs::read_to_string(folder.join("phi.csv")).unwrap();
    let toml = std::fs::read_to_string(folder.join("phi.toml")).unwrap();
    scratch(
        name,
        &[
            ("phi.csv", &edit(&csv)),
            ("phi.toml", &format!("{toml}\n{extra}")),
            ("key.bin", "a 32-byte test key, not a secret!"),
        ],
    )
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_owned()
}

fn safe_harbor(dir: &Path, output: &str, more: &[&str]) -> Output {
    let mut args = vec![
        "--config".to_owned(),
        path(dir, "phi.toml"),
        "--output".to_owned(),
        output.to_owned(),
        "--key-file".to_owned(),
        path(dir, "key.bin"),
    ];
    if !more.contains(&"--reference-date") {
        args.extend(["--reference-date".to_owned(), "2026-12-01".to_owned()]);
    }
    args.extend(more.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cargo_example("safe_harbor", &args)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn an_output_onto_an_input_is_refused_and_the_input_survives() {
    let dir = phi("onto-input", str::to_owned, "");
    let before = std::fs::read(dir.join("phi.csv")).unwrap();
    for target in ["phi.csv", "phi.toml", "key.bin"] {
        let out = safe_harbor(&dir, &path(&dir, target), &[]);
        assert_eq!(out.status.code(), Some(1), "{target}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("would destroy the input"),
            "{}",
            stderr(&out)
        );
    }
    // Through a symbolic link to the input.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("phi.csv"), dir.join("link.csv")).unwrap();
        let out = safe_harbor(&dir, &path(&dir, "link.csv"), &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read(dir.join("phi.csv")).unwrap(), before);

    // anonymize onto its data (a copy of adult in the scratch folder).
    let adult = root().join("datasets/adult");
    let ruleset = std::fs::read_to_string(adult.join("adult9.toml"))
        .unwrap()
        .replace(
            "\"hierarchies/",
            &format!("\"{}/hierarchies/", adult.display()),
        );
    let dir = scratch("anonymize-onto-input", &[("adult9.toml", &ruleset)]);
    std::fs::copy(adult.join("adult.csv"), dir.join("adult.csv")).unwrap();
    let before = std::fs::read(dir.join("adult.csv")).unwrap();
    let out = cargo_example(
        "anonymize",
        &[
            "--config",
            &path(&dir, "adult9.toml"),
            "--k",
            "5",
            "--output",
            &path(&dir, "adult.csv"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.join("adult.csv")).unwrap(), before);
    // scale (streaming) onto its data, and its staging table onto the ruleset.
    for flags in [["--output", "adult.csv"], ["--table", "adult9.toml"]] {
        let out = cargo_example(
            "scale",
            &[
                "--config",
                &path(&dir, "adult9.toml"),
                flags[0],
                &path(&dir, flags[1]),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("would destroy the input"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(std::fs::read(dir.join("adult.csv")).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn a_device_or_fifo_is_never_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = phi("device", str::to_owned, "");
    let out = safe_harbor(&dir, "/dev/null", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    let fifo = dir.join("pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let out = safe_harbor(&dir, fifo.to_str().unwrap(), &[]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
}

#[test]
fn safe_harbor_needs_a_role_for_every_column_and_distinct_headers() {
    let dir = phi(
        "unlisted",
        |csv| {
            csv.lines()
                .enumerate()
                .map(|(i, line)| {
                    if i == 0 {
                        format!("{line},notes\n")
                    } else {
                        format!("{line},seen by Dr. Amber Faulk ref MRN8494566\n")
                    }
                })
                .collect()
        },
        "",
    );
    let out = safe_harbor(&dir, &path(&dir, "out.csv"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("column 'notes' has no role"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("out.csv").exists());

    let dir = phi(
        "duplicate",
        |csv| csv.replacen("name,ssn", "name,name", 1),
        "",
    );
    let out = safe_harbor(&dir, &path(&dir, "out.csv"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("column 1 and column 2 both 'name'"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("out.csv").exists());
}

#[test]
fn residual_identifiers_release_nothing_unless_quarantined() {
    // A free-text column declared insensitive, holding a name, a record
    // number and a ZIP code inside text.
    let dir = phi(
        "residual",
        |csv| {
            csv.lines()
                .enumerate()
                .map(|(i, line)| {
                    if i == 0 {
                        format!("{line},notes\n")
                    } else if i == 7 {
                        format!("{line},patient Amber Faulk ref MRN8494566 lives in 02139\n")
                    } else {
                        format!("{line},stable\n")
                    }
                })
                .collect()
        },
        "[[attribute]]\nname = \"notes\"\nrole = \"insensitive\"\n",
    );
    let out = safe_harbor(&dir, &path(&dir, "out.csv"), &[]);
    assert_eq!(out.status.code(), Some(4), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("nothing written"), "{text}");
    for detector in ["PersonalName", "RecordNumber", "Zip5"] {
        assert!(
            text.contains(&format!("notes: 1 cells look like {detector}")),
            "{detector}: {text}"
        );
    }
    assert!(!dir.join("out.csv").exists());
    assert!(
        !text.contains("Amber") && !text.contains("8494566"),
        "{text}"
    );

    let out = safe_harbor(&dir, &path(&dir, "out.csv"), &["--quarantine"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(!dir.join("out.csv").exists());
    assert!(dir.join("out.NOT-RELEASABLE.csv").exists());

    // Without the free text, the same run is clean and written.
    let dir = phi("clean", str::to_owned, "");
    let out = safe_harbor(&dir, &path(&dir, "out.csv"), &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(dir.join("out.csv").exists());
}

#[test]
fn a_key_passed_as_the_ruleset_is_never_printed() {
    let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let dir = scratch("key-as-config", &[("key.hex", &format!("{key}\n"))]);
    let config = path(&dir, "key.hex");
    for out in [
        cargo_example(
            "safe_harbor",
            &["--config", &config, "--output", &path(&dir, "out.csv")],
        ),
        cargo_example(
            "expert_determination",
            &["--config", &config, "--out", &path(&dir, "out")],
        ),
    ] {
        assert_eq!(out.status.code(), Some(1));
        let shown = format!("{}{}", stderr(&out), stdout(&out));
        assert!(shown.contains("line 1, column"), "{shown}");
        for piece in key.as_bytes().chunks(8) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(!shown.contains(piece), "{piece} echoed: {shown}");
        }
    }
}

#[test]
fn bad_cells_are_named_by_place_and_shape_not_value() {
    let dir = phi("bad-zip", |csv| csv.replacen(",05989,", ",ABCDE,", 1), "");
    let out = safe_harbor(&dir, &path(&dir, "out.csv"), &[]);
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(
        message.contains(
            "column 'zip', row 1: a value shaped 'AAAAA' (5 characters) is not a valid 5-digit or ZIP+4 code"
        ),
        "{message}"
    );
    assert!(!message.contains("ABCDE"), "{message}");
}

#[test]
fn a_reference_date_before_the_data_is_refused() {
    let dir = phi("reference", str::to_owned, "");
    let out = safe_harbor(
        &dir,
        &path(&dir, "out.csv"),
        &["--reference-date", "1900-01-01"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("the reference date 1900-01-01 is before a date in column"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.join("out.csv").exists());
    // An age over 89 that the birth date contradicts at the reference date.
    let dir = phi(
        "age-contradiction",
        |csv| csv.replacen("1953-02-23,2026-05-08,73", "1953-02-23,2026-05-08,101", 1),
        "",
    );
    let out = safe_harbor(&dir, &path(&dir, "out.csv"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("column 'age', row 1: the age is over 89"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn every_program_exits_2_on_a_mistyped_flag() {
    // Every program in examples/ (a new one is covered without listing it).
    let mut programs: Vec<String> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    programs.sort();
    assert!(programs.len() >= 13, "{programs:?}");
    for program in &programs {
        let out = cargo_example(program, &["--no-such-flag"]);
        assert_eq!(out.status.code(), Some(2), "{program}: {}", stderr(&out));
    }
}

#[test]
fn risk_exits_3_when_asked_and_a_decision_fails() {
    let config = path(&root().join("datasets/adult"), "adult9.toml");
    let plain = cargo_example("risk", &["--config", &config, "--threshold", "0.2"]);
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    let strict = cargo_example(
        "risk",
        &[
            "--config",
            &config,
            "--threshold",
            "0.2",
            "--fail-on-decision",
        ],
    );
    assert!(stdout(&strict).contains("fails"), "{}", stdout(&strict));
    assert_eq!(strict.status.code(), Some(3), "{}", stderr(&strict));
}

#[test]
fn io_errors_name_the_path_not_a_debug_structure() {
    let missing = "/nonexistent/adult.csv";
    let out = cargo_example(
        "generate_census",
        &["--adult", missing, "--rows", "10", "--output", "/tmp/x.csv"],
    );
    assert_eq!(out.status.code(), Some(1));
    let message = stderr(&out);
    assert!(message.contains(missing), "{message}");
    assert!(!message.contains("Os {"), "{message}");
}

#[test]
fn a_declared_data_fingerprint_catches_a_flipped_byte() {
    use deidentify::{Ruleset, apply::write_parquet, report::sha256_file};
    let adult = Ruleset::from_file(&root().join("datasets/adult/adult9.toml")).unwrap();
    let data = adult.read_data().unwrap();
    let dir = scratch("fingerprint", &[]);
    let parquet = dir.join("adult.parquet");
    write_parquet(&data, &parquet).unwrap();
    let sha = sha256_file(&parquet).unwrap();
    let ruleset_text = |sha: &str| {
        std::fs::read_to_string(root().join("datasets/adult/adult9.toml"))
            .unwrap()
            .replace(
                "path = \"adult.csv\"",
                &format!("path = \"adult.parquet\"\nsha256 = \"{sha}\""),
            )
            .replace(
                "\"hierarchies/",
                &format!("\"{}/hierarchies/", root().join("datasets/adult").display()),
            )
    };
    let path = dir.join("ruleset.toml");
    std::fs::write(&path, ruleset_text(&sha)).unwrap();
    let ruleset = Ruleset::from_file(&path).unwrap();
    assert_eq!(ruleset.read_data().unwrap().height(), data.height());
    // One flipped bit in the middle of the file.
    let mut bytes = std::fs::read(&parquet).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&parquet, &bytes).unwrap();
    let message = ruleset.read_data().unwrap_err().to_string();
    assert!(message.contains("changed or is corrupt"), "{message}");
    assert!(ruleset.load().is_err());
}
