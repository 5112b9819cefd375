//! The crate's one CSV dialect, used by every reader of delimited text:
//! the in-memory reader ([`crate::data::read_csv`]) and the streaming one.
//!
//! A record ends at a line feed outside quotes (a final `\r` is dropped, so
//! CRLF files read as LF files); fields are split at the delimiter outside
//! quotes; a quoted field loses its quotes and a doubled quote inside it
//! stands for one. An empty field is missing (null); a quoted empty field
//! (`""`) is the empty string. Lines holding nothing are skipped. A leading
//! UTF-8 byte-order mark is not part of the first column's name. Every
//! record must have as many fields as the header, and all text must be
//! UTF-8: a file that breaks either rule is refused, naming the line.
//!
//! This is written here rather than taken from the `csv` crate because
//! `csv` (and `csv-core`) do not tell a quoted empty field from an empty
//! one, and the difference is the difference between a value and a
//! missing cell.

/// The end (one past the line feed) of the record starting at `from`, or
/// `None` when the bytes end first. A line feed inside quotes belongs to
/// the field.
pub(crate) fn record_end(bytes: &[u8], from: usize, quote: Option<u8>) -> Option<usize> {
    let mut in_quotes = false;
    for (i, &b) in bytes[from..].iter().enumerate() {
        if Some(b) == quote {
            in_quotes = !in_quotes;
        } else if b == b'\n' && !in_quotes {
            return Some(from + i + 1);
        }
    }
    None
}

