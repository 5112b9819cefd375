//! A structural check of a Parquet file before polars decodes it.
//!
//! polars trusts the counts in a file's page headers: a data page that
//! claims a negative number of values (the header field is a signed 32-bit
//! integer) is read as about 2^64 values, and the decoder asks for a
//! 2^61-byte validity bitmap, which aborts the process rather than returning
//! an error (found by the `table_parquet` fuzz target). This module walks the
//! footer and every page header with polars' own Thrift types, without
//! decompressing or decoding anything, and refuses a file whose counts,
//! sizes or offsets are inconsistent, so that polars only ever sees files
//! whose headers are sane.
//!
//! polars' footer decoder also sizes every list from the count its header
//! claims before reading an element, so a footer claiming a billion
//! key-value pairs asks for gigabytes (found by the fuzz target too). The
//! footer is therefore first decoded by the generated Thrift reader, whose
//! allocations are bounded by a budget proportional to the footer's length:
//! when that succeeds, every list's count is the number of elements really
//! there, and polars' decoder can be trusted with the same bytes.
//!
//! Where a page header carries a CRC-32 (the format makes it optional;
//! Apache Arrow and Spark can write it, polars does not), the page's bytes
//! are checked against it, so a flipped byte in such a page is an error.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use polars_parquet::parquet::metadata::FileMetadata;
use polars_parquet::parquet::read::read_metadata;
use polars_parquet_format::thrift::protocol::TCompactInputProtocol;
use polars_parquet_format::{FileMetaData, PageHeader, PageType};

use crate::error::{ErrorKind, Result};

/// The largest page header accepted, in bytes (real ones are tens of bytes;
/// statistics can make them a few kilobytes).
const MAX_HEADER_BYTES: usize = 16 << 20;

/// [`check_parquet`] for the file at `path`, as the crate's parse error.
pub(crate) fn check_parquet_file<R: Read + Seek>(path: &Path, reader: &mut R) -> Result<()> {
    check_parquet(reader).map_err(|reason| {
        ErrorKind::Parse {
            path: path.to_path_buf(),
            reason: format!("the file is not a sound Parquet file: {reason}"),
        }
        .into()
    })
}

/// Checks the footer and every page header of the Parquet file `reader`
/// holds. The error says what is inconsistent and where (row group, column,
/// page), never a value from the file.
pub(crate) fn check_parquet<R: Read + Seek>(reader: &mut R) -> std::result::Result<(), String> {
    // polars' Thrift readers panic on some malformed footers (an `expect`
    // on a field's type, found by the `table_parquet` fuzz target): a
    // panic is an error too. The message is not repeated: it could quote
    // the file's bytes.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| walk(reader))).unwrap_or_else(|_| {
        Err(
            "the file is malformed: the Parquet metadata decoder failed on it (panicked)"
                .to_owned(),
        )
    })
}

/// [`check_parquet`]'s walk, which may panic inside polars.
fn walk<R: Read + Seek>(reader: &mut R) -> std::result::Result<(), String> {
    let length = reader
        .seek(SeekFrom::End(0))
        .map_err(|e| format!("cannot read the file: {e}"))?;
    check_footer(reader, length)?;
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read the file: {e}"))?;
    let metadata =
        read_metadata(reader).map_err(|e| format!("the Parquet footer is invalid: {e}"))?;
    check_metadata(reader, &metadata, length)?;
    reader
        .seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read the file: {e}"))?;
    Ok(())
}

/// The footer's size and magic bytes, and its Thrift decoded by the
/// generated reader under an allocation budget of 8 bytes (one list
/// element's charge) per footer byte plus a little: every element of a
/// list takes at least one byte, so a sound footer never exceeds it, and an
/// inflated count is refused before anything is allocated for it.
fn check_footer<R: Read + Seek>(reader: &mut R, length: u64) -> std::result::Result<(), String> {
    // "PAR1", the footer, its 4-byte length and "PAR1".
    if length < 12 {
        return Err("the file is too short to be Parquet".to_owned());
    }
    let mut tail = [0u8; 8];
    reader
        .seek(SeekFrom::Start(length - 8))
        .and_then(|_| reader.read_exact(&mut tail))
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if &tail[4..] != b"PAR1" {
        return Err("the file does not end with Parquet's magic bytes".to_owned());
    }
    let footer_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer_len + 12 > length {
        return Err("the footer's length exceeds the file".to_owned());
    }
    let mut footer = vec![0u8; footer_len as usize];
    reader
        .seek(SeekFrom::Start(length - 8 - footer_len))
        .and_then(|_| reader.read_exact(&mut footer))
        .map_err(|e| format!("cannot read the file: {e}"))?;
    let budget = (footer.len() + 64).saturating_mul(8);
    let mut protocol = TCompactInputProtocol::new(&footer[..], budget);
    FileMetaData::read_from_in_protocol(&mut protocol)
        .map(drop)
        .map_err(|e| format!("the Parquet footer is invalid: {e}"))
}

