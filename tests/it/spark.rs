//! Spark: the frequency table counted on a real Spark cluster equals the
//! one counted here, the search on it finds the same node, the release
//! written by Spark equals the streamed one row for row, and failures (a
//! value missing from a hierarchy, an unreadable path, the job or a worker
//! killed mid-write) are clear errors that leave nothing under the
//! release's name.
//!
//! These tests need a cluster: `DEIDENTIFY_SPARK_MASTER` names its master
//! (`.ci/run` installs pyspark, starts a standalone master and two workers
//! with `.ci/spark-cluster` and sets it, with `DEIDENTIFY_REQUIRE_SPARK=1`
//! so that a missing cluster fails instead of skipping, and
//! `DEIDENTIFY_SPARK_CLUSTER_DIR` and `DEIDENTIFY_SPARK_UI_PORT` for the
//! worker-killing test). Without it they skip.

#[allow(dead_code)]
#[path = "../../examples/generate_census.rs"]
mod generate_census;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use deidentify::{
    AnonymizationConfig, Ruleset,
    model::ModelSpec,
    spark::SparkEngine,
    stream::{StreamOptions, StreamedTable},
};

use crate::stream::config;
use crate::{root, scratch};

/// One Spark application at a time: the cluster has two cores.
fn cluster() -> Option<(SparkEngine, MutexGuard<'static, ()>)> {
    static LOCK: Mutex<()> = Mutex::new(());
    let Some(master) = std::env::var_os("DEIDENTIFY_SPARK_MASTER") else {
        assert!(
            std::env::var_os("DEIDENTIFY_REQUIRE_SPARK").is_none(),
            "DEIDENTIFY_REQUIRE_SPARK is set but DEIDENTIFY_SPARK_MASTER is not"
        );
        eprintln!("skipped: no Spark cluster (set DEIDENTIFY_SPARK_MASTER, see .ci/spark-cluster)");
        return None;
    };
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut engine = SparkEngine::new(&master.to_string_lossy())
        .with_conf("spark.sql.shuffle.partitions", "4")
        .with_progress(false);
    if let Some(submit) = std::env::var_os("DEIDENTIFY_SPARK_SUBMIT") {
        engine = engine.with_spark_submit(PathBuf::from(submit));
    }
    Some((engine, guard))
}

/// The adult ruleset with its data at `data` (CSV `;` or Parquet) and the
/// repository's hierarchies, written into `dir`.
fn adult_ruleset(dir: &Path, data: &Path) -> Ruleset {
    let text = std::fs::read_to_string(root().join("datasets/adult/adult.toml")).unwrap();
    let hierarchies = root().join("datasets/adult/hierarchies");
    let text = text
        .replace(
            "path = \"adult.csv\"",
            &format!("path = \"{}\"", data.display()),
        )
        .replace("\"hierarchies/", &format!("\"{}/", hierarchies.display()));
    let path = dir.join("adult.toml");
    std::fs::write(&path, text).unwrap();
    Ruleset::from_file(&path).unwrap()
}

/// Each column's values with their counts (dictionary order aside).
fn value_counts(streamed: &StreamedTable) -> BTreeMap<String, BTreeMap<String, u64>> {
    streamed
        .columns()
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.dictionary
                    .iter()
                    .cloned()
                    .zip(c.counts.iter().copied())
                    .collect(),
            )
        })
        .collect()
}

/// A class by its labels: the quasi-identifiers' labels, the size, and per
/// sensitive attribute the (value, count) pairs.
type LabeledClass = (Vec<String>, u64, Vec<Vec<(String, u64)>>);

/// The table's classes by their labels, sorted (codes aside).
fn canonical(streamed: &StreamedTable) -> Vec<LabeledClass> {
    let mut classes = streamed.labeled().unwrap().decoded();
    for (_, _, histograms) in &mut classes {
        for h in histograms.iter_mut() {
            h.sort();
        }
    }
    classes.sort();
    classes
}

