//! Encrypted staging: frequency tables and streamed outputs encrypted to a
//! staging key round-trip, refuse another key, a cut or changed byte and a
//! plaintext file where a key is given, merge as partitions, and leave no
//! quasi-identifier value in plaintext in any file a run creates, even when
//! the write fails part way.

use std::io::Write;
use std::path::{Path, PathBuf};

use deidentify::{
    AnonymizationConfig, ErrorKind, Node, Ruleset,
    data::read_parquet,
    model::ModelSpec,
    stream::{LabeledTable, StagingKey, StreamOptions, StreamedTable},
};

use crate::examples::cargo_example;
use crate::{root, scratch};

/// The first bytes of every age file.
const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";

fn adult() -> Ruleset {
    Ruleset::from_file(&root().join("datasets/adult/adult.toml")).unwrap()
}

fn keyed(key: &StagingKey) -> StreamOptions {
    StreamOptions::default()
        .with_batch_rows(4_096)
        .with_staging_key(key.clone())
}

/// The adult table (eight quasi-identifiers, occupation sensitive) counted
/// by streaming.
fn adult_table() -> LabeledTable {
    StreamedTable::from_ruleset(&adult(), &StreamOptions::default())
        .unwrap()
        .labeled()
        .unwrap()
}

/// The quasi-identifier labels and sensitive values of `table` that are at
/// least 6 bytes long: values of real records whose plaintext must not be on
/// disk (at that length a chance match in ciphertext is out of the question).
fn needles(table: &LabeledTable) -> Vec<String> {
    let mut values: Vec<String> = table
        .labels()
        .iter()
        .chain(table.sensitive_values())
        .flatten()
        .filter(|v| v.len() >= 6)
        .cloned()
        .collect();
    values.sort();
    values.dedup();
    assert!(values.len() > 50, "{values:?}");
    values
}

/// Every file under `dir` (recursively), with each needle found in it in
/// plaintext.
fn plaintext_hits(dir: &Path, needles: &[String]) -> Vec<(PathBuf, String)> {
    let any = needles
        .iter()
        .map(|n| regex::escape(n))
        .collect::<Vec<_>>()
        .join("|");
    let any = regex::bytes::Regex::new(&any).unwrap();
    let mut hits = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let mut found: Vec<String> = any
                .find_iter(&bytes)
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
                .collect();
            found.sort();
            found.dedup();
            hits.extend(found.into_iter().map(|n| (path.clone(), n)));
        }
    }
    hits
}

/// The names of the files directly in `dir`, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn parse_reason(error: deidentify::Error) -> String {
    match error.into_kind() {
        ErrorKind::Parse { reason, .. } => reason,
        other => panic!("expected a parse error, got {other}"),
    }
}

#[test]
fn encrypted_table_round_trips_and_holds_the_plaintext_file() {
    let dir = scratch("encryption-round-trip", &[]);
    let table = adult_table();
    let key = StagingKey::generate();
    table.write_parquet(&dir.join("plain.parquet")).unwrap();
    table
        .write_parquet_with_key(&dir.join("sealed.parquet"), Some(&key))
        .unwrap();
    let sealed = std::fs::read(dir.join("sealed.parquet")).unwrap();
    assert!(sealed.starts_with(AGE_MAGIC));
    // Inside is exactly the plaintext file's bytes.
    let plain = std::fs::read(dir.join("plain.parquet")).unwrap();
    assert!(plain.starts_with(b"PAR1"));
    assert_eq!(
        &key.decrypt_file(&dir.join("sealed.parquet")).unwrap()[..],
        &plain[..]
    );
    // Read back: the same table as the plaintext path (codes, order, metadata).
    let read =
        LabeledTable::read_parquet_with_key(&dir.join("sealed.parquet"), Some(&key)).unwrap();
    let plain_read = LabeledTable::read_parquet(&dir.join("plain.parquet")).unwrap();
    for other in [&read, &plain_read] {
        assert_eq!(other.table(), table.table());
        assert_eq!(other.labels(), table.labels());
        assert_eq!(other.sensitive_values(), table.sensitive_values());
        assert_eq!(other.quasi_identifiers(), table.quasi_identifiers());
        assert_eq!(other.total_rows(), 30_162);
        assert_eq!(other.decoded(), table.decoded());
    }
    // Only the two files: no temporary left.
    assert_eq!(files_in(&dir), ["plain.parquet", "sealed.parquet"]);
}

