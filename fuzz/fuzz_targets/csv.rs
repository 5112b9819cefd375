//! Fuzz target `csv`: see `deidentify_fuzz::csv`.

#![no_main]

libfuzzer_sys::fuzz_target!(
    init: deidentify_fuzz::install_panic_hook(),
    |data: &[u8]| deidentify_fuzz::csv(data)
);