/// The lines of a CSV release (a file, or a folder of parts each with the
/// header): the header, then the records sorted.
fn sorted_csv(path: &Path) -> (String, Vec<String>) {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut parts: Vec<PathBuf> = std::fs::read_dir(path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .collect();
        parts.sort();
        parts
    } else {
        vec![path.to_path_buf()]
    };
    let mut header = String::new();
    let mut records = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines = text.lines();
        let first = lines.next().unwrap_or_default().to_owned();
        assert!(header.is_empty() || header == first, "{}", file.display());
        header = first;
        records.extend(lines.map(str::to_owned));
    }
    records.sort();
    (header, records)
}

/// Counts `ruleset` here and on Spark with `options`, checks the tables
/// and the searches agree, releases on Spark and here, and checks the
/// releases agree row for row. Returns the number of rows.
fn same_as_in_process(
    engine: &SparkEngine,
    ruleset: &Ruleset,
    options: &StreamOptions,
    dir: &Path,
) -> u64 {
    let orders = ruleset.orders();
    let mut here = StreamedTable::from_ruleset(ruleset, options).unwrap();
    let mut there = engine.count(ruleset, options).unwrap();
    assert_eq!(there.rows(), here.rows());
    assert_eq!(there.table().node(), here.table().node());
    assert_eq!(there.table().classes(), here.table().classes());
    assert_eq!(value_counts(&there), value_counts(&here));
    assert_eq!(canonical(&there), canonical(&here));
    // Values and tuples numbered in order of first appearance, as here: the
    // same codes, the same classes in the same order.
    for (a, b) in there.columns().iter().zip(here.columns()) {
        assert_eq!(
            (&a.name, &a.dictionary, &a.counts),
            (&b.name, &b.dictionary, &b.counts)
        );
    }
    assert_eq!(there.table().counts(), here.table().counts());
    for class in 0..here.table().classes() {
        assert_eq!(there.table().key(class), here.table().key(class));
    }
    let config = config();
    let found_here = here.search(&config, &orders).unwrap();
    let found_there = there.search(&config, &orders).unwrap();
    let optimum = found_here.optimum.clone().expect("adult has a k=5 release");
    assert_eq!(found_there.optimum, found_here.optimum);
    assert_eq!(found_there.nodes_checked, found_here.nodes_checked);
    let local = dir.join("local.csv");
    let applied = here
        .apply_to_file(&config, &orders, &optimum.node, &local, b';', options)
        .unwrap();
    let released_path = dir.join("spark-release.csv");
    let released = engine
        .release(
            ruleset,
            &mut there,
            &config,
            &orders,
            &optimum.node,
            &released_path,
        )
        .unwrap();
    assert_eq!(released.rows, applied.rows);
    assert_eq!(released.suppressed_rows, applied.suppressed_rows);
    assert_eq!(released.evaluation, applied.evaluation);
    assert_eq!(sorted_csv(&released_path), sorted_csv(&local));
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    applied.rows
}

#[test]
fn adult_on_spark_equals_in_process() {
    let Some((engine, _cluster)) = cluster() else {
        return;
    };
    let dir = scratch("spark-adult", &[]);
    let ruleset = adult_ruleset(&dir, &root().join("datasets/adult/adult.csv"));
    let rows = same_as_in_process(&engine, &ruleset, &StreamOptions::default(), &dir);
    assert_eq!(rows, 30_162);
}

#[test]
fn minimum_levels_are_applied_on_spark_as_here() {
    let Some((engine, _cluster)) = cluster() else {
        return;
    };
    let dir = scratch("spark-min-levels", &[]);
    let ruleset = adult_ruleset(&dir, &root().join("datasets/adult/adult.csv"));
    let options = StreamOptions::default().with_min_levels(BTreeMap::from([
        ("age".to_owned(), 1),
        ("native-country".to_owned(), 1),
    ]));
    same_as_in_process(&engine, &ruleset, &options, &dir);
}

