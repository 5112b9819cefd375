//! Signing a report and verifying it: the signature, its key files, and a
//! verification that fails closed with distinct outcomes.

use std::path::{Path, PathBuf};

use deidentify::report::{
    ReportSignature, SignatureStatus, VerifyOptions, generate_key_pair, public_key_sha256,
    read_signing_key, read_verifying_key, sign_report, signature_path, verify_report_file,
};
use deidentify::{
    Report, Ruleset, RunOptions, exit::Exit, report::sha256_file, run_expert_determination,
};
use ed25519_dalek::{Signature, Verifier};

use crate::scratch;

/// A report of a small table (40 rows, two quasi-identifiers) in its own
/// folder, written by the real Expert Determination run.
pub(crate) struct Fixture {
    /// The folder.
    pub dir: PathBuf,
    /// `out/report.json`.
    pub report: PathBuf,
    /// The released data file, if written.
    pub data: Option<PathBuf>,
}

impl Fixture {
    /// A releasable report (k = 2, base threshold 0.5).
    pub(crate) fn releasable(name: &str) -> Fixture {
        Fixture::with(name, "threshold = 0.5")
    }

    /// An intact report whose verdict fails (an unmeetable average risk).
    pub(crate) fn not_releasable(name: &str) -> Fixture {
        Fixture::with(
            name,
            "threshold = 0.5\nthresholds = { prosecutor_average = 0.001 }",
        )
    }

    fn with(name: &str, expert_determination: &str) -> Fixture {
        let diagnoses = ["flu", "cold", "asthma", "migraine"];
        let mut data = String::from("age;sex;dx\n");
        let mut ages = String::new();
        for i in 0..40 {
            let age = 20 + i;
            let sex = if i % 2 == 0 { "M" } else { "F" };
            data.push_str(&format!("{age};{sex};{}\n", diagnoses[i % 4]));
            let decade = age / 10 * 10;
            ages.push_str(&format!("{age};{decade}-{};*\n", decade + 9));
        }
        let rules = format!(
            "[data]\npath = \"data.csv\"\ndelimiter = \";\"\n\n\
             [[attribute]]\nname = \"age\"\nrole = \"quasi-identifier\"\ntype = \"integer\"\nhierarchy = \"age.csv\"\n\n\
             [[attribute]]\nname = \"sex\"\nrole = \"quasi-identifier\"\ntype = \"string\"\nhierarchy = \"sex.csv\"\n\n\
             [[attribute]]\nname = \"dx\"\nrole = \"sensitive\"\n\n\
             [anonymization]\nsuppression_limit = 0.0\nmodels = [{{ type = \"k-anonymity\", k = 2 }}]\n\n\
             [expert_determination]\n{expert_determination}\n"
        );
        let dir = scratch(
            name,
            &[
                ("rules.toml", &rules),
                ("data.csv", &data),
                ("age.csv", &ages),
                ("sex.csv", "M;*\nF;*\n"),
            ],
        );
        let ruleset = Ruleset::from_file(&dir.join("rules.toml")).unwrap();
        let outcome = run_expert_determination(
            &ruleset,
            &RunOptions::new(dir.join("out")),
            &mut |_: &str| {},
        )
        .unwrap();
        Fixture {
            report: outcome.json,
            data: outcome.data,
            dir,
        }
    }

    /// Generates a key pair `name.key` / `name.pub` in the folder.
    pub(crate) fn key_pair(&self, name: &str) -> (PathBuf, PathBuf) {
        let private = self.dir.join(format!("{name}.key"));
        let (_, public) = generate_key_pair(&private).unwrap();
        (private, public)
    }

    /// Signs the report with `private`.
    pub(crate) fn sign(&self, private: &Path) {
        let key = read_signing_key(private).unwrap();
        let verification = sign_report(&self.report, &key, &signature_path(&self.report)).unwrap();
        assert!(verification.intact, "{:?}", verification.problems);
    }

    /// Verifies the report with `public`.
    fn verify(&self, public: &Path) -> deidentify::report::Verification {
        verify_report_file(&self.report, &{
            let mut options = VerifyOptions::default().with_public_key(public);
            options.data = self.data.as_deref();
            options
        })
        .unwrap()
    }
}

