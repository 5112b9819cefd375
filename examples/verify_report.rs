//! Verifies an Expert Determination report: recomputes its audit chain and
//! the digest the expert signs, with `--data` the released file's SHA-256,
//! with `--public-key` the expert's signature (`report.json.sig`), and
//! states the report's verdict. It fails closed: the exit status is 0 only
//! for an intact, releasable (and, with `--public-key`, validly signed)
//! report.
//!
//! ```sh
//! cargo run --release --example verify_report -- --report out/report.json --data out/adult-deidentified.csv --public-key expert.pub
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use deidentify::exit::Exit;
use deidentify::report::{
    MAX_KEY_BYTES, MAX_REPORT_BYTES, MAX_SIGNATURE_BYTES, SignatureStatus, VerifyOptions,
    signature_path, verify_report_file,
};

fn exit_codes() -> String {
    let lines = [
        (
            Exit::Success,
            "intact and releasable (and, with --public-key, validly signed)",
        ),
        (
            Exit::Error,
            "a file cannot be read or is not what it should be (missing, too large, not JSON, not a report, a bad key)",
        ),
        (Exit::Usage, "wrong command line"),
        (
            Exit::NotReleasable,
            "intact, but the verdict is not releasable",
        ),
        (
            Exit::NotIntact,
            "altered (audit chain, content digest, data fingerprint), or the signature does not verify",
        ),
        (
            Exit::Unsigned,
            "--public-key given and there is no signature",
        ),
    ];
    let mut text = String::from("Exit status:\n");
    for (exit, meaning) in lines {
        text.push_str(&format!("  {}  {meaning}\n", exit.code()));
    }
    text.push_str(&format!(
        "\nAt most {} MiB of a report, {} bytes of a key and {} bytes of a signature are read.",
        MAX_REPORT_BYTES >> 20,
        MAX_KEY_BYTES,
        MAX_SIGNATURE_BYTES
    ));
    text
}

/// Checks that an Expert Determination report and its data are intact, that
/// the expert's signature verifies, and states the verdict.
#[derive(Parser, Debug)]
#[command(version, after_help = exit_codes())]
struct Args {
    /// The report (report.json).
    #[arg(long)]
    report: PathBuf,
    /// The released data file to check against the report's fingerprint.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The expert's public key (PEM): the report must carry a signature
    /// made with the matching private key.
    #[arg(long)]
    public_key: Option<PathBuf>,
    /// The signature file [default: the report's path with .sig appended].
    #[arg(long, requires = "public_key")]
    signature: Option<PathBuf>,
    /// Print the verification as JSON.
    #[arg(long)]
    json: bool,
}

fn run(args: &Args) -> Result<Exit, Box<dyn std::error::Error>> {
    let verification = verify_report_file(&args.report, &verify_options(args))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verification)?);
        return Ok(verification.exit());
    }
    if verification.intact {
        println!(
            "intact: {} audit entries chained, content digest matches{}",
            verification.entries,
            if verification.data_checked {
                ", data file matches"
            } else {
                ""
            }
        );
    } else {
        println!("NOT INTACT: {}", args.report.display());
        for problem in &verification.problems {
            println!("  - {problem}");
        }
    }
    match &verification.signature {
        SignatureStatus::NotChecked => {
            let path = signature_path(&args.report);
            if path.exists() {
                println!(
                    "signature: not checked ({} exists; give --public-key to check it)",
                    path.display()
                );
            } else {
                println!("signature: not checked (no --public-key)");
            }
        }
        SignatureStatus::Missing { path } => println!(
            "UNSIGNED: no signature file at {} (sign with: sign_report --report {} --key KEY)",
            path.display(),
            args.report.display()
        ),
        SignatureStatus::Valid {
            path,
            public_key_sha256,
        } => println!(
            "signature: valid ({}, Ed25519, public key SHA-256 {public_key_sha256})",
            path.display()
        ),
        SignatureStatus::Invalid { path } => {
            println!("signature: DOES NOT VERIFY ({})", path.display())
        }
    }
    let verdict = &verification.verdict;
    let trust = if verification.intact {
        ""
    } else {
        " (as the report states it; not to be trusted, see above)"
    };
    if verdict.releasable {
        println!("verdict{trust}: releasable: {}", verdict.statement);
    } else {
        println!("verdict{trust}: NOT RELEASABLE: {}", verdict.statement);
        for failure in &verdict.failures {
            println!("  - {failure}");
        }
    }
    Ok(verification.exit())
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Error.into()
        }
    }
}

/// What to check besides the report, from the command line.
fn verify_options(args: &Args) -> VerifyOptions<'_> {
    let mut options = VerifyOptions::default();
    options.data = args.data.as_deref();
    options.public_key = args.public_key.as_deref();
    options.signature = args.signature.as_deref();
    options
}