/// 1M generated census rows in Parquet (generated once per test run).
fn million_rows() -> &'static (PathBuf, PathBuf) {
    static DATA: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DATA.get_or_init(|| {
        let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("spark-census");
        std::fs::create_dir_all(&folder).unwrap();
        let data = folder.join("census-1m.parquet");
        if !data.exists() {
            let adult =
                generate_census::Adult::read(&root().join("datasets/adult/adult.csv")).unwrap();
            generate_census::generate(&adult, 1_000_000, 1, &data).unwrap();
        }
        let ruleset =
            generate_census::write_ruleset(&data, &root().join("datasets/adult/hierarchies"))
                .unwrap();
        (data, ruleset)
    })
}

#[test]
fn a_million_generated_rows_on_spark_equal_in_process() {
    let Some((engine, _cluster)) = cluster() else {
        return;
    };
    let (_, ruleset) = million_rows();
    let ruleset = Ruleset::from_file(ruleset).unwrap();
    let dir = scratch("spark-million", &[]);
    let rows = same_as_in_process(&engine, &ruleset, &StreamOptions::default(), &dir);
    assert_eq!(rows, 1_000_000);
}

#[test]
fn a_value_missing_from_a_hierarchy_is_named_without_its_value() {
    let Some((engine, _cluster)) = cluster() else {
        return;
    };
    let adult = std::fs::read_to_string(root().join("datasets/adult/adult.csv")).unwrap();
    // Row 7 gets an age of 130, which the age hierarchy lacks.
    let mut lines: Vec<String> = adult.lines().map(str::to_owned).collect();
    let mut fields: Vec<String> = lines[7].split(';').map(str::to_owned).collect();
    fields[1] = "130".into();
    lines[7] = fields.join(";");
    let dir = scratch(
        "spark-unmapped",
        &[("adult.csv", &(lines.join("\n") + "\n"))],
    );
    let ruleset = adult_ruleset(&dir, &dir.join("adult.csv"));
    let error = engine
        .count(&ruleset, &StreamOptions::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("column 'age'"), "{error}");
    assert!(error.contains("not in the column's hierarchy"), "{error}");
    assert!(error.contains("1 row(s)"), "{error}");
    assert!(!error.contains("130"), "{error}");
    // With the value in a column generalized on Spark (a minimum level), the
    // same error.
    let options = StreamOptions::default().with_min_levels(BTreeMap::from([("age".to_owned(), 1)]));
    let error = engine.count(&ruleset, &options).unwrap_err().to_string();
    assert!(error.contains("column 'age'"), "{error}");
    assert!(error.contains("not in the column's hierarchy"), "{error}");
    assert!(!error.contains("130"), "{error}");
}

#[test]
fn an_unreadable_path_is_spark_s_error() {
    let Some((engine, _cluster)) = cluster() else {
        return;
    };
    let dir = scratch("spark-unreadable", &[]);
    let ruleset = adult_ruleset(&dir, &dir.join("no-such-file.csv"));
    let error = engine
        .count(&ruleset, &StreamOptions::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("counting failed on Spark"), "{error}");
    assert!(error.contains("PATH_NOT_FOUND"), "{error}");
}

#[test]
fn a_malformed_record_fails_the_job_without_quoting_it() {
    let Some((engine, _cluster)) = cluster() else {
        return;
    };
    let adult = std::fs::read_to_string(root().join("datasets/adult/adult.csv")).unwrap();
    let mut lines: Vec<String> = adult.lines().take(200).map(str::to_owned).collect();
    // A record with one field too many.
    lines[50].push_str(";Smith-extra");
    let dir = scratch(
        "spark-malformed",
        &[("adult.csv", &(lines.join("\n") + "\n"))],
    );
    let ruleset = adult_ruleset(&dir, &dir.join("adult.csv"));
    let error = engine
        .count(&ruleset, &StreamOptions::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("counting failed on Spark"), "{error}");
    assert!(!error.contains("Smith-extra"), "{error}");
}