/// The error message of verifying `path` (without a key).
fn verify_error(path: &Path) -> String {
    verify_report_file(path, &VerifyOptions::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_signed_report_verifies_and_the_signature_covers_the_documented_message() {
    let fixture = Fixture::releasable("signed");
    let (private, public) = fixture.key_pair("expert");
    fixture.sign(&private);
    let verification = fixture.verify(&public);
    assert!(verification.intact, "{:?}", verification.problems);
    assert!(verification.verdict.releasable);
    assert_eq!(verification.exit(), Exit::Success);
    let key = read_verifying_key(&public).unwrap();
    assert_eq!(
        verification.signature,
        SignatureStatus::Valid {
            path: fixture.dir.join("out/report.json.sig"),
            public_key_sha256: public_key_sha256(&key),
        }
    );
    // The signature is Ed25519 over the documented text, built here from the
    // report's sealed digest and the data file's own SHA-256.
    let report: Report =
        serde_json::from_str(&std::fs::read_to_string(&fixture.report).unwrap()).unwrap();
    let data_sha256 = sha256_file(fixture.data.as_ref().unwrap()).unwrap();
    let message = format!(
        "deidentify report signature v1\ncontent_sha256={}\noutput_sha256={data_sha256}\n",
        report.sign_off.content_sha256
    );
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture.dir.join("out/report.json.sig")).unwrap(),
    )
    .unwrap();
    assert_eq!(file["format"], "deidentify-report-signature-v1");
    assert_eq!(file["algorithm"], "Ed25519");
    let hex = file["signature"].as_str().unwrap();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let signature = Signature::from_slice(&bytes).unwrap();
    assert!(key.verify(message.as_bytes(), &signature).is_ok());
    assert!(
        key.verify(message.replace("v1", "v2").as_bytes(), &signature)
            .is_err()
    );
}

#[test]
fn an_edit_after_signing_is_named_even_when_the_report_is_resealed() {
    let fixture = Fixture::releasable("edited");
    let (private, public) = fixture.key_pair("expert");
    fixture.sign(&private);
    let original = std::fs::read_to_string(&fixture.report).unwrap();

    // One byte of one field: the sealed digest and the signature both fail.
    let edited = original.replacen("\"input_rows\": 40", "\"input_rows\": 41", 1);
    assert_ne!(edited, original);
    std::fs::write(&fixture.report, &edited).unwrap();
    let verification = fixture.verify(&public);
    assert_eq!(verification.exit(), Exit::NotIntact);
    assert!(
        verification
            .problems
            .iter()
            .any(|p| p.starts_with("the report's content was changed after signing")),
        "{:?}",
        verification.problems
    );

    // Resealed (the digest recomputed, the chain untouched): only the
    // signature tells.
    let mut value: serde_json::Value = serde_json::from_str(&original).unwrap();
    value["summary"]["verdict"] = "Edited after signing.".into();
    value["sign_off"]["content_sha256"] = Report::content_digest(&value).into();
    std::fs::write(&fixture.report, value.to_string()).unwrap();
    let unsigned_check = verify_report_file(&fixture.report, &VerifyOptions::default()).unwrap();
    assert!(unsigned_check.intact, "{:?}", unsigned_check.problems);
    let verification = fixture.verify(&public);
    assert_eq!(verification.exit(), Exit::NotIntact);
    assert_eq!(
        verification.problems.len(),
        1,
        "{:?}",
        verification.problems
    );
    assert!(verification.problems[0].starts_with("the report's content was changed after signing"));
    assert!(matches!(
        verification.signature,
        SignatureStatus::Invalid { .. }
    ));
}

#[test]
fn another_key_and_an_altered_signature_are_told_apart() {
    let fixture = Fixture::releasable("other-key");
    let (private, _) = fixture.key_pair("expert");
    let (_, other_public) = fixture.key_pair("other");
    fixture.sign(&private);
    let verification = fixture.verify(&other_public);
    assert_eq!(verification.exit(), Exit::NotIntact);
    assert_eq!(verification.problems.len(), 1);
    let problem = &verification.problems[0];
    assert!(
        problem.starts_with(&format!(
            "the signature does not verify with the public key {}: it was made by another key",
            other_public.display()
        )),
        "{problem}"
    );

    // The right key, one hex digit of the signature changed.
    let path = signature_path(&fixture.report);
    let mut signature = ReportSignature::read(&path).unwrap();
    let last = signature.signature.pop().unwrap();
    signature
        .signature
        .push(if last == '0' { '1' } else { '0' });
    signature.write(&path).unwrap();
    let public = fixture.dir.join("expert.pub");
    let verification = fixture.verify(&public);
    assert_eq!(verification.exit(), Exit::NotIntact);
    assert!(
        verification.problems[0].ends_with("the signature file was altered"),
        "{:?}",
        verification.problems
    );
}

