//! Import: CSV and xlsx, read row by row (a [`RowSink`] receives each row as it is read), or into a whole
//! [`Table`].

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::Path;

use calamine::{DataRef, Reader, SheetType, SheetVisible, Xlsx};

use crate::text::{clean, column_letter, format_datetime, format_number};
use crate::{Format, Limits, Row, SheetError, Table, detect_head, zipcheck};

/// Where an upload's bytes are: in memory, or in a file that is read as a stream (never loaded whole).
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// Bytes looked at to tell the format (and a CSV's byte order mark).
const HEAD: usize = 8 * 1024;

impl<'a> Input<'a> {
    fn len(&self) -> io::Result<u64> {
        match self {
            Input::Bytes(b) => Ok(b.len() as u64),
            Input::File(p) => Ok(std::fs::metadata(p)?.len()),
        }
    }

    /// A fresh reader from the first byte; each call reads independently of the others.
    fn open(&self) -> io::Result<Source<'a>> {
        match self {
            Input::Bytes(b) => Ok(Source::Bytes(Cursor::new(b))),
            Input::File(p) => Ok(Source::File(BufReader::with_capacity(
                64 * 1024,
                File::open(p)?,
            ))),
        }
    }

    /// The first bytes (at most [`HEAD`]) and whether that is the whole input.
    fn head(&self) -> io::Result<(Vec<u8>, bool)> {
        let mut head = Vec::with_capacity(HEAD);
        self.open()?.take(HEAD as u64 + 1).read_to_end(&mut head)?;
        let complete = head.len() <= HEAD;
        head.truncate(HEAD);
        Ok((head, complete))
    }
}

/// A reader over an [`Input`].
pub(crate) enum Source<'a> {
    Bytes(Cursor<&'a [u8]>),
    File(BufReader<File>),
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Bytes(c) => c.read(buf),
            Source::File(f) => f.read(buf),
        }
    }
}

impl BufRead for Source<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Source::Bytes(c) => c.fill_buf(),
            Source::File(f) => f.fill_buf(),
        }
    }
    fn consume(&mut self, amt: usize) {
        match self {
            Source::Bytes(c) => c.consume(amt),
            Source::File(f) => f.consume(amt),
        }
    }
}

impl Seek for Source<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Source::Bytes(c) => c.seek(pos),
            Source::File(f) => f.seek(pos),
        }
    }
}

fn io_error(e: io::Error) -> SheetError {
    SheetError::Malformed(format!("文件无法读取({e})"))
}

/// Receives the rows of a sheet as they are read (see [`read_rows`]).
pub trait RowSink {
    /// The header row: the first non-blank row, trimmed, trailing empty headers dropped. Comes before any data row.
    fn headers(&mut self, headers: &[String]) -> Result<(), SheetError>;
    /// One data row (blank rows are skipped). `Break` stops reading.
    fn row(&mut self, row: Row) -> Result<ControlFlow<()>, SheetError>;
}

/// Reads the first worksheet (xlsx) or the CSV (UTF-8, optional BOM, comma separated, quoted fields) row by row,
/// handing each row to `sink` as soon as it is complete; no row is kept here, so memory does not grow with the
/// number of rows (calamine keeps an xlsx's shared-strings table).
///
/// Limits are enforced before expensive work: the byte size first; for xlsx the zip is inspected (declared and
/// real decompressed sizes, compression ratios, allocation-size attributes) before calamine parses it, and
/// reading stops as soon as `max_rows` non-blank data rows or `max_cols` columns are exceeded. Cells holding a
/// formula are refused with [`SheetError::Formula`]. A problem found after some rows were handed over ends the
/// read with that error: a caller that must not act on a refused file acts only once this returns `Ok`.
pub fn read_rows(
    file_name: &str,
    input: Input<'_>,
    limits: &Limits,
    sink: &mut dyn RowSink,
) -> Result<(), SheetError> {
    let len = input.len().map_err(io_error)?;
    if len > limits.max_bytes as u64 {
        return Err(SheetError::TooLarge {
            max_bytes: limits.max_bytes,
        });
    }
    let (head, complete) = input.head().map_err(io_error)?;
    match detect_head(file_name, &head, complete)? {
        Format::Csv => read_csv(input, &head, limits, sink),
        Format::Xlsx => read_xlsx(input, limits, sink),
    }
}