/// Runs the release of the 1M rows with `engine` (job folders under
/// `work`), calling `strike` once the temporary output has appeared; returns
/// the release's result, after checking that nothing but a whole release is
/// ever under its name and that no temporary output stays behind.
fn release_struck(
    engine: &SparkEngine,
    name: &str,
    strike: impl FnOnce() + Send,
) -> (
    deidentify::Result<deidentify::spark::SparkRelease>,
    PathBuf,
    PathBuf,
) {
    let (_, ruleset) = million_rows();
    let ruleset = Ruleset::from_file(ruleset).unwrap();
    let dir = scratch(name, &[]);
    let orders = ruleset.orders();
    let mut counted = engine.count(&ruleset, &StreamOptions::default()).unwrap();
    let node = counted
        .search(&config(), &orders)
        .unwrap()
        .optimum
        .unwrap()
        .node;
    let output = dir.join("release.csv");
    let stop = std::sync::atomic::AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            // Strike once Spark writes the temporary folder.
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let writing = std::fs::read_dir(&dir).unwrap().any(|e| {
                    e.unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with(".release.csv.partial")
                });
                if writing {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    strike();
                    return true;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            false
        });
        let result = engine.release(&ruleset, &mut counted, &config(), &orders, &node, &output);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(
            watcher.join().unwrap(),
            "the release finished before the strike"
        );
        result
    });
    // Executors of a dead driver may write for a moment: look again later.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    (result, output, dir)
}

#[test]
fn a_job_killed_mid_write_leaves_nothing_under_the_release_name() {
    let Some((engine, _cluster)) = cluster() else {
        return;
    };
    let work = scratch("spark-killed-work", &[]);
    let engine = engine.with_work_dir(&work);
    let (result, output, _) = release_struck(&engine, "spark-killed", || {
        // The driver (spark-submit's JVM and the Python process) dies.
        let status = std::process::Command::new("pkill")
            .args(["-9", "-f"])
            .arg(work.as_os_str())
            .status()
            .unwrap();
        assert!(status.success(), "no driver process to kill");
    });
    let error = result.unwrap_err().to_string();
    assert!(error.contains("the release failed on Spark"), "{error}");
    assert!(!output.exists(), "a release was left under its name");
    // The job's folder (lookup tables, the specification) is gone too.
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0);
}

