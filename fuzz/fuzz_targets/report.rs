//! Fuzz target `report`: see `deidentify_fuzz::report`.

#![no_main]

libfuzzer_sys::fuzz_target!(
    init: deidentify_fuzz::install_panic_hook(),
    |data: &[u8]| deidentify_fuzz::report(data)
);