#[test]
fn another_key_a_cut_or_a_changed_byte_is_an_error_never_a_table() {
    let dir = scratch("encryption-tamper", &[]);
    let table = adult_table();
    let key = StagingKey::generate();
    let path = dir.join("sealed.parquet");
    table.write_parquet_with_key(&path, Some(&key)).unwrap();
    let sealed = std::fs::read(&path).unwrap();
    let secret_of = |k: &StagingKey| {
        let file = dir.join(format!("{}.key", k.fingerprint()));
        k.write_new_file(&file).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::remove_file(&file).unwrap();
        text.lines().last().unwrap().to_owned()
    };
    // Another key.
    let other = StagingKey::generate();
    let e = LabeledTable::read_parquet_with_key(&path, Some(&other)).unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("sealed.parquet"), "{shown}");
    for secret in [secret_of(&key), secret_of(&other)] {
        assert!(!shown.contains(&secret), "{shown}");
        assert!(!shown.contains(&secret[15..40]), "{shown}");
    }
    assert!(
        parse_reason(e).contains("not encrypted to the staging key given"),
        "{shown}"
    );
    let broken = dir.join("broken.parquet");
    let read_broken = |bytes: &[u8]| {
        std::fs::write(&broken, bytes).unwrap();
        LabeledTable::read_parquet_with_key(&broken, Some(&key))
    };
    // Cut: inside the header, after the header, at and inside chunks, and
    // only the last byte.
    let header = sealed
        .windows(4)
        .position(|w| w == b"\n---")
        .expect("the header's MAC line");
    // The MAC line ("\n--- " and 43 base64 digits), the 16-byte nonce,
    // then 64 KiB chunks with a 16-byte tag each (cut at the boundaries the
    // file has).
    let payload = header + 49 + 16;
    let chunk = 65_536 + 16;
    let cuts = [
        30,
        header,
        header + 55,
        payload,
        payload + 1_000,
        payload + chunk,
        payload + chunk + 11,
        sealed.len() / 2,
        sealed.len() - 17,
        sealed.len() - 1,
    ];
    for cut in cuts.into_iter().filter(|&c| c < sealed.len()) {
        let e = read_broken(&sealed[..cut]).expect_err("a cut file must not read");
        let reason = parse_reason(e);
        assert!(
            reason.contains("truncated") || reason.contains("altered"),
            "cut at {cut}: {reason}"
        );
    }
    // One changed bit anywhere: in the header lines, the MAC, the nonce,
    // the first chunk and spread over the whole payload.
    let mut positions: Vec<usize> = vec![5, 25, 40, header - 10, header + 10, header + 50];
    positions.extend((0..40).map(|i| payload + i * (sealed.len() - payload - 1) / 39));
    for position in positions {
        let mut flipped = sealed.clone();
        flipped[position] ^= 0x01;
        let e = read_broken(&flipped).expect_err("a changed file must not read");
        assert!(
            matches!(e.kind(), ErrorKind::Parse { .. }),
            "byte {position}: {e}"
        );
    }
    // The intact file still reads (the failures were the changes').
    read_broken(&sealed).unwrap();
}

#[test]
fn no_silent_downgrade_either_way() {
    let dir = scratch("encryption-downgrade", &[]);
    let table = adult_table();
    let key = StagingKey::generate();
    table.write_parquet(&dir.join("plain.parquet")).unwrap();
    table
        .write_parquet_with_key(&dir.join("sealed.parquet"), Some(&key))
        .unwrap();
    // A key given: a plaintext table is refused (the file is a valid table).
    let e =
        LabeledTable::read_parquet_with_key(&dir.join("plain.parquet"), Some(&key)).unwrap_err();
    assert!(e.to_string().contains("plain.parquet"), "{e}");
    assert!(parse_reason(e).contains("not encrypted"));
    // No key: an encrypted table says so instead of failing to parse.
    let e = LabeledTable::read_parquet(&dir.join("sealed.parquet")).unwrap_err();
    assert!(parse_reason(e).contains("is encrypted (age)"));
    let e = LabeledTable::read_parquet_with_key(&dir.join("sealed.parquet"), None).unwrap_err();
    assert!(parse_reason(e).contains("give its staging key"));
    // decrypt_file refuses plaintext too.
    assert!(key.decrypt_file(&dir.join("plain.parquet")).is_err());
}

