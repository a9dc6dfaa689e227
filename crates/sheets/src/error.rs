//! Error type shared by import and export.

/// Everything that can go wrong reading or writing a sheet.
///
/// `Display` shows the same Chinese text as [`SheetError::message`]; use [`SheetError::code`]
/// for a stable machine-readable identifier.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub enum SheetError {
    /// Neither xlsx nor UTF-8 CSV (including old binary .xls).
    UnsupportedFormat,
    /// The upload (or its decompressed content) is larger than allowed.
    TooLarge { max_bytes: usize },
    /// More data rows than allowed.
    TooManyRows { max_rows: usize },
    /// Data found beyond the allowed number of columns.
    TooManyColumns { max_cols: usize },
    /// A cell holds a formula. `row` is the 1-based sheet row, `column` the header
    /// text of that column (or its letter, e.g. "C列", when there is no header).
    Formula { row: usize, column: String },
    /// A cell holds control characters (NUL, escape codes, line breaks …). `row` is the 1-based sheet row (0 for
    /// the header row), `column` the header text (or "第N列").
    InvalidCharacters { row: usize, column: String },
    /// A cell holds more text than any field accepts.
    CellTooLong {
        row: usize,
        column: String,
        max_chars: usize,
    },
    /// CSV that is not UTF-8 (typically GBK from "CSV (逗号分隔)").
    NotUtf8,
    /// Damaged or hostile file; the string is a short Chinese description.
    Malformed(String),
    /// No header row at all.
    Empty,
    /// Required headers that are absent, in the order they were asked for.
    MissingColumns(Vec<String>),
    /// Building an export failed.
    Write(String),
}

impl SheetError {
    /// Stable snake_case code, suitable for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            SheetError::UnsupportedFormat => "unsupported_file_format",
            SheetError::TooLarge { .. } => "file_too_large",
            SheetError::TooManyRows { .. } => "too_many_rows",
            SheetError::TooManyColumns { .. } => "too_many_columns",
            SheetError::Formula { .. } => "formula_not_allowed",
            SheetError::InvalidCharacters { .. } => "invalid_characters",
            SheetError::CellTooLong { .. } => "too_long",
            SheetError::NotUtf8 => "csv_not_utf8",
            SheetError::Malformed(_) => "malformed_file",
            SheetError::Empty => "empty_file",
            SheetError::MissingColumns(_) => "missing_columns",
            SheetError::Write(_) => "export_failed",
        }
    }

    /// Chinese message for end users.
    pub fn message(&self) -> String {
        match self {
            SheetError::UnsupportedFormat => {
                "文件格式不支持,请上传 .xlsx 或 .csv 文件".to_string()
            }
            SheetError::TooLarge { max_bytes } => format!(
                "文件过大,请上传不超过 {} 的文件(内容较多时请拆分后分批导入)",
                human_size(*max_bytes)
            ),
            SheetError::TooManyRows { max_rows } => format!(
                "数据行数过多,单次最多导入 {max_rows} 行,请拆分后分批导入"
            ),
            SheetError::TooManyColumns { max_cols } => format!(
                "列数过多,最多允许 {max_cols} 列,请删除多余的列后重新上传"
            ),
            SheetError::Formula { row, column } => format!(
                "第{row}行「{column}」含公式,系统不接受公式。请选中表格复制,再用「选择性粘贴 → 数值」转换为普通内容后重新上传"
            ),
            SheetError::InvalidCharacters { row, column } => format!(
                "{}「{column}」含有不允许的字符(如控制字符、空字符或单元格内换行),请删除后重新上传",
                row_label(*row)
            ),
            SheetError::CellTooLong {
                row,
                column,
                max_chars,
            } => format!(
                "{}「{column}」内容过长(最多 {max_chars} 个字),请删减后重新上传",
                row_label(*row)
            ),
            SheetError::NotUtf8 => "CSV 文件不是 UTF-8 编码,中文会出现乱码。请在 Excel 中「另存为」并选择「CSV UTF-8(逗号分隔)」格式,或直接上传 .xlsx 文件".to_string(),
            SheetError::Malformed(detail) => {
                if detail.is_empty() {
                    "文件已损坏或格式异常,无法读取,请用 Excel 打开后重新保存再上传".to_string()
                } else {
                    format!(
                        "文件已损坏或格式异常,无法读取:{detail}。请用 Excel 打开后重新保存再上传"
                    )
                }
            }
            SheetError::Empty => "文件为空,未找到表头行,请使用导入模板填写".to_string(),
            SheetError::MissingColumns(cols) => {
                let list: String = cols.iter().map(|c| format!("「{c}」")).collect();
                format!("缺少必需的列:{list},请使用系统提供的导入模板,不要修改表头")
            }
            SheetError::Write(detail) => format!("导出文件失败:{detail}"),
        }
    }
}

fn row_label(row: usize) -> String {
    if row == 0 {
        "表头".to_string()
    } else {
        format!("第{row}行")
    }
}

fn human_size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MB", bytes as f64 / MIB as f64)
    } else if bytes >= KIB {
        format!("{} KB", bytes / KIB)
    } else {
        format!("{bytes} 字节")
    }
}
