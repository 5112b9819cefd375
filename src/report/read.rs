//! Reading the files a verification takes (report, signature, keys) safely:
//! whole but with a size limit, so that a huge or endless input
//! (`/dev/zero`, a mistyped path to a data file) fails with an error instead
//! of filling memory; and as UTF-8 and JSON whose errors locate the problem
//! (line, column) without echoing the file's content.

use std::path::Path;

use serde::de::DeserializeOwned;

pub(crate) use crate::files::read_limited;

use crate::error::{ErrorKind, Result};

/// `bytes` as UTF-8 text.
///
/// # Errors
///
/// [`ErrorKind::Parse`] naming the line, column and byte offset of the
/// first invalid byte.
pub(crate) fn utf8<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |newline| newline + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        ErrorKind::Parse {
            path: path.to_path_buf(),
            reason: format!(
                "not UTF-8 text: invalid byte at line {line}, column {column} (byte {})",
                e.valid_up_to()
            ),
        }
        .into()
    })
}

/// Parses `text` as JSON of any shape.
///
/// # Errors
///
/// [`ErrorKind::Parse`]: "not JSON" with serde_json's syntax error, which
/// names the line and column and never quotes the text.
pub(crate) fn json(path: &Path, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| {
        ErrorKind::Parse {
            path: path.to_path_buf(),
            reason: format!("not JSON: {e}"),
        }
        .into()
    })
}

/// Deserializes `text` (already known to be JSON) as a `T`, described as
/// `what` in errors.
///
/// # Errors
///
/// [`ErrorKind::Parse`]: "JSON but not {what}" with a missing or duplicate
/// field's name (from the schema) or "a field has the wrong type or value",
/// and the line and column; a wrong value is never quoted.
pub(crate) fn from_json<T: DeserializeOwned>(path: &Path, text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        let problem =
            if message.starts_with("missing field `") || message.starts_with("duplicate field `") {
                message
            } else {
                "a field has the wrong type or value"
            };
        ErrorKind::Parse {
            path: path.to_path_buf(),
            reason: format!(
                "JSON but not {what}: {problem} (line {}, column {})",
                e.line(),
                e.column()
            ),
        }
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_errors_locate_the_byte() {
        let bytes = b"{\n  \"a\": \"\xc3\xa9\xff\"\n}";
        let error = utf8(Path::new("r.json"), bytes).unwrap_err().to_string();
        assert_eq!(
            error,
            "cannot read r.json: not UTF-8 text: invalid byte at line 2, column 10 (byte 12)"
        );
    }

    #[test]
    fn json_errors_never_quote_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            name: u64,
            other: bool,
        }
        let path = Path::new("d.json");
        let wrong = from_json::<Doc>(path, "{\"name\": \"Jane Roe\", \"other\": true}", "a doc")
            .unwrap_err()
            .to_string();
        assert_eq!(
            wrong,
            "cannot read d.json: JSON but not a doc: a field has the wrong type or value (line 1, column 19)"
        );
        let missing = from_json::<Doc>(path, "{\"name\": 3}", "a doc")
            .unwrap_err()
            .to_string();
        assert_eq!(
            missing,
            "cannot read d.json: JSON but not a doc: missing field `other` (line 1, column 11)"
        );
        let syntax = json(path, "{\"name\": Jane}").unwrap_err().to_string();
        assert_eq!(
            syntax,
            "cannot read d.json: not JSON: expected value at line 1 column 10"
        );
    }
}