#[test]
fn no_plaintext_on_disk_when_writes_succeed_fail_or_stop() {
    let table = adult_table();
    let needles = needles(&table);
    let key = StagingKey::generate();

    // The scan can fail: the plaintext path leaves the values on disk.
    let plain = scratch("encryption-scan-plain", &[]);
    table.write_parquet(&plain.join("table.parquet")).unwrap();
    let hits = plaintext_hits(&plain, &needles);
    assert!(
        hits.len() > 20,
        "the plaintext table shows {} values",
        hits.len()
    );

    // A successful encrypted write: one file, ciphertext only.
    let sealed = scratch("encryption-scan-sealed", &[]);
    table
        .write_parquet_with_key(&sealed.join("table.parquet"), Some(&key))
        .unwrap();
    assert_eq!(files_in(&sealed), ["table.parquet"]);
    assert_eq!(plaintext_hits(&sealed, &needles), []);

    // A write whose name is taken by a folder: refused before a byte is
    // written (a rename never replaces a folder), and nothing is left.
    let failed = scratch("encryption-scan-failed", &[("table.parquet/keep", "x")]);
    let e = table
        .write_parquet_with_key(&failed.join("table.parquet"), Some(&key))
        .unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::InvalidParameter { .. }),
        "{e}"
    );
    assert_eq!(files_in(&failed), ["table.parquet"]);
    assert_eq!(plaintext_hits(&failed, &needles), []);

    // A write stopped part way (the disk fills, the process dies): what
    // reached the file is a prefix of the ciphertext. The same stop on the
    // plaintext path leaves values on disk.
    let stopped = scratch("encryption-scan-stopped", &[]);
    // (The ciphertext is longer than the plaintext by a header of varying
    // length and a tag per chunk, so every limit stops it.)
    let full_plain = table.write_parquet_to(Vec::new(), None).unwrap().len();
    for (i, limit) in [1_000, full_plain / 4, full_plain / 2, full_plain - 1]
        .into_iter()
        .enumerate()
    {
        let path = stopped.join(format!("stopped-{i}.parquet"));
        let sink = Stopping::new(&path, limit);
        let e = table
            .write_parquet_to(sink, Some(&key))
            .expect_err("the writer stopped");
        assert!(
            matches!(e.kind(), ErrorKind::Io { .. }),
            "stopped after {limit} bytes: {e}"
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), limit as u64);
    }
    assert_eq!(plaintext_hits(&stopped, &needles), []);
    let control = scratch("encryption-scan-stopped-plain", &[]);
    let sink = Stopping::new(&control.join("stopped.parquet"), full_plain - 1);
    assert!(table.write_parquet_to(sink, None).is_err());
    assert!(!plaintext_hits(&control, &needles).is_empty());
}

/// A file writer that fails once `limit` bytes are written (a full disk, a
/// killed process), keeping what it wrote.
#[derive(Debug)]
struct Stopping {
    file: std::fs::File,
    left: usize,
}

impl Stopping {
    fn new(path: &Path, limit: usize) -> Stopping {
        Stopping {
            file: std::fs::File::create(path).unwrap(),
            left: limit,
        }
    }
}

impl Write for Stopping {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("no space left (test)"));
        }
        let n = buf.len().min(self.left);
        self.file.write_all(&buf[..n])?;
        self.left -= n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