/// Checks every row group's column chunks against the file's length and
/// walks their pages.
fn check_metadata<R: Read + Seek>(
    reader: &mut R,
    metadata: &FileMetadata,
    length: u64,
) -> std::result::Result<(), String> {
    let mut rows = 0usize;
    for (g, group) in metadata.row_groups.iter().enumerate() {
        rows = rows
            .checked_add(group.num_rows())
            .ok_or_else(|| "the row groups' row counts overflow".to_owned())?;
        for (c, chunk) in group.parquet_columns().iter().enumerate() {
            let place = || format!("row group {}, column {}", g + 1, c + 1);
            let values = chunk.num_values();
            if values < 0 {
                return Err(format!("{}: a negative number of values", place()));
            }
            let flat = chunk.descriptor().descriptor.max_rep_level == 0;
            if flat && values as u64 != group.num_rows() as u64 {
                return Err(format!(
                    "{}: {values} values in a row group of {} rows",
                    place(),
                    group.num_rows()
                ));
            }
            let range = chunk.byte_range();
            if range.start > range.end || range.end > length {
                return Err(format!(
                    "{}: the column's bytes lie outside the file",
                    place()
                ));
            }
            reader
                .seek(SeekFrom::Start(range.start))
                .map_err(|e| format!("{}: cannot read: {e}", place()))?;
            let mut bytes = vec![0; (range.end - range.start) as usize];
            reader
                .read_exact(&mut bytes)
                .map_err(|e| format!("{}: cannot read: {e}", place()))?;
            check_pages(&bytes, values).map_err(|e| format!("{}: {e}", place()))?;
        }
    }
    if rows != metadata.num_rows {
        return Err(format!(
            "the footer counts {} rows but its row groups hold {rows}",
            metadata.num_rows
        ));
    }
    Ok(())
}

/// Walks the pages of one column chunk (its bytes, `values` values in all).
fn check_pages(bytes: &[u8], values: i64) -> std::result::Result<(), String> {
    let mut cursor = Cursor::new(bytes);
    let mut seen = 0i64;
    let mut page = 0usize;
    while seen < values {
        page += 1;
        let start = cursor.position() as usize;
        if start >= bytes.len() {
            return Err(format!("the pages end after {seen} of {values} values"));
        }
        let mut protocol = TCompactInputProtocol::new(&mut cursor, MAX_HEADER_BYTES);
        let header = PageHeader::read_from_in_protocol(&mut protocol)
            .map_err(|e| format!("page {page}: the page header is invalid: {e}"))?;
        let body = cursor.position() as usize;
        let size = usize::try_from(header.compressed_page_size)
            .map_err(|_| format!("page {page}: a negative page size"))?;
        if header.uncompressed_page_size < 0 {
            return Err(format!("page {page}: a negative uncompressed size"));
        }
        let end = body
            .checked_add(size)
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| format!("page {page}: the page runs past its column"))?;
        if header
            .crc
            .is_some_and(|crc| crc32fast::hash(&bytes[body..end]) != crc as u32)
        {
            return Err(format!(
                "page {page}: the page's bytes do not match its CRC-32 checksum"
            ));
        }
        seen += page_values(&header, values - seen).map_err(|e| format!("page {page}: {e}"))?;
        cursor.set_position(end as u64);
    }
    Ok(())
}