/// Reads the first worksheet (xlsx) or the CSV into a [`Table`] (every row in memory; see [`read_rows`]).
pub fn read_table(file_name: &str, bytes: &[u8], limits: &Limits) -> Result<Table, SheetError> {
    let mut collect = Collect::default();
    read_rows(file_name, Input::Bytes(bytes), limits, &mut collect)?;
    Ok(Table {
        headers: collect.headers,
        rows: collect.rows,
    })
}

#[derive(Default)]
struct Collect {
    headers: Vec<String>,
    rows: Vec<Row>,
}

impl RowSink for Collect {
    fn headers(&mut self, headers: &[String]) -> Result<(), SheetError> {
        self.headers = headers.to_vec();
        Ok(())
    }
    fn row(&mut self, row: Row) -> Result<ControlFlow<()>, SheetError> {
        self.rows.push(row);
        Ok(ControlFlow::Continue(()))
    }
}

/// Turns sheet rows into a header and data rows for the sink, enforcing limits.
struct Rows<'a> {
    limits: &'a Limits,
    sink: &'a mut dyn RowSink,
    headers: Option<Vec<String>>,
    data_rows: usize,
    stopped: bool,
}

impl<'a> Rows<'a> {
    fn new(limits: &'a Limits, sink: &'a mut dyn RowSink) -> Self {
        Rows {
            limits,
            sink,
            headers: None,
            data_rows: 0,
            stopped: false,
        }
    }

