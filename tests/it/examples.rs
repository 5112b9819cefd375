//! The statistician-facing examples run on the bundled data.

use std::process::Command;

use crate::root;

/// Runs an example built by `cargo test` (which builds every example next
/// to the test binaries), falling back to `cargo run` when it is absent.
fn cargo_example(name: &str, args: &[&str]) -> std::process::Output {
    let built = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("examples").join(name)))
        .filter(|path| path.exists());
    let mut command = match built {
        Some(path) => Command::new(path),
        None => {
            let mut c = Command::new(env!("CARGO"));
            c.args(["run", "--quiet", "--example", name, "--"]);
            c
        }
    };
    command
        .current_dir(root())
        .args(args)
        .output()
        .expect("the example runs")
}

#[test]
fn measure_prints_json_on_adult() {
    let out = cargo_example(
        "measure",
        &[
            "--config",
            "datasets/adult/adult.toml",
            "--levels",
            "age=2,sex=1",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rows"], 30_162);
    assert_eq!(json["levels"]["age"], 2);
    assert_eq!(json["levels"]["sex"], 1);
    for key in ["classes", "k"] {
        assert!(json[key].is_u64(), "{key}");
    }
    let occupation = &json["sensitive"]["occupation"];
    for key in [
        "l_distinct",
        "l_entropy",
        "recursive_c_l",
        "t_equal",
        "t_hierarchical",
        "delta_disclosure",
        "beta_basic",
        "beta_enhanced",
    ] {
        assert!(occupation.get(key).is_some(), "{key} missing");
    }
}

#[test]
fn measure_rejects_an_unknown_attribute() {
    let out = cargo_example(
        "measure",
        &["--config", "datasets/adult/adult.toml", "--levels", "zip=1"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("'zip' is not a quasi-identifier"));
}