#[test]
fn a_missing_signature_is_unsigned_and_the_verdict_decides_the_rest() {
    let fixture = Fixture::not_releasable("unsigned");
    let (private, public) = fixture.key_pair("expert");
    let verification = fixture.verify(&public);
    assert!(verification.intact);
    assert_eq!(
        verification.signature,
        SignatureStatus::Missing {
            path: fixture.dir.join("out/report.json.sig")
        }
    );
    assert_eq!(verification.exit(), Exit::Unsigned);
    // Signed, the same report is intact but not releasable.
    fixture.sign(&private);
    let verification = fixture.verify(&public);
    assert!(matches!(
        verification.signature,
        SignatureStatus::Valid { .. }
    ));
    assert!(!verification.verdict.releasable);
    assert!(
        verification.verdict.failures[0].starts_with("prosecutor_average is"),
        "{:?}",
        verification.verdict.failures
    );
    assert_eq!(verification.exit(), Exit::NotReleasable);
    // Without a key, the signature is not looked at.
    let verification = verify_report_file(&fixture.report, &VerifyOptions::default()).unwrap();
    assert_eq!(verification.signature, SignatureStatus::NotChecked);
    assert_eq!(verification.exit(), Exit::NotReleasable);
}

#[test]
fn a_report_that_is_not_intact_is_not_signed() {
    let fixture = Fixture::releasable("refused");
    let (private, _) = fixture.key_pair("expert");
    let text = std::fs::read_to_string(&fixture.report).unwrap();
    std::fs::write(
        &fixture.report,
        text.replacen("\"input_rows\": 40", "\"input_rows\": 4", 1),
    )
    .unwrap();
    let key = read_signing_key(&private).unwrap();
    let path = signature_path(&fixture.report);
    let verification = sign_report(&fixture.report, &key, &path).unwrap();
    assert!(!verification.intact);
    assert_eq!(verification.signature, SignatureStatus::NotChecked);
    assert!(!path.exists());
}

#[test]
fn unreadable_reports_give_their_own_message_naming_the_path() {
    let dir = scratch(
        "unreadable",
        &[
            ("text.json", "report: yes\n"),
            ("other.json", "{\"rows\": 3}"),
            (
                "partial.json",
                "{\"schema_version\": \"1.0\", \"summary\": \"Jane Roe\"}",
            ),
            ("future.json", "{\"schema_version\": \"2.1\"}"),
        ],
    );
    std::fs::write(dir.join("latin1.json"), b"{\"a\": \"caf\xe9\"}").unwrap();
    let name = |file: &str| dir.join(file).display().to_string();
    assert_eq!(
        verify_error(&dir.join("absent.json")),
        format!(
            "cannot access {}: No such file or directory (os error 2)",
            name("absent.json")
        )
    );
    assert_eq!(
        verify_error(&dir.join("text.json")),
        format!(
            "cannot read {}: not JSON: expected value at line 1 column 1",
            name("text.json")
        )
    );
    assert_eq!(
        verify_error(&dir.join("latin1.json")),
        format!(
            "cannot read {}: not UTF-8 text: invalid byte at line 1, column 11 (byte 10)",
            name("latin1.json")
        )
    );
    assert_eq!(
        verify_error(&dir.join("other.json")),
        format!(
            "cannot read {}: JSON but not a deidentify report: no schema_version field",
            name("other.json")
        )
    );
    let partial = verify_error(&dir.join("partial.json"));
    assert!(
        partial.starts_with(&format!(
            "cannot read {}: JSON but not a deidentify report: ",
            name("partial.json")
        )) && !partial.contains("Jane Roe"),
        "{partial}"
    );
    assert_eq!(
        verify_error(&dir.join("future.json")),
        format!(
            "cannot read {}: a deidentify report of schema version 2.1, which this version (schema {}) does not read",
            name("future.json"),
            deidentify::report::SCHEMA_VERSION
        )
    );
}

