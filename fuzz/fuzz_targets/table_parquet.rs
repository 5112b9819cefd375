//! Fuzz target `table_parquet`: see `deidentify_fuzz::table_parquet`.

#![no_main]

libfuzzer_sys::fuzz_target!(
    init: deidentify_fuzz::install_panic_hook(),
    |data: &[u8]| deidentify_fuzz::table_parquet(data)
);
