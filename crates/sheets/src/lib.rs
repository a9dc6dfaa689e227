//! Spreadsheet import/export for shanzhi.
//!
//! * Import: `.xlsx` (first visible worksheet) and UTF-8 `.csv` uploads are read row by row into a [`RowSink`]
//!   ([`read_rows`], from memory or from a file), or whole into a [`Table`] of trimmed strings. Hostile uploads (zip bombs, huge sheets, formulas, wrong encodings) are
//!   refused with a [`SheetError`] carrying a Chinese message for office staff.
//! * Export: ledger (台账) sheets as `.xlsx` or BOM-prefixed `.csv`, with every cell written as
//!   neutralised text.

mod error;
mod read;
mod text;
mod write;
mod zipcheck;

use std::borrow::Cow;

pub use error::SheetError;
pub use read::{Input, RowSink, read_rows, read_table};
pub use write::{template, write_csv, write_xlsx};

/// Upload limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Maximum upload size in bytes; the decompressed xlsx content may be at most 20× this.
    pub max_bytes: usize,
    /// Maximum number of (non-blank) data rows, header excluded.
    pub max_rows: usize,
    /// Maximum number of columns holding data.
    pub max_cols: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 20 * 1024 * 1024,
            max_rows: 100_000,
            max_cols: 60,
        }
    }
}

/// A parsed sheet.
#[derive(Debug, Clone)]
pub struct Table {
    /// Trimmed header cells of the first (non-blank) row; trailing empty headers dropped.
    pub headers: Vec<String>,
    /// Data rows; fully blank rows are skipped.
    pub rows: Vec<Row>,
}

/// One data row.
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based row number as the user sees it in Excel (header = 1 when it is the first row).
    pub line: usize,
    /// Same length as `headers`; trimmed; missing cells are `""`.
    pub cells: Vec<String>,
}

impl Row {
    /// Cell at `index`, or `""` when out of range.
    pub fn get(&self, index: usize) -> &str {
        self.cells.get(index).map(String::as_str).unwrap_or("")
    }
}

impl Table {
    /// Returns the column index of each required header (in the order asked), or
    /// [`SheetError::MissingColumns`] listing exactly those absent.
    ///
    /// Matching ignores whitespace, a leading/trailing required-marker `*`/`＊`, and treats
    /// full-width parentheses (U+FF08/U+FF09) like ASCII ones, so "姓名 *" still matches "姓名".
    pub fn require(&self, headers: &[&str]) -> Result<Vec<usize>, SheetError> {
        require(&self.headers, headers)
    }

    /// Index of an optional header (first match), using the same matching as [`Table::require`].
    pub fn column(&self, header: &str) -> Option<usize> {
        column(&self.headers, header)
    }
}

/// [`Table::require`] for a header row read by [`read_rows`].
pub fn require(headers: &[String], wanted: &[&str]) -> Result<Vec<usize>, SheetError> {
    let mut found = Vec::with_capacity(wanted.len());
    let mut missing = Vec::new();
    for header in wanted {
        match column(headers, header) {
            Some(i) => found.push(i),
            None => missing.push((*header).to_string()),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(SheetError::MissingColumns(missing))
    }
}

/// [`Table::column`] for a header row read by [`read_rows`].
pub fn column(headers: &[String], header: &str) -> Option<usize> {
    let wanted = text::header_key(header);
    headers.iter().position(|h| text::header_key(h) == wanted)
}

/// File format of an upload or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// MIME type for downloads.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0];

/// Detects the format from the bytes, falling back to the file name.
///
/// * zip magic `PK\x03\x04` → xlsx (non-xlsx zips are refused later by [`read_table`]);
/// * OLE magic (old `.xls`, or a password-protected workbook) → `UnsupportedFormat`;
/// * name ending in `.csv`, or bytes that are UTF-8 text → CSV;
/// * otherwise a name ending in `.xlsx` → xlsx (so a damaged file reports `Malformed`);
/// * anything else → `UnsupportedFormat`.
pub fn detect(file_name: &str, bytes: &[u8]) -> Result<Format, SheetError> {
    detect_head(file_name, bytes, true)
}

/// [`detect`] from the first bytes of a file (`complete` when they are the whole file): a multi-byte character
/// cut at the end of an incomplete head still counts as UTF-8.
pub(crate) fn detect_head(
    file_name: &str,
    bytes: &[u8],
    complete: bool,
) -> Result<Format, SheetError> {
    if bytes.starts_with(ZIP_MAGIC) {
        return Ok(Format::Xlsx);
    }
    if bytes.starts_with(OLE_MAGIC) {
        return Err(SheetError::UnsupportedFormat);
    }
    let ext = extension(file_name);
    let utf8 = match std::str::from_utf8(bytes) {
        Ok(_) => true,
        // Only the end is cut: the rest of the character is past the head.
        Err(e) => !complete && e.error_len().is_none(),
    };
    if ext == "csv" || (utf8 && !bytes.contains(&0)) {
        return Ok(Format::Csv);
    }
    if ext == "xlsx" {
        return Ok(Format::Xlsx);
    }
    Err(SheetError::UnsupportedFormat)
}

fn extension(file_name: &str) -> String {
    file_name
        .trim()
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default()
}

/// Neutralise spreadsheet formula injection: a cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading `'`.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// Display width in "characters" for Excel column widths: CJK / full-width count 2, others 1
/// (control characters and zero-width marks count 0). For multi-line text the widest line counts.
pub fn display_width(s: &str) -> usize {
    s.split('\n')
        .map(|line| line.chars().map(text::char_width).sum())
        .max()
        .unwrap_or(0)
}

/// An export column.
#[derive(Debug, Clone)]
pub struct Column {
    pub header: String,
    /// Minimum column width in display characters.
    pub min_width: usize,
}

impl Column {
    /// Column with no minimum width beyond the default clamp.
    pub fn new(header: impl Into<String>) -> Self {
        Column {
            header: header.into(),
            min_width: 0,
        }
    }
}

#[cfg(test)]
mod tests;