#[cfg(unix)]
#[test]
fn reading_stops_at_the_limit() {
    let started = std::time::Instant::now();
    let error = verify_error(Path::new("/dev/zero"));
    assert_eq!(
        error,
        "cannot read /dev/zero: larger than the limit of 64 MiB for a report; nothing beyond it was read"
    );
    assert!(started.elapsed().as_secs() < 10);
    // Keys and signatures have a tiny limit.
    let key = read_verifying_key(Path::new("/dev/zero"))
        .unwrap_err()
        .to_string();
    assert!(key.contains("limit of 4 KiB for a key"), "{key}");
    let signature = ReportSignature::read(Path::new("/dev/zero"))
        .unwrap_err()
        .to_string();
    assert!(
        signature.contains("limit of 4 KiB for a signature"),
        "{signature}"
    );
    // A released data file must be a file.
    let fixture = Fixture::releasable("dev-zero-data");
    let data = verify_report_file(
        &fixture.report,
        &VerifyOptions::default().with_data(Path::new("/dev/zero")),
    )
    .unwrap_err()
    .to_string();
    assert!(data.contains("not a regular file"), "{data}");
}

/// RFC 8410 §10.1 and §10.3: an Ed25519 public key and its private key, in
/// the PEM form `openssl genpkey -algorithm ed25519` writes.
const RFC_8410_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
const RFC_8410_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";

#[test]
fn keys_in_openssl_form_are_read_and_private_keys_must_be_owner_only() {
    let dir = scratch(
        "keys",
        &[
            ("rfc.key", RFC_8410_PRIVATE),
            ("rfc.pub", RFC_8410_PUBLIC),
            ("junk.key", "SECRET-MATERIAL-0123456789\n"),
        ],
    );
    set_mode(&dir.join("rfc.key"), 0o600);
    set_mode(&dir.join("junk.key"), 0o600);
    let private = read_signing_key(&dir.join("rfc.key")).unwrap();
    let public = read_verifying_key(&dir.join("rfc.pub")).unwrap();
    assert_eq!(private.verifying_key(), public);
    // The public key's raw bytes, as RFC 8410 §10.1 gives them in hex.
    let hex: String = public
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        hex,
        "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1"
    );
    // Neither file is taken for the other, and no error shows a key.
    let swapped = read_verifying_key(&dir.join("rfc.key"))
        .unwrap_err()
        .to_string();
    assert!(swapped.contains("found a private key"), "{swapped}");
    let junk = read_signing_key(&dir.join("junk.key"))
        .unwrap_err()
        .to_string();
    assert!(
        junk.contains("junk.key") && !junk.contains("SECRET"),
        "{junk}"
    );
    for error in [&swapped, &junk] {
        assert!(!error.contains("MC4CAQAw") && !error.contains("1bbY8fdp"));
    }
    #[cfg(unix)]
    {
        set_mode(&dir.join("rfc.key"), 0o644);
        let open = read_signing_key(&dir.join("rfc.key"))
            .unwrap_err()
            .to_string();
        assert!(
            open.contains("permissions 0644") && open.contains("chmod 600"),
            "{open}"
        );
        assert!(!open.contains("MC4CAQAw"));
    }
}

#[test]
fn generated_keys_are_owner_only_and_never_overwrite() {
    let dir = scratch("generate", &[]);
    let private = dir.join("expert.key");
    let (public, public_path) = generate_key_pair(&private).unwrap();
    assert_eq!(public_path, dir.join("expert.pub"));
    assert_eq!(read_verifying_key(&public_path).unwrap(), public);
    assert_eq!(read_signing_key(&private).unwrap().verifying_key(), public);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(&private).unwrap();
    let again = generate_key_pair(&private).unwrap_err().to_string();
    assert!(again.contains("never overwritten"), "{again}");
    assert_eq!(std::fs::read(&private).unwrap(), before);
    // Two generated keys differ.
    let (second, _) = generate_key_pair(&dir.join("second.key")).unwrap();
    assert_ne!(second, public);
}

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}
