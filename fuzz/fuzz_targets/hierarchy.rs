//! Fuzz target `hierarchy`: see `deidentify_fuzz::hierarchy`.

#![no_main]

libfuzzer_sys::fuzz_target!(
    init: deidentify_fuzz::install_panic_hook(),
    |data: &[u8]| deidentify_fuzz::hierarchy(data)
);
