//! The exit statuses of the example programs, one meaning per code and the
//! same across programs, so scripts can tell the outcomes apart.

use std::process::ExitCode;

/// How a program ended. Every program maps its outcome to one of these;
/// `Usage` is also what the argument parser returns for a mistyped flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exit {
    /// 0: the run succeeded (for `verify_report`: intact and releasable).
    Success,
    /// 1: bad input or an I/O failure (the ruleset, the data, a hierarchy,
    /// a key, an output path); nothing was released.
    Error,
    /// 2: the command line is wrong (an unknown or missing flag).
    Usage,
    /// 3: not releasable: a threshold or a risk decision is not met, or no
    /// transformation satisfies the models; nothing was written under the
    /// release's name.
    NotReleasable,
    /// 4: the scan found residual identifiers in the output; nothing was
    /// written under the release's name.
    ResidualIdentifiers,
    /// 5: a report or its data was altered (audit chain, content digest,
    /// data fingerprint, or a signature that does not verify).
    NotIntact,
    /// 6: a signature was required and the report has none.
    Unsigned,
}

impl Exit {
    /// Every status, in code order.
    pub const ALL: [Exit; 7] = [
        Exit::Success,
        Exit::Error,
        Exit::Usage,
        Exit::NotReleasable,
        Exit::ResidualIdentifiers,
        Exit::NotIntact,
        Exit::Unsigned,
    ];

    /// The numeric status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Error => 1,
            Exit::Usage => 2,
            Exit::NotReleasable => 3,
            Exit::ResidualIdentifiers => 4,
            Exit::NotIntact => 5,
            Exit::Unsigned => 6,
        }
    }

    /// What the status means, in a few words (for `--help` texts and docs).
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Success => "success",
            Exit::Error => "bad input or I/O error; nothing released",
            Exit::Usage => "wrong command line",
            Exit::NotReleasable => {
                "not releasable (a threshold or decision failed, or no solution); nothing released"
            }
            Exit::ResidualIdentifiers => "residual identifiers found; nothing released",
            Exit::NotIntact => "report or data altered, or a signature does not verify",
            Exit::Unsigned => "a signature was required and is missing",
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_in_order() {
        for (i, exit) in Exit::ALL.iter().enumerate() {
            assert_eq!(usize::from(exit.code()), i);
        }
    }
}