/// The master's count of workers alive (its JSON page, on the port in
/// `DEIDENTIFY_SPARK_UI_PORT`, default 8080).
fn workers_alive() -> usize {
    let port = std::env::var("DEIDENTIFY_SPARK_UI_PORT").unwrap_or_else(|_| "8080".into());
    let page = std::process::Command::new("curl")
        .args(["-s", &format!("http://127.0.0.1:{port}/json/")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&page)
        .ok()
        .and_then(|v| {
            v["workers"]
                .as_array()
                .map(|w| w.iter().filter(|w| w["state"] == "ALIVE").count())
        })
        .unwrap_or(0)
}

#[test]
fn a_worker_killed_mid_write_gives_a_whole_release_or_none() {
    let Some((engine, _cluster)) = cluster() else {
        return;
    };
    let Some(cluster_dir) = std::env::var_os("DEIDENTIFY_SPARK_CLUSTER_DIR").map(PathBuf::from)
    else {
        eprintln!("skipped: DEIDENTIFY_SPARK_CLUSTER_DIR (the cluster's pid files) is not set");
        return;
    };
    let pid_file = cluster_dir.join("worker2.pid");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_owned();
    // The worker's command line and environment, to start it again after.
    let command: Vec<String> = std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap()
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let environment: Vec<(String, String)> = std::fs::read(format!("/proc/{pid}/environ"))
        .unwrap()
        .split(|&b| b == 0)
        .filter_map(|kv| {
            String::from_utf8_lossy(kv)
                .split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect();
    let (result, output, dir) = release_struck(&engine, "spark-worker-killed", || {
        // The worker and its executor die at once.
        let _ = std::process::Command::new("pkill")
            .args(["-9", "-P", &pid])
            .status();
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status();
    });
    // Start the worker again before anything else can fail.
    let log = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(cluster_dir.join("worker2.log"))
        .unwrap();
    // The worker outlives this test (the cluster's stop script ends it by
    // the pid written below), so it is never waited for here.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(&command[0])
        .args(&command[1..])
        .env_clear()
        .envs(environment)
        .stdin(std::process::Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    std::fs::write(&pid_file, child.id().to_string()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while workers_alive() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker did not come back"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    match result {
        // Spark ran the lost tasks again on the other worker: the release
        // must be whole.
        Ok(released) => {
            assert_eq!(released.rows, 1_000_000);
            let (_, records) = sorted_csv(&output);
            assert_eq!(records.len(), 1_000_000);
            let _ = std::fs::remove_dir_all(&dir);
        }
        Err(e) => {
            eprintln!("the release failed: {e}");
            assert!(!output.exists(), "a release was left under its name");
        }
    }
}

// Without a cluster: configuration and refusals that come before any job.

#[test]
fn the_engine_table_of_a_ruleset() {
    let dir = scratch("spark-engine-rule", &[]);
    let ruleset = adult_ruleset(&dir, &root().join("datasets/adult/adult.csv"));
    let text = std::fs::read_to_string(dir.join("adult.toml")).unwrap();
    let with = |engine: &str| {
        Ruleset::from_toml(&format!("{text}\n{engine}\n"), &dir, &dir.join("r.toml"))
    };
    assert!(ruleset.engine.is_none());
    let spark = with(
        "[engine]\nkind = \"spark\"\nmaster = \"spark://h:7077\"\nspark_submit = \"bin/spark-submit\"\n\
         work_dir = \"jobs\"\nconf = { \"spark.executor.memory\" = \"4g\" }",
    )
    .unwrap();
    let engine = SparkEngine::from_rule(&spark.engine.unwrap(), &dir)
        .unwrap()
        .unwrap();
    assert_eq!(engine.master, "spark://h:7077");
    assert_eq!(engine.spark_submit, dir.join("bin/spark-submit"));
    assert_eq!(engine.work_dir, Some(dir.join("jobs")));
    assert_eq!(engine.conf["spark.executor.memory"], "4g");
    let on_path = with("[engine]\nkind = \"spark\"\nmaster = \"local[2]\"").unwrap();
    let engine = SparkEngine::from_rule(&on_path.engine.unwrap(), &dir)
        .unwrap()
        .unwrap();
    assert_eq!(engine.spark_submit, PathBuf::from("spark-submit"));
    let here = with("[engine]\nkind = \"in-process\"").unwrap();
    assert!(
        SparkEngine::from_rule(&here.engine.unwrap(), &dir)
            .unwrap()
            .is_none()
    );
    let no_master = with("[engine]\nkind = \"spark\"").unwrap();
    let error = SparkEngine::from_rule(&no_master.engine.unwrap(), &dir)
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs a master"), "{error}");
    let error = with("[engine]\nkind = \"flink\"").unwrap_err().to_string();
    assert!(error.contains("unknown variant `flink`"), "{error}");
    let error = with("[engine]\nkind = \"spark\"\nmaser = \"x\"")
        .unwrap_err()
        .to_string();
    assert!(error.contains("maser"), "{error}");
}

#[test]
fn a_missing_spark_submit_is_a_clear_error() {
    let dir = scratch("spark-no-submit", &[]);
    let ruleset = adult_ruleset(&dir, &root().join("datasets/adult/adult.csv"));
    let engine = SparkEngine::new("local[1]")
        .with_spark_submit(dir.join("no-such-spark-submit"))
        .with_work_dir(&dir);
    let error = engine
        .count(&ruleset, &StreamOptions::default())
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot run"), "{error}");
    assert!(error.contains("no-such-spark-submit"), "{error}");
    // The job folder is gone.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with("deidentify-spark-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_release_refuses_tokens_and_existing_outputs_before_any_job() {
    let dir = scratch("spark-refusals", &[("exists.csv", "x\n")]);
    let ruleset = adult_ruleset(&dir, &root().join("datasets/adult/adult.csv"));
    let mut counted = StreamedTable::from_ruleset(&ruleset, &StreamOptions::default()).unwrap();
    let orders = ruleset.orders();
    let node = counted
        .search(&config(), &orders)
        .unwrap()
        .optimum
        .unwrap()
        .node;
    // spark-submit would fail: nothing may get as far as running it.
    let engine = SparkEngine::new("local[1]").with_spark_submit(dir.join("no-such-spark-submit"));
    let error = engine
        .release(
            &ruleset,
            &mut counted,
            &config(),
            &orders,
            &node,
            &dir.join("exists.csv"),
        )
        .unwrap_err()
        .to_string();
    assert!(error.contains("exists"), "{error}");
    assert_eq!(
        std::fs::read_to_string(dir.join("exists.csv")).unwrap(),
        "x\n"
    );
    let mut tokenizing = ruleset.clone();
    let mut identifier = tokenizing.attributes[0].clone();
    identifier.name = "record-id".into();
    identifier.role = deidentify::data::AttributeRole::Identifier;
    identifier.hierarchy = None;
    identifier.tokenize = true;
    tokenizing.attributes.push(identifier);
    let error = engine
        .release(
            &tokenizing,
            &mut counted,
            &config(),
            &orders,
            &node,
            &dir.join("out.csv"),
        )
        .unwrap_err()
        .to_string();
    assert!(error.contains("'record-id' is to be tokenized"), "{error}");
    assert!(!dir.join("out.csv").exists());
}

#[test]
fn data_changed_since_counting_fails_the_release_and_leaves_nothing() {
    let Some((engine, _cluster)) = cluster() else {
        return;
    };
    let adult = std::fs::read_to_string(root().join("datasets/adult/adult.csv")).unwrap();
    let lines: Vec<&str> = adult.lines().take(501).collect();
    // Row 1 with sex flipped: each value was counted, the tuple was not.
    let flip = |line: &str| {
        let mut fields: Vec<String> = line.split(';').map(str::to_owned).collect();
        fields[0] = if fields[0] == "Male" {
            "Female"
        } else {
            "Male"
        }
        .into();
        fields.join(";")
    };
    let changed_row = flip(lines[1]);
    let key = |line: &str| {
        let f: Vec<&str> = line.split(';').collect();
        [&f[..7], &f[8..]].concat().join(";")
    };
    assert!(lines[1..].iter().all(|l| key(l) != key(&changed_row)));
    let mut changed: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    changed[1] = changed_row;
    let dir = scratch(
        "spark-changed",
        &[
            ("counted.csv", &(lines.join("\n") + "\n")),
            ("changed.csv", &(changed.join("\n") + "\n")),
        ],
    );
    let counted_rules = adult_ruleset(&dir, &dir.join("counted.csv"));
    let mut counted = engine
        .count(&counted_rules, &StreamOptions::default())
        .unwrap();
    let changed_rules = adult_ruleset(&dir, &dir.join("changed.csv"));
    // At the bottom node with k = 1 every tuple is a class of its own.
    let config = AnonymizationConfig::new(vec![ModelSpec::KAnonymity { k: 1 }], 0.0);
    let bottom = deidentify::Node::new(vec![0; 8]);
    let orders = counted_rules.orders();
    let output = dir.join("release.csv");
    let mut release_error = || {
        engine
            .release(
                &changed_rules,
                &mut counted,
                &config,
                &orders,
                &bottom,
                &output,
            )
            .unwrap_err()
            .to_string()
    };
    let error = release_error();
    assert!(
        error.contains("in no class of the counted table"),
        "{error}"
    );
    assert!(!output.exists());
    assert!(
        std::fs::read_dir(&dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial"))
    );
    // A sensitive value that was not counted.
    let mut changed: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut fields: Vec<String> = changed[2].split(';').map(str::to_owned).collect();
    fields[7] = "Astronaut".into();
    changed[2] = fields.join(";");
    std::fs::write(dir.join("changed.csv"), changed.join("\n") + "\n").unwrap();
    let error = release_error();
    assert!(
        error.contains("column 'occupation': a value that was not counted"),
        "{error}"
    );
    assert!(!error.contains("Astronaut"), "{error}");
    assert!(!output.exists());
}
