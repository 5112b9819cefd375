//! The fuzz targets' bodies (`targets.rs`, shared with the library's stable
//! replay test) and the panic policy of the fuzz binaries.

mod targets;

pub use targets::*;

/// Installs the fuzz binaries' panic hook over libFuzzer's (which aborts at
/// every panic, before unwinding). A panic inside polars unwinds instead:
/// the library catches it at the polars call and returns an error naming
/// the file (`decode` in `src/data/input.rs`), which is what a user gets.
/// Any other panic still aborts at once, and a polars panic the library
/// does not catch aborts when it reaches the fuzz target: both are crashes.
pub fn install_panic_hook() {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_polars = info
            .location()
            .is_some_and(|l| l.file().contains("/polars-"));
        if in_polars {
            eprintln!("polars panicked (the library must turn this into an error): {info}");
        } else {
            abort(info);
        }
    }));
}