/// The number of line feeds in `bytes`.
pub(crate) fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Calls `field` with the raw bytes of each field of one record (without
/// the line end), splitting at delimiters outside quotes.
pub(crate) fn split_record(
    record: &[u8],
    delimiter: u8,
    quote: Option<u8>,
    mut field: impl FnMut(&[u8]),
) {
    let record = record.strip_suffix(b"\n").unwrap_or(record);
    let record = record.strip_suffix(b"\r").unwrap_or(record);
    let mut in_quotes = false;
    let mut start = 0;
    for (i, &b) in record.iter().enumerate() {
        if Some(b) == quote {
            in_quotes = !in_quotes;
        } else if b == delimiter && !in_quotes {
            field(&record[start..i]);
            start = i + 1;
        }
    }
    field(&record[start..]);
}

/// Appends the content of a raw field to `out`: a quoted field loses its
/// quotes and `""` becomes `"`.
pub(crate) fn unquote(raw: &[u8], quote: Option<u8>, out: &mut String) {
    let text = String::from_utf8_lossy(raw);
    match quote {
        Some(q) if raw.first() == Some(&q) => {
            let q = q as char;
            let mut chars = text.chars().skip(1).peekable();
            while let Some(c) = chars.next() {
                if c == q {
                    if chars.peek() == Some(&q) {
                        out.push(q);
                        chars.next();
                    }
                    // A closing quote: anything after it is kept as is.
                } else {
                    out.push(c);
                }
            }
        }
        _ => out.push_str(&text),
    }
}

/// The parsed records of a chunk (whole records): the field text, the
/// `(start, len)` of every requested field, and the number of records.
/// Empty lines are skipped.
///
/// # Errors
///
/// The reason, naming the line, for a record with another number of
/// fields than the header or that is not valid UTF-8.
#[allow(clippy::type_complexity)]
pub(crate) fn parse_chunk(
    raw: &[u8],
    start_line: u64,
    delimiter: u8,
    quote: Option<u8>,
    expected: usize,
    requested: &[usize],
) -> std::result::Result<(String, Vec<Vec<(u32, u32)>>, usize), String> {
    if let Err(e) = std::str::from_utf8(raw) {
        let line = start_line + count_newlines(&raw[..e.valid_up_to()]);
        return Err(format!("line {line} is not valid UTF-8"));
    }
    let mut slot = vec![usize::MAX; expected];
    for (k, &c) in requested.iter().enumerate() {
        slot[c] = k;
    }
    let mut text = String::with_capacity(raw.len());
    let mut fields: Vec<Vec<(u32, u32)>> = vec![Vec::new(); requested.len()];
    let (mut pos, mut line, mut records) = (0usize, start_line, 0usize);
    while pos < raw.len() {
        let end = record_end(raw, pos, quote).unwrap_or(raw.len());
        let record = &raw[pos..end];
        let record_line = line;
        line += count_newlines(record);
        pos = end;
        if record.iter().all(|&b| b == b'\n' || b == b'\r') {
            continue;
        }
        let mut found = 0usize;
        split_record(record, delimiter, quote, |field| {
            if let Some(&k) = slot.get(found)
                && k != usize::MAX
            {
                let start = text.len();
                if field.is_empty() {
                    fields[k].push((start as u32, u32::MAX));
                } else {
                    unquote(field, quote, &mut text);
                    fields[k].push((start as u32, (text.len() - start) as u32));
                }
            }
            found += 1;
        });
        if found != expected {
            return Err(format!(
                "line {record_line} has {found} fields, the header has {expected}"
            ));
        }
        records += 1;
    }
    if text.len() > u32::MAX as usize {
        return Err(format!(
            "the batch starting at line {start_line} is larger than 4 GiB; use smaller batches"
        ));
    }
    Ok((text, fields, records))
}

/// The column names of a header record (the bytes of its first line or
/// lines, line end included or not): a leading UTF-8 byte-order mark
/// dropped, quotes resolved. A header of only empty names (an empty line)
/// has no columns.
///
/// # Errors
///
/// The reason when the header is not valid UTF-8 or names a column twice
/// or leaves one unnamed ([`check_header`]).
pub(crate) fn header_record(
    record: &[u8],
    delimiter: u8,
    quote: Option<u8>,
) -> std::result::Result<Vec<String>, String> {
    let text = std::str::from_utf8(record).map_err(|_| "line 1 is not valid UTF-8".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut names = Vec::new();
    let mut scratch = String::new();
    split_record(text.as_bytes(), delimiter, quote, |field| {
        scratch.clear();
        unquote(field, quote, &mut scratch);
        names.push(scratch.clone());
    });
    if names.iter().all(String::is_empty) {
        names.clear();
    }
    check_header(&names)?;
    Ok(names)
}

/// Rejects a header with an empty or duplicated column name (a duplicate
/// would leave one of the two columns unreachable by name). Names are shown
/// with invisible characters escaped.
pub(crate) fn check_header(names: &[String]) -> std::result::Result<(), String> {
    for (i, name) in names.iter().enumerate() {
        if let Some(first) = names[..i].iter().position(|n| n == name) {
            return Err(format!(
                "the header names column {} and column {} both '{}': every column needs its own name",
                first + 1,
                i + 1,
                name.escape_debug()
            ));
        }
        if name.trim().is_empty() && names.len() > 1 {
            return Err(format!("column {} of the header has no name", i + 1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_resolves_quotes_bom_and_crlf_and_refuses_duplicates() {
        let names = header_record(b"\xef\xbb\xbf\"a;b\";c\r\n", b';', Some(b'"')).unwrap();
        assert_eq!(names, ["a;b", "c"]);
        let err = header_record(b"name,age,name\n", b',', Some(b'"')).unwrap_err();
        assert!(err.contains("column 1 and column 3 both 'name'"), "{err}");
        let err = header_record(b"a,,b\n", b',', Some(b'"')).unwrap_err();
        assert!(err.contains("column 2"), "{err}");
        assert!(header_record(b"\n", b',', Some(b'"')).unwrap().is_empty());
        let err = header_record(b"a,\xff\n", b',', Some(b'"')).unwrap_err();
        assert_eq!(err, "line 1 is not valid UTF-8");
    }

    #[test]
    fn chunks_parse_quotes_and_name_ragged_lines() {
        let (text, fields, rows) = parse_chunk(
            b"1;\"a;b\"\n\n2;\"x\"\"y\"\r\n3;\n",
            2,
            b';',
            Some(b'"'),
            2,
            &[1, 0],
        )
        .unwrap();
        assert_eq!(rows, 3);
        let value = |&(s, l): &(u32, u32)| {
            (l != u32::MAX).then(|| text[s as usize..(s + l) as usize].to_owned())
        };
        let second: Vec<_> = fields[0].iter().map(value).collect();
        assert_eq!(
            second,
            vec![Some("a;b".to_owned()), Some("x\"y".to_owned()), None]
        );
        let err = parse_chunk(b"1;2\n3\n", 7, b';', Some(b'"'), 2, &[0]).unwrap_err();
        assert_eq!(err, "line 8 has 1 fields, the header has 2");
        // A quoted line break is part of the field; the next record's line counts it.
        let err = parse_chunk(b"\"p\nq\";1\n2\n", 2, b';', Some(b'"'), 2, &[0]).unwrap_err();
        assert_eq!(err, "line 4 has 1 fields, the header has 2");
    }
}
