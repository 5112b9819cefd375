//! Signs an Expert Determination report with the expert's Ed25519 key, or
//! generates a key pair. The signature covers the report's content digest
//! and the released data's fingerprint and is written beside the report
//! (`report.json.sig`); `verify_report --public-key` checks it. A report
//! that is not intact is not signed. Keys are never printed.
//!
//! ```sh
//! cargo run --release --example sign_report -- --generate-key expert.key   # writes expert.key (0600) and expert.pub
//! cargo run --release --example sign_report -- --report out/report.json --key expert.key
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use deidentify::exit::Exit;
use deidentify::report::{
    SignatureStatus, generate_key_pair, public_key_sha256, read_signing_key, sign_report,
    signature_path,
};

fn exit_codes() -> String {
    let lines = [
        (Exit::Success, "signed (or the key pair written)"),
        (
            Exit::Error,
            "a file cannot be read or written, is not a report, or the key is not usable (or readable by others)",
        ),
        (Exit::Usage, "wrong command line"),
        (
            Exit::NotIntact,
            "the report is not intact; nothing was signed",
        ),
    ];
    let mut text = String::from("Exit status:\n");
    for (exit, meaning) in lines {
        text.push_str(&format!("  {}  {meaning}\n", exit.code()));
    }
    text
}

/// Signs an Expert Determination report with the expert's Ed25519 key, or
/// generates a key pair.
#[derive(Parser, Debug)]
#[command(version, after_help = exit_codes())]
struct Args {
    /// The report to sign (report.json).
    #[arg(long, requires = "key", required_unless_present = "generate_key")]
    report: Option<PathBuf>,
    /// The expert's private key (PKCS#8 PEM, readable by its owner only).
    #[arg(long, requires = "report")]
    key: Option<PathBuf>,
    /// Where to write the signature [default: the report's path with .sig
    /// appended].
    #[arg(long, requires = "report")]
    signature: Option<PathBuf>,
    /// Generate a key pair: the private key at this path (permissions 0600)
    /// and the public key beside it with the extension .pub. Never
    /// overwrites a file.
    #[arg(long, conflicts_with_all = ["report", "key", "signature"])]
    generate_key: Option<PathBuf>,
}

fn run(args: &Args) -> Result<Exit, Box<dyn std::error::Error>> {
    if let Some(private) = &args.generate_key {
        let (public, public_path) = generate_key_pair(private)?;
        println!(
            "wrote the private key {} (owner-only) and the public key {} (SHA-256 {})",
            private.display(),
            public_path.display(),
            public_key_sha256(&public)
        );
        println!("keep the private key secret; give the public key to whoever verifies reports");
        return Ok(Exit::Success);
    }
    let (Some(report), Some(key_path)) = (&args.report, &args.key) else {
        return Ok(Exit::Usage);
    };
    let key = read_signing_key(key_path)?;
    let signature = args
        .signature
        .clone()
        .unwrap_or_else(|| signature_path(report));
    let verification = sign_report(report, &key, &signature)?;
    if !verification.intact {
        println!("NOT SIGNED: {} is not intact", report.display());
        for problem in &verification.problems {
            println!("  - {problem}");
        }
        return Ok(Exit::NotIntact);
    }
    if let SignatureStatus::Valid {
        path,
        public_key_sha256,
    } = &verification.signature
    {
        println!(
            "signed: {} (Ed25519, public key SHA-256 {public_key_sha256})",
            path.display()
        );
    }
    let verdict = &verification.verdict;
    println!(
        "verdict: {}: {}",
        if verdict.releasable {
            "releasable"
        } else {
            "NOT RELEASABLE"
        },
        verdict.statement
    );
    Ok(Exit::Success)
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
