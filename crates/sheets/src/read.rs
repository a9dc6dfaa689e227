//! Import: CSV and xlsx into a [`Table`].

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx};

use crate::text::{clean, column_letter, format_datetime, format_number};
use crate::{Format, Limits, Row, SheetError, Table, detect, zipcheck};

/// Read the first worksheet (xlsx) or the CSV (UTF-8, optional BOM, comma separated, quoted
/// fields) into a [`Table`].
///
/// Limits are enforced before expensive work: the byte size first; for xlsx the zip is
/// inspected (declared and real decompressed sizes, compression ratios, allocation-size
/// attributes) before calamine parses it, and cells are streamed so that reading stops as soon
/// as `max_rows` non-blank data rows or `max_cols` columns are exceeded. Cells holding a
/// formula are refused with [`SheetError::Formula`].
pub fn read_table(file_name: &str, bytes: &[u8], limits: &Limits) -> Result<Table, SheetError> {
    if bytes.len() > limits.max_bytes {
        return Err(SheetError::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    match detect(file_name, bytes)? {
        Format::Csv => read_csv(bytes, limits),
        Format::Xlsx => read_xlsx(bytes, limits),
    }
}

/// Accumulates rows in sheet order, enforcing limits.
struct TableBuilder<'a> {
    limits: &'a Limits,
    headers: Option<Vec<String>>,
    rows: Vec<Row>,
}

impl<'a> TableBuilder<'a> {
    fn new(limits: &'a Limits) -> Self {
        TableBuilder {
            limits,
            headers: None,
            rows: Vec::new(),
        }
    }

    /// `cells` are already cleaned and hold at most `max_cols` entries.
    fn push(&mut self, line: usize, mut cells: Vec<String>) -> Result<(), SheetError> {
        let Some(last) = cells.iter().rposition(|c| !c.is_empty()) else {
            return Ok(()); // blank row
        };
        match &self.headers {
            None => {
                cells.truncate(last + 1);
                self.headers = Some(cells);
            }
            Some(headers) => {
                cells.resize(headers.len(), String::new());
                if cells.iter().all(String::is_empty) {
                    return Ok(()); // data only under columns without a header
                }
                if self.rows.len() >= self.limits.max_rows {
                    return Err(SheetError::TooManyRows {
                        max_rows: self.limits.max_rows,
                    });
                }
                self.rows.push(Row { line, cells });
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Table, SheetError> {
        match self.headers {
            Some(headers) => Ok(Table {
                headers,
                rows: self.rows,
            }),
            None => Err(SheetError::Empty),
        }
    }
}

fn read_csv(bytes: &[u8], limits: &Limits) -> Result<Table, SheetError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(body).is_err() {
        return Err(SheetError::NotUtf8);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    let mut builder = TableBuilder::new(limits);
    // Excel shows a record with newlines inside quotes as one row, and an empty line as an
    // empty row; csv skips empty lines, so track row numbers ourselves from byte positions.
    let mut cursor = 0usize;
    let mut breaks_before_cursor = 0usize;
    let mut embedded_breaks = 0usize;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(SheetError::Malformed(format!("CSV 解析失败({e})"))),
        }
        let start = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .unwrap_or(cursor)
            .max(cursor);
        let rest = body.get(start..).unwrap_or_default();
        let content_start = start
            + rest
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
        breaks_before_cursor +=
            count_line_breaks(body.get(cursor..content_start).unwrap_or_default());
        cursor = content_start;
        let line = (breaks_before_cursor + 1)
            .saturating_sub(embedded_breaks)
            .max(1);

        let mut cells = Vec::new();
        for (col, field) in record.iter().enumerate() {
            embedded_breaks += count_line_breaks(field);
            // Field boundaries are ASCII delimiters of valid UTF-8, so this cannot fail.
            let text = clean(std::str::from_utf8(field).map_err(|_| SheetError::NotUtf8)?);
            if col >= limits.max_cols {
                if !text.is_empty() {
                    return Err(SheetError::TooManyColumns {
                        max_cols: limits.max_cols,
                    });
                }
                continue;
            }
            cells.push(text.to_string());
        }
        builder.push(line, cells)?;
    }
    builder.finish()
}

/// Number of line breaks: `\r\n`, lone `\n` and lone `\r` each count once.
fn count_line_breaks(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut prev_cr = false;
    for &b in bytes {
        match b {
            b'\n' if prev_cr => {}
            b'\n' | b'\r' => count += 1,
            _ => {}
        }
        prev_cr = b == b'\r';
    }
    count
}

fn xlsx_error(what: &str, e: impl std::fmt::Display) -> SheetError {
    SheetError::Malformed(format!("{what}({e})"))
}

fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Table, SheetError> {
    zipcheck::check(bytes, limits)?;
    let mut workbook: Xlsx<Cursor<&[u8]>> =
        Reader::new(Cursor::new(bytes)).map_err(|e| xlsx_error("工作簿结构无法解析", e))?;

    let sheets = workbook.sheets_metadata();
    let name = sheets
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .or_else(|| sheets.iter().find(|s| s.typ == SheetType::WorkSheet))
        .map(|s| s.name.clone())
        .ok_or(SheetError::Empty)?;

    let max_cols = limits.max_cols;
    let mut grid: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut formula_at: Option<(u32, u32)> = None;
    {
        let mut cells = workbook
            .worksheet_cells_reader(&name)
            .map_err(|e| xlsx_error("工作表无法读取", e))?;
        while let Some(cell) = cells
            .next_cell_with_formula_metadata()
            .map_err(|e| xlsx_error("工作表内容无法解析", e))?
        {
            let (row, col) = cell.pos;
            if cell.formula.is_some() {
                formula_at = Some((row, col));
                break;
            }
            let text = cell_text(&cell.value);
            let text = clean(&text);
            if text.is_empty() {
                continue;
            }
            let col = col as usize;
            if col >= max_cols {
                return Err(SheetError::TooManyColumns { max_cols });
            }
            let is_new = !grid.contains_key(&row);
            if is_new && grid.len() > limits.max_rows {
                // header + max_rows data rows already present
                return Err(SheetError::TooManyRows {
                    max_rows: limits.max_rows,
                });
            }
            let cells = grid.entry(row).or_default();
            if cells.len() <= col {
                cells.resize(col + 1, String::new());
            }
            if let Some(slot) = cells.get_mut(col) {
                *slot = text.to_string();
            }
        }
    }

    if let Some((row, col)) = formula_at {
        let header = grid
            .first_key_value()
            .filter(|(header_row, _)| **header_row < row)
            .and_then(|(_, cells)| cells.get(col as usize))
            .filter(|h| !h.is_empty())
            .cloned();
        return Err(SheetError::Formula {
            row: row as usize + 1,
            column: header.unwrap_or_else(|| format!("{}列", column_letter(col))),
        });
    }

    let mut builder = TableBuilder::new(limits);
    for (row, cells) in grid {
        builder.push(row as usize + 1, cells)?;
    }
    builder.finish()
}

/// Natural text of a cell value as the user sees it.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => format_number(*f),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Bool(true) => "TRUE".to_string(),
        DataRef::Bool(false) => "FALSE".to_string(),
        DataRef::DateTime(dt) => {
            if dt.is_duration() {
                format_number(dt.as_f64())
            } else {
                format_datetime(dt.to_ymd_hms_milli(), dt.as_f64())
            }
        }
        DataRef::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).to_string(),
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
        DataRef::Empty => String::new(),
    }
}
