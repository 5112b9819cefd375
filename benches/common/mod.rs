//! Shared set-up for the benches.

use std::path::PathBuf;

use deidentify::{
    Ruleset,
    data::{CsvOptions, read_csv},
    ruleset::LoadedRuleset,
};
use polars::prelude::{Column, DataFrame};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled adult ruleset, loaded.
#[allow(dead_code)]
pub fn adult() -> LoadedRuleset {
    Ruleset::from_file(&root().join("datasets/adult/adult.toml"))
        .and_then(|r| r.load())
        .expect("adult loads")
}

/// Adult's 30,162 rows repeated cyclically to `rows` rows, as text columns.
#[allow(dead_code)]
pub fn adult_frame(rows: usize) -> DataFrame {
    let options = CsvOptions::default().with_delimiter(b';');
    let adult = read_csv(&root().join("datasets/adult/adult.csv"), &options).expect("adult reads");
    let columns = adult
        .columns()
        .iter()
        .map(|c| {
            let values: Vec<&str> = c
                .str()
                .expect("text")
                .iter()
                .map(|v| v.unwrap_or(""))
                .collect();
            let repeated: Vec<&str> = values.iter().copied().cycle().take(rows).collect();
            Column::new(c.name().clone(), repeated)
        })
        .collect();
    DataFrame::new(rows, columns).expect("frame")
}
