//! Fuzz target `key_file`: see `deidentify_fuzz::key_file`.

#![no_main]

libfuzzer_sys::fuzz_target!(
    init: deidentify_fuzz::install_panic_hook(),
    |data: &[u8]| deidentify_fuzz::key_file(data)
);