/// The number of values a page header declares, checked to lie within the
/// `left` values its column chunk still has to hold.
fn page_values(header: &PageHeader, left: i64) -> std::result::Result<i64, String> {
    let within = |count: i32, what: &str| -> std::result::Result<i64, String> {
        if count < 0 || i64::from(count) > left {
            Err(format!(
                "the header declares {count} {what}, outside 0 to {left}"
            ))
        } else {
            Ok(i64::from(count))
        }
    };
    let missing = |kind: &str| format!("a {kind} page without its header");
    match header.type_ {
        PageType::DATA_PAGE => {
            let data = header
                .data_page_header
                .as_ref()
                .ok_or_else(|| missing("data"))?;
            within(data.num_values, "values")
        }
        PageType::DATA_PAGE_V2 => {
            let data = header
                .data_page_header_v2
                .as_ref()
                .ok_or_else(|| missing("data"))?;
            let values = within(data.num_values, "values")?;
            if data.num_nulls < 0 || i64::from(data.num_nulls) > values {
                return Err(format!("{} nulls among {values} values", data.num_nulls));
            }
            if data.num_rows < 0 || i64::from(data.num_rows) > values {
                return Err(format!("{} rows among {values} values", data.num_rows));
            }
            if data.definition_levels_byte_length < 0 || data.repetition_levels_byte_length < 0 {
                return Err("a negative level length".to_owned());
            }
            Ok(values)
        }
        PageType::DICTIONARY_PAGE => {
            let dictionary = header
                .dictionary_page_header
                .as_ref()
                .ok_or_else(|| missing("dictionary"))?;
            if dictionary.num_values < 0 {
                return Err("a dictionary of a negative number of values".to_owned());
            }
            Ok(0)
        }
        // Index pages and unknown kinds hold no values; polars skips them.
        _ => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::{ParquetWriter, df};

    fn written() -> Vec<u8> {
        let mut frame = df!("a" => ["x", "y", "x"], "b" => [Some(1i64), None, Some(3)]).unwrap();
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes).finish(&mut frame).unwrap();
        bytes
    }

    #[test]
    fn a_file_polars_wrote_passes() {
        check_parquet(&mut Cursor::new(written())).unwrap();
    }

    #[test]
    fn a_negative_page_value_count_is_refused() {
        let header = PageHeader::new(
            PageType::DATA_PAGE,
            10,
            10,
            None,
            Some(polars_parquet_format::DataPageHeader::new(
                -1,
                polars_parquet_format::Encoding::PLAIN,
                polars_parquet_format::Encoding::RLE,
                polars_parquet_format::Encoding::RLE,
                None,
            )),
            None,
            None,
            None,
        );
        assert!(page_values(&header, 3).unwrap_err().contains("-1 values"));
        // More values than the column chunk has left is refused too.
        let mut more = header.clone();
        more.data_page_header.as_mut().unwrap().num_values = 4;
        assert!(page_values(&more, 3).is_err());
        more.data_page_header.as_mut().unwrap().num_values = 3;
        assert_eq!(page_values(&more, 3), Ok(3));
    }

    #[test]
    fn truncated_and_garbled_files_are_refused() {
        let bytes = written();
        assert!(check_parquet(&mut Cursor::new(&bytes[..bytes.len() / 2])).is_err());
        assert!(check_parquet(&mut Cursor::new(b"PAR1 not parquet PAR1".to_vec())).is_err());
    }

    /// A footer whose key-value list claims 2^28 entries (polars' decoder
    /// would ask for 12 GiB before reading the first) is refused by the
    /// budgeted decoder, and the same footer with its true count passes.
    #[test]
    fn a_footer_list_count_beyond_its_bytes_is_refused() {
        // FileMetaData { 1: version = 1, 2: schema = [{4: name = "s"}],
        // 3: num_rows = 0, 4: row_groups = [], 5: key_value_metadata =
        // [{1: key = "k"}] } in Thrift's compact protocol.
        let footer = |count: &[u8]| {
            let mut f = vec![0x15, 0x02]; // field 1, i32, zigzag 1
            f.extend([0x19, 0x1c, 0x48, 0x01, b's', 0x00]); // field 2, list of 1 struct
            f.extend([0x16, 0x00]); // field 3, i64 0
            f.extend([0x19, 0x0c]); // field 4, empty list of structs
            f.push(0x19); // field 5, list ...
            f.extend(count); // ... of structs, with its count
            f.extend([0x18, 0x01, b'k', 0x00]); // {1: key = "k"}
            f.push(0x00); // stop
            let mut file = b"PAR1".to_vec();
            file.extend(&f);
            file.extend((f.len() as u32).to_le_bytes());
            file.extend(b"PAR1");
            file
        };
        let honest = footer(&[0x1c]);
        check_footer(&mut Cursor::new(&honest), honest.len() as u64).unwrap();
        // Count 2^28 written separately: header 0xfc, then the varint.
        let inflated = footer(&[0xfc, 0x80, 0x80, 0x80, 0x80, 0x01]);
        let error = check_footer(&mut Cursor::new(&inflated), inflated.len() as u64).unwrap_err();
        assert!(error.contains("footer is invalid"), "{error}");
        assert!(check_parquet(&mut Cursor::new(inflated)).is_err());
    }
}