#[test]
fn streamed_output_is_encrypted_as_written_and_failures_leave_nothing() {
    let ruleset = adult();
    let needles = needles(&adult_table());
    let key = StagingKey::generate();
    // The bottom node with any suppression allowed: classes of one record
    // are suppressed, every other value is released as it is.
    let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 2 }], 1.0);
    let orders = ruleset.orders();
    let mut streamed = StreamedTable::from_ruleset(&ruleset, &keyed(&key)).unwrap();
    let node = Node::bottom(8);
    let plain = scratch("encryption-apply-plain", &[]);
    let sealed = scratch("encryption-apply-sealed", &[]);
    let opened = scratch("encryption-apply-opened", &[]);
    for name in ["out.csv", "out.parquet"] {
        streamed
            .apply_to_file(
                &config,
                &orders,
                &node,
                &plain.join(name),
                b';',
                &StreamOptions::default(),
            )
            .unwrap();
        let written = streamed
            .apply_to_file(
                &config,
                &orders,
                &node,
                &sealed.join(name),
                b';',
                &keyed(&key),
            )
            .unwrap();
        assert_eq!(written.rows, 30_162);
        assert!(written.suppressed_rows > 0 && written.suppressed_rows < 30_162);
        let bytes = std::fs::read(sealed.join(name)).unwrap();
        assert!(bytes.starts_with(AGE_MAGIC), "{name}");
        // The plaintext inside is the plaintext output.
        let inside = key.decrypt_file(&sealed.join(name)).unwrap();
        std::fs::write(opened.join(name), &inside[..]).unwrap();
    }
    // CSV byte for byte; Parquet the same frame.
    assert!(
        std::fs::read(opened.join("out.csv")).unwrap()
            == std::fs::read(plain.join("out.csv")).unwrap()
    );
    let frame = read_parquet(&opened.join("out.parquet")).unwrap();
    assert_eq!(frame.height(), 30_162);
    assert!(frame.equals_missing(&read_parquet(&plain.join("out.parquet")).unwrap()));
    assert!(!plaintext_hits(&plain, &needles).is_empty());
    assert_eq!(files_in(&sealed), ["out.csv", "out.parquet"]);
    assert_eq!(plaintext_hits(&sealed, &needles), []);
    // A failing apply (a node that is not feasible is refused before
    // writing; a folder in the way fails the rename) leaves no file.
    let failed = scratch("encryption-apply-failed", &[("out.csv/keep", "x")]);
    assert!(
        streamed
            .apply_to_file(
                &config,
                &orders,
                &node,
                &failed.join("out.csv"),
                b';',
                &keyed(&key)
            )
            .is_err()
    );
    assert_eq!(files_in(&failed), ["out.csv"]);
    assert_eq!(plaintext_hits(&failed, &needles), []);
}

#[test]
fn encrypted_partition_tables_merge_to_the_whole() {
    let inputs = scratch("encryption-partition-inputs", &[]);
    let tables = scratch("encryption-partition-tables", &[]);
    let adult_csv = std::fs::read_to_string(root().join("datasets/adult/adult.csv")).unwrap();
    let mut lines = adult_csv.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let ruleset_text = std::fs::read_to_string(root().join("datasets/adult/adult.toml")).unwrap();
    let hierarchies = root().join("datasets/adult/hierarchies");
    let key = StagingKey::generate();
    // Three partitions, counted, written encrypted and read back as a
    // merging run would.
    let mut parts = Vec::new();
    for (i, chunk) in rows.chunks(rows.len() / 3 + 1).enumerate() {
        let data = format!("part{i}.csv");
        let mut text = format!("{header}\n");
        for row in chunk {
            text.push_str(row);
            text.push('\n');
        }
        std::fs::write(inputs.join(&data), text).unwrap();
        let toml = ruleset_text
            .replace("path = \"adult.csv\"", &format!("path = \"{data}\""))
            .replace("\"hierarchies/", &format!("\"{}/", hierarchies.display()));
        let ruleset_path = inputs.join(format!("part{i}.toml"));
        std::fs::write(&ruleset_path, toml).unwrap();
        let ruleset = Ruleset::from_file(&ruleset_path).unwrap();
        let mut table = StreamedTable::from_ruleset(&ruleset, &keyed(&key))
            .unwrap()
            .labeled()
            .unwrap();
        table.set_partial(true);
        let path = tables.join(format!("part{i}.table.parquet"));
        table.write_parquet_with_key(&path, Some(&key)).unwrap();
        assert!(std::fs::read(&path).unwrap().starts_with(AGE_MAGIC));
        parts.push(LabeledTable::read_parquet_with_key(&path, Some(&key)).unwrap());
    }
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(LabeledTable::is_partial));
    let mut merged = parts[0].clone();
    for part in &parts[1..] {
        merged.merge(part).unwrap();
    }
    let whole = adult_table();
    assert_eq!(merged.total_rows(), 30_162);
    assert_eq!(merged.decoded(), whole.decoded());
    // The merged table written encrypted reads back equal.
    merged.set_partial(false);
    let path = tables.join("merged.table.parquet");
    merged.write_parquet_with_key(&path, Some(&key)).unwrap();
    let read = LabeledTable::read_parquet_with_key(&path, Some(&key)).unwrap();
    assert_eq!(read.decoded(), whole.decoded());
    assert!(!read.is_partial());
    // Every table file is ciphertext (the CSV inputs of course are not).
    assert_eq!(files_in(&tables).len(), 4);
    assert_eq!(plaintext_hits(&tables, &needles(&whole)), []);
    assert!(!plaintext_hits(&inputs, &needles(&whole)).is_empty());
}