    /// `cells` are already cleaned and hold at most `max_cols` entries.
    fn push(&mut self, line: usize, mut cells: Vec<String>) -> Result<(), SheetError> {
        if self.stopped {
            return Ok(());
        }
        let Some(last) = cells.iter().rposition(|c| !c.is_empty()) else {
            return Ok(()); // blank row
        };
        match &self.headers {
            None => {
                cells.truncate(last + 1);
                self.sink.headers(&cells)?;
                self.headers = Some(cells);
            }
            Some(headers) => {
                cells.resize(headers.len(), String::new());
                if cells.iter().all(String::is_empty) {
                    return Ok(()); // data only under columns without a header
                }
                if self.data_rows >= self.limits.max_rows {
                    return Err(SheetError::TooManyRows {
                        max_rows: self.limits.max_rows,
                    });
                }
                self.data_rows += 1;
                if self.sink.row(Row { line, cells })?.is_break() {
                    self.stopped = true;
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<(), SheetError> {
        match self.headers {
            Some(_) => Ok(()),
            None => Err(SheetError::Empty),
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn read_csv(
    input: Input<'_>,
    head: &[u8],
    limits: &Limits,
    sink: &mut dyn RowSink,
) -> Result<(), SheetError> {
    let bom = if head.starts_with(BOM) { BOM.len() } else { 0 };
    let mut body = input.open().map_err(io_error)?;
    body.seek(SeekFrom::Start(bom as u64)).map_err(io_error)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    // Excel shows a record with newlines inside quotes as one row, and an empty line as an empty row; csv skips
    // empty lines, so row numbers are counted from the line breaks before each record, read by a second reader
    // that follows the first one through the file.
    let mut breaks = LineBreaks::new(input, bom as u64)?;
    let mut record = csv::ByteRecord::new();
    let mut rows = Rows::new(limits, sink);
    let mut embedded_breaks = 0usize;
    while !rows.stopped {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(SheetError::Malformed(format!("CSV 解析失败({e})"))),
        }
        let start = record.position().map(|p| p.byte()).unwrap_or(0);
        breaks.advance_to(start).map_err(io_error)?;
        breaks.skip_breaks().map_err(io_error)?;
        let line = (breaks.count + 1).saturating_sub(embedded_breaks).max(1);

        let mut cells = Vec::new();
        for (col, field) in record.iter().enumerate() {
            embedded_breaks += count_line_breaks(field);
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
        rows.push(line, cells)?;
    }
    rows.finish()
}

/// Counts line breaks (`\r\n`, lone `\n` and lone `\r` each once) from the start of a CSV's body up to a position.
struct LineBreaks<'a> {
    reader: Source<'a>,
    pos: u64,
    prev_cr: bool,
    count: usize,
}

impl<'a> LineBreaks<'a> {
    fn new(input: Input<'a>, start: u64) -> Result<Self, SheetError> {
        let mut reader = input.open().map_err(io_error)?;
        reader.seek(SeekFrom::Start(start)).map_err(io_error)?;
        Ok(LineBreaks {
            reader,
            pos: 0,
            prev_cr: false,
            count: 0,
        })
    }

    fn count_byte(&mut self, b: u8) {
        match b {
            b'\n' if self.prev_cr => {}
            b'\n' | b'\r' => self.count += 1,
            _ => {}
        }
        self.prev_cr = b == b'\r';
    }

    /// Counts the breaks of every byte before `to`.
    fn advance_to(&mut self, to: u64) -> io::Result<()> {
        while self.pos < to {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let n = usize::try_from(to - self.pos)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let mut count = self.count;
            let mut prev_cr = self.prev_cr;
            for &b in &buf[..n] {
                match b {
                    b'\n' if prev_cr => {}
                    b'\n' | b'\r' => count += 1,
                    _ => {}
                }
                prev_cr = b == b'\r';
            }
            self.count = count;
            self.prev_cr = prev_cr;
            self.reader.consume(n);
            self.pos += n as u64;
        }
        Ok(())
    }

    /// Counts and passes the line breaks (and empty lines) at the current position.
    fn skip_breaks(&mut self) -> io::Result<()> {
        loop {
            let Some(&b) = self.reader.fill_buf()?.first() else {
                return Ok(());
            };
            if b != b'\r' && b != b'\n' {
                return Ok(());
            }
            self.count_byte(b);
            self.reader.consume(1);
            self.pos += 1;
        }
    }
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

fn read_xlsx(input: Input<'_>, limits: &Limits, sink: &mut dyn RowSink) -> Result<(), SheetError> {
    zipcheck::check(input.open().map_err(io_error)?, limits)?;
    let mut workbook: Xlsx<Source<'_>> = Reader::new(input.open().map_err(io_error)?)
        .map_err(|e| xlsx_error("工作簿结构无法解析", e))?;

    let sheets = workbook.sheets_metadata();
    let name = sheets
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .or_else(|| sheets.iter().find(|s| s.typ == SheetType::WorkSheet))
        .map(|s| s.name.clone())
        .ok_or(SheetError::Empty)?;

    let max_cols = limits.max_cols;
    let mut rows = Rows::new(limits, sink);
    // The row being read: its 0-based index and cells. Cells arrive in sheet order, row after row.
    let mut current: Option<(u32, Vec<String>)> = None;
    // Rows holding any text so far (the header row included).
    let mut nonblank_rows = 0usize;
    let mut cells = workbook
        .worksheet_cells_reader(&name)
        .map_err(|e| xlsx_error("工作表无法读取", e))?;
    while !rows.stopped {
        let Some(cell) = cells
            .next_cell_with_formula_metadata()
            .map_err(|e| xlsx_error("工作表内容无法解析", e))?
        else {
            break;
        };
        let (row, col) = cell.pos;
        if cell.formula.is_some() {
            let header = match (&rows.headers, &current) {
                (Some(headers), _) => headers.get(col as usize),
                (None, Some((first, cells))) if *first < row => cells.get(col as usize),
                _ => None,
            };
            return Err(SheetError::Formula {
                row: row as usize + 1,
                column: header
                    .filter(|h| !h.is_empty())
                    .cloned()
                    .unwrap_or_else(|| format!("{}列", column_letter(col))),
            });
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
        match &current {
            Some((r, _)) if *r == row => {}
            Some((r, _)) if *r > row => {
                return Err(SheetError::Malformed(
                    "工作表的行顺序异常,请用 Excel 打开后重新保存".to_string(),
                ));
            }
            _ => {
                if let Some((r, done)) = current.take() {
                    rows.push(r as usize + 1, done)?;
                }
                if nonblank_rows > limits.max_rows {
                    // header + max_rows data rows already read
                    return Err(SheetError::TooManyRows {
                        max_rows: limits.max_rows,
                    });
                }
                nonblank_rows += 1;
                current = Some((row, Vec::new()));
            }
        }
        if let Some((_, cells)) = current.as_mut() {
            if cells.len() <= col {
                cells.resize(col + 1, String::new());
            }
            if let Some(slot) = cells.get_mut(col) {
                *slot = text.to_string();
            }
        }
    }
    drop(cells);
    if let Some((r, done)) = current.take() {
        rows.push(r as usize + 1, done)?;
    }
    rows.finish()
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
