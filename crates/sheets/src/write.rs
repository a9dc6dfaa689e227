//! Export: xlsx / CSV ledgers and import templates.

use rust_xlsxwriter::{Format as CellFormat, Workbook};

use crate::{Column, Format, SheetError, display_width, neutralize};

const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;
const PADDING: usize = 2;
/// Excel's limit on sheet name length.
const MAX_SHEET_NAME: usize = 31;

fn write_error(e: impl std::fmt::Display) -> SheetError {
    SheetError::Write(e.to_string())
}

/// Excel refuses some characters in sheet names and names longer than 31 characters.
fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .take(MAX_SHEET_NAME)
        .collect();
    let cleaned = cleaned.trim().trim_matches('\'').to_string();
    if cleaned.is_empty() || cleaned.eq_ignore_ascii_case("history") {
        "Sheet1".to_string()
    } else {
        cleaned
    }
}

/// Column width in Excel character units: widest header/cell display width + padding,
/// at least `min_width`, clamped to 8..=60.
fn column_width(column: &Column, index: usize, rows: &[Vec<String>]) -> usize {
    let widest = rows
        .iter()
        .filter_map(|row| row.get(index))
        .map(|cell| display_width(&neutralize(cell)))
        .fold(display_width(&column.header), usize::max);
    (widest + PADDING)
        .max(column.min_width)
        .clamp(MIN_WIDTH, MAX_WIDTH)
}

/// Write one worksheet named `sheet_name` (sanitised to Excel's rules): bold, frozen header
/// row; every cell written as a neutralised string, never a formula; explicit column widths
/// computed with [`display_width`] (CJK counts 2) instead of autofit.
///
/// Cells beyond the last column are written too (without a header); rows may be shorter.
pub fn write_xlsx(
    sheet_name: &str,
    columns: &[Column],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, SheetError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet
        .set_name(self::sheet_name(sheet_name))
        .map_err(write_error)?;
    let bold = CellFormat::new().set_bold();

    for (c, column) in columns.iter().enumerate() {
        let col = u16::try_from(c).map_err(write_error)?;
        sheet
            .write_string_with_format(0, col, neutralize(&column.header).as_ref(), &bold)
            .map_err(write_error)?;
        let width = column_width(column, c, rows);
        sheet
            .set_column_width(col, width as f64)
            .map_err(write_error)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let row_num = u32::try_from(r + 1).map_err(write_error)?;
        for (c, cell) in row.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let col = u16::try_from(c).map_err(write_error)?;
            sheet
                .write_string(row_num, col, neutralize(cell).as_ref())
                .map_err(write_error)?;
        }
    }
    if !columns.is_empty() {
        sheet.set_freeze_panes(1, 0).map_err(write_error)?;
    }
    workbook.save_to_buffer().map_err(write_error)
}

/// CSV with UTF-8 BOM (so Excel opens Chinese correctly), all cells neutralised, CRLF line
/// ends, fields quoted only when needed.
pub fn write_csv(headers: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, SheetError> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    writer
        .write_record(
            headers
                .iter()
                .map(|h| neutralize(h))
                .map(|c| c.into_owned()),
        )
        .map_err(write_error)?;
    for row in rows {
        writer
            .write_record(row.iter().map(|c| neutralize(c)).map(|c| c.into_owned()))
            .map_err(write_error)?;
    }
    writer.into_inner().map_err(|e| write_error(e.error()))
}

/// An import template: header row only, plus one example row if given, as xlsx (sheet
/// "导入模板") or CSV depending on `format`.
pub fn template(
    format: Format,
    headers: &[&str],
    example: Option<&[&str]>,
) -> Result<Vec<u8>, SheetError> {
    let rows: Vec<Vec<String>> = example
        .map(|cells| vec![cells.iter().map(|c| (*c).to_string()).collect()])
        .unwrap_or_default();
    match format {
        Format::Csv => write_csv(headers, &rows),
        Format::Xlsx => {
            let columns: Vec<Column> = headers.iter().map(|h| Column::new(*h)).collect();
            write_xlsx("导入模板", &columns, &rows)
        }
    }
}