#[test]
fn key_files_are_private_never_overwritten_and_never_echoed() {
    let dir = scratch("encryption-key-file", &[]);
    let key = StagingKey::generate();
    let path = dir.join("key.txt");
    key.write_new_file(&path).unwrap();
    assert_eq!(StagingKey::from_file(&path).unwrap(), key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!("# public key: {}", key.recipient())));
    // Never overwritten.
    let e = StagingKey::generate().write_new_file(&path).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Io { .. }), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let secret = text.lines().last().unwrap();
    assert!(secret.starts_with("AGE-SECRET-KEY-1"));
    // Debug of the key and of options holding it shows a fingerprint only.
    for shown in [format!("{key:?}"), format!("{:?}", keyed(&key))] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(!shown.contains(&secret[16..40]), "{shown}");
        assert!(shown.contains(&key.fingerprint()), "{shown}");
    }
    // A damaged key file is an error naming the file, not echoing the key.
    // (Its last character changed, whatever it was: a fixed replacement
    // would leave one key in 32 intact.)
    let last = if secret.ends_with('Q') { 'X' } else { 'Q' };
    let damaged = format!("{}{last}\n", &secret[..secret.len() - 1]);
    assert_ne!(damaged.trim_end(), secret);
    std::fs::write(dir.join("damaged.txt"), &damaged).unwrap();
    let e = StagingKey::from_file(&dir.join("damaged.txt")).unwrap_err();
    assert!(e.to_string().contains("damaged.txt"), "{e}");
    assert!(!e.to_string().contains(&damaged[16..40]), "{e}");
}

#[test]
fn scale_example_writes_only_ciphertext_with_a_staging_key() {
    let dir = scratch("encryption-scale", &[]);
    let key_path = dir.join("key.txt");
    let table = dir.join("table.parquet");
    let output = dir.join("out.csv");
    let out = cargo_example(
        "scale",
        &[
            "--config",
            "datasets/adult/adult.toml",
            "--k",
            "1",
            "--output",
            output.to_str().unwrap(),
            "--table",
            table.to_str().unwrap(),
            "--staging-key",
            key_path.to_str().unwrap(),
            "--new-staging-key",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["encrypted"], true);
    assert_eq!(json["rows"], 30_162);
    let key = StagingKey::from_file(&key_path).unwrap();
    let secret = std::fs::read_to_string(&key_path).unwrap();
    let secret = secret.lines().last().unwrap().to_owned();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(&secret[16..40]));
    for path in [&table, &output] {
        assert!(std::fs::read(path).unwrap().starts_with(AGE_MAGIC));
    }
    let read = LabeledTable::read_parquet_with_key(&table, Some(&key)).unwrap();
    assert_eq!(read.decoded(), adult_table().decoded());
    // Nothing else was left: the key, the table, the output.
    assert_eq!(files_in(&dir), ["key.txt", "out.csv", "table.parquet"]);
    let needles = needles(&read);
    assert_eq!(plaintext_hits(&dir, &needles), []);
    // Plaintext staging shows the values: the same scan fails there.
    let plain = scratch("encryption-scale-plain", &[]);
    let out = cargo_example(
        "scale",
        &[
            "--config",
            "datasets/adult/adult.toml",
            "--k",
            "1",
            "--output",
            plain.join("out.csv").to_str().unwrap(),
            "--table",
            plain.join("table.parquet").to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    assert!(!plaintext_hits(&plain, &needles).is_empty());
}
