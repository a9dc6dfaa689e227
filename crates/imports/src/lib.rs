//! Bulk import of members and units from .csv/.xlsx, and ledger (台账) exports. Used by the CLI and the web.
//!
//! An import streams the sheet row by row ([`shanzhi_sheets::read_rows`]: limits, hostile files; the text rule
//! and the template's example row in [`scan`]), resolves names against lookups loaded once (communities and
//! places among the importer's scope; units by name or credit code; skills and unit kinds from the dictionaries),
//! validates every row and produces a [`Report`]. Memory does not grow with the file: rows are read, checked and
//! written in batches of [`BATCH`] rows, and only the report (bad and skipped rows) and the keys seen so far (to
//! find duplicates within the file) are kept.
//!
//! It takes two passes over the file (see [`engine`]): the first checks every row (and the good ones against the
//! database, batch by batch) and keeps only the report; the second, run only when something is to be written,
//! reads the file again and writes the good rows batch by batch inside one transaction
//! (`Store::bulk_insert_members_stream` / `bulk_insert_units_stream`). By default an import is all-or-nothing:
//! one bad row and nothing is written ([`Code::ImportHasErrors`]). With [`Options::valid_only`] only the good rows
//! are written. Rows already in the database (members by mobile, units by credit code) are reported as
//! "已登记,跳过" and never overwritten, so importing the same file twice changes nothing.

mod engine;
pub mod job;
pub mod ledger;
mod members;
mod units;

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use shanzhi_domain::Code;
use shanzhi_domain::jobs::quote;
use shanzhi_domain::role::Scope;
use shanzhi_domain::text::{self, TextKind};
use shanzhi_sheets::{Format, Input, Limits, Row, RowSink, SheetError, Table};
use shanzhi_store::imports::ImportOutcome;
use shanzhi_store::jobs::JobLease;
use shanzhi_store::{Actor, Store, StoreError};

/// Rows read, checked and written together.
pub const BATCH: usize = 500;

/// What is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Members,
    Units,
}

/// Member template headers, in order.
pub const MEMBER_HEADERS: [&str; 7] = [
    "姓名",
    "手机号",
    "身份证号",
    "所在单位",
    "居住社区",
    "专长",
    "户居分离",
];
const MEMBER_REQUIRED: [&str; 4] = ["姓名", "手机号", "所在单位", "居住社区"];
const MEMBER_EXAMPLE: [&str; 7] = [
    "示例:张三",
    "13812345678",
    "",
    "区林业站",
    "樊家村",
    "林业园艺、为老服务",
    "否",
];

/// Unit template headers, in order.
pub const UNIT_HEADERS: [&str; 8] = [
    "单位名称",
    "单位类别",
    "统一社会信用代码",
    "所在街镇或村居",
    "党组织名称",
    "党组织层级",
    "联系人",
    "联系电话",
];
const UNIT_REQUIRED: [&str; 6] = [
    "单位名称",
    "单位类别",
    "统一社会信用代码",
    "所在街镇或村居",
    "党组织名称",
    "党组织层级",
];
const UNIT_EXAMPLE: [&str; 8] = [
    "示例:某某单位",
    "事业单位",
    "",
    "马陆镇",
    "示例单位党支部",
    "党支部",
    "李四",
    "13900001111",
];

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "members" => Some(Kind::Members),
            "units" => Some(Kind::Units),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Members => "members",
            Kind::Units => "units",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Kind::Members => "在职党员",
            Kind::Units => "驻区单位",
        }
    }
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Kind::Members => &MEMBER_HEADERS,
            Kind::Units => &UNIT_HEADERS,
        }
    }
    fn required(self) -> &'static [&'static str] {
        match self {
            Kind::Members => &MEMBER_REQUIRED,
            Kind::Units => &UNIT_REQUIRED,
        }
    }
    fn example(self) -> &'static [&'static str] {
        match self {
            Kind::Members => &MEMBER_EXAMPLE,
            Kind::Units => &UNIT_EXAMPLE,
        }
    }
    /// File name of the downloadable template.
    pub fn template_name(self, format: Format) -> String {
        format!("{}导入模板.{}", self.label(), format.extension())
    }
}

/// The import template (Chinese headers and one example row) as .xlsx or .csv.
pub fn template(kind: Kind, format: Format) -> Result<Vec<u8>, SheetError> {
    shanzhi_sheets::template(format, kind.headers(), Some(kind.example()))
}

/// The template format for a file name (`.csv` or `.xlsx`), if any.
pub fn format_for(file_name: &str) -> Option<Format> {
    let lower = file_name.trim().to_ascii_lowercase();
    if lower.ends_with(".csv") {
        Some(Format::Csv)
    } else if lower.ends_with(".xlsx") {
        Some(Format::Xlsx)
    } else {
        None
    }
}

/// The mark that starts the first cell of a template's example row (e.g. `示例:张三`).
pub const EXAMPLE_MARK: &str = "示例:";

/// Whether a row is a template's example: its first cell carries [`EXAMPLE_MARK`], or (templates downloaded before
/// the mark existed) it repeats the example row cell for cell. Example rows are never imported.
pub fn is_example_row(kind: Kind, headers: &[String], cells: &[String]) -> bool {
    if cells
        .first()
        .is_some_and(|c| c.starts_with(EXAMPLE_MARK) || c.starts_with("示例:"))
    {
        return true;
    }
    let legacy: &[&str] = match kind {
        Kind::Members => &[
            "张三",
            "13812345678",
            "",
            "区林业站",
            "樊家村",
            "林业园艺、为老服务",
            "否",
        ],
        Kind::Units => &[
            "示例单位",
            "事业单位",
            "",
            "马陆镇",
            "示例单位党支部",
            "党支部",
            "李四",
            "13900001111",
        ],
    };
    legacy.iter().enumerate().all(|(i, want)| {
        let header = kind.headers().get(i);
        let at = header.and_then(|h| headers.iter().position(|x| x == h));
        at.and_then(|j| cells.get(j))
            .map(String::as_str)
            .unwrap_or("")
            == *want
    })
}

/// Where an uploaded sheet is: a file (read as a stream, never loaded whole), or bytes in memory.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Bytes(Arc<Vec<u8>>),
}

impl Source {
    pub fn input(&self) -> Input<'_> {
        match self {
            Source::File(p) => Input::File(p),
            Source::Bytes(b) => Input::Bytes(b),
        }
    }
}

/// Streams an upload's rows into `sink` (see [`shanzhi_sheets::read_rows`]): the one text rule on every header and
/// cell ([`clean_cells`]), the required columns checked on the header row, a template's example row dropped. No
/// row is kept here. CPU-bound: run it off the async threads.
pub fn scan(
    kind: Kind,
    file_name: &str,
    input: Input<'_>,
    sink: &mut dyn RowSink,
) -> Result<(), SheetError> {
    let mut scan = Scan {
        kind,
        headers: Vec::new(),
        sink,
    };
    shanzhi_sheets::read_rows(file_name, input, &Limits::default(), &mut scan)
}

/// The checks of [`scan`] around the caller's sink.
struct Scan<'a> {
    kind: Kind,
    headers: Vec<String>,
    sink: &'a mut dyn RowSink,
}

impl RowSink for Scan<'_> {
    fn headers(&mut self, headers: &[String]) -> Result<(), SheetError> {
        let mut headers = headers.to_vec();
        for (i, h) in headers.iter_mut().enumerate() {
            clean_cell(h, 0, || format!("第{}列", i + 1))?;
        }
        shanzhi_sheets::require(&headers, self.kind.required())?;
        self.sink.headers(&headers)?;
        self.headers = headers;
        Ok(())
    }

    fn row(&mut self, mut row: Row) -> Result<ControlFlow<()>, SheetError> {
        let headers = &self.headers;
        for (i, cell) in row.cells.iter_mut().enumerate() {
            clean_cell(cell, row.line, || column_name(headers, i))?;
        }
        if is_example_row(self.kind, headers, &row.cells) {
            return Ok(ControlFlow::Continue(()));
        }
        self.sink.row(row)
    }
}

/// Checks an upload without keeping its rows: format, size, hostile content, the text rule, the required columns
/// — everything [`scan`] refuses a file for. Returns the number of data rows (the example row not counted).
/// CPU-bound: run it off the async threads.
pub fn check(kind: Kind, file_name: &str, input: Input<'_>) -> Result<usize, SheetError> {
    struct Count(usize);
    impl RowSink for Count {
        fn headers(&mut self, _: &[String]) -> Result<(), SheetError> {
            Ok(())
        }
        fn row(&mut self, _: Row) -> Result<ControlFlow<()>, SheetError> {
            self.0 += 1;
            Ok(ControlFlow::Continue(()))
        }
    }
    let mut count = Count(0);
    scan(kind, file_name, input, &mut count)?;
    Ok(count.0)
}

/// Reads an upload whole into a [`Table`] (with the checks of [`scan`]). Imports stream instead; this is for small
/// files and tests.
pub fn parse(kind: Kind, file_name: &str, bytes: &[u8]) -> Result<Table, SheetError> {
    struct Collect(Table);
    impl RowSink for Collect {
        fn headers(&mut self, headers: &[String]) -> Result<(), SheetError> {
            self.0.headers = headers.to_vec();
            Ok(())
        }
        fn row(&mut self, row: Row) -> Result<ControlFlow<()>, SheetError> {
            self.0.rows.push(row);
            Ok(ControlFlow::Continue(()))
        }
    }
    let mut collect = Collect(Table {
        headers: Vec::new(),
        rows: Vec::new(),
    });
    scan(kind, file_name, Input::Bytes(bytes), &mut collect)?;
    Ok(collect.0)
}

fn column_name(headers: &[String], i: usize) -> String {
    match headers.get(i) {
        Some(h) if !h.is_empty() => h.clone(),
        _ => format!("第{}列", i + 1),
    }
}

/// The one text rule (`shanzhi_domain::text`, one-line kind) on one header or cell: control characters refuse
/// the whole file naming the cell, like a formula does; the rest is NFC and trimmed.
fn clean_cell(
    cell: &mut String,
    row: usize,
    column: impl Fn() -> String,
) -> Result<(), SheetError> {
    match text::clean(cell, TextKind::Line) {
        Ok(c) => {
            if c != cell.as_str() {
                *cell = c.into_owned();
            }
            Ok(())
        }
        Err(Code::TooLong) => Err(SheetError::CellTooLong {
            row,
            column: column(),
            max_chars: TextKind::Line.max_chars(),
        }),
        Err(_) => Err(SheetError::InvalidCharacters {
            row,
            column: column(),
        }),
    }
}

/// Applies the one text rule (`shanzhi_domain::text`, one-line kind) to every header and cell of a table: a cell
/// with control characters refuses the whole file naming the cell, like a formula does; the rest is NFC and
/// trimmed. ([`scan`] does the same row by row.)
pub fn clean_cells(table: &mut Table) -> Result<(), SheetError> {
    for (i, h) in table.headers.iter_mut().enumerate() {
        clean_cell(h, 0, || format!("第{}列", i + 1))?;
    }
    let headers = &table.headers;
    for row in &mut table.rows {
        for (i, cell) in row.cells.iter_mut().enumerate() {
            clean_cell(cell, row.line, || column_name(headers, i))?;
        }
    }
    Ok(())
}

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Write the valid rows even when other rows have errors ("仅导入正确的行").
    pub valid_only: bool,
}

/// What happened to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Ok,
    Error,
    Skipped,
    /// Written, but the member counts for their unit only once the unit's admin confirms (a town or community
    /// named the unit).
    Pending,
}

impl RowStatus {
    pub fn label(self) -> &'static str {
        match self {
            RowStatus::Ok => "正确",
            RowStatus::Error => "错误",
            RowStatus::Skipped => "跳过",
            RowStatus::Pending => "待单位确认",
        }
    }
    /// Whether the row is written (or would be, in an import that errors stopped).
    pub fn is_written(self) -> bool {
        matches!(self, RowStatus::Ok | RowStatus::Pending)
    }
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowReport {
    /// Row number as shown in Excel (the header is row 1).
    pub line: usize,
    pub status: RowStatus,
    /// Error code of the first problem (e.g. `invalid_mobile`), or `already_imported` for skipped rows.
    pub code: Option<String>,
    /// Chinese reason, e.g. `手机号:手机号码不正确(应为1开头的11位数字)`.
    pub reason: String,
    /// The row's name column, to find it again (at most 40 characters, "…" when cut).
    pub name: String,
}

/// The result of an import.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Report {
    /// members | units
    pub kind: String,
    pub total_rows: usize,
    /// Rows that passed every check and were not in the database yet.
    pub ok_rows: usize,
    pub error_rows: usize,
    /// Rows already registered ("已登记,跳过").
    pub skipped: usize,
    /// Of the correct rows, those whose member waits for their unit's confirmation ("待单位确认"): written, but
    /// counted for the unit only once its admin confirms.
    #[serde(default)]
    pub pending: usize,
    /// Rows actually written.
    pub inserted: usize,
    /// Whether anything was written (false when errors stopped an all-or-nothing import).
    pub written: bool,
    /// Outcome code when nothing was written because of errors: `import_has_errors` or `import_nothing_valid`.
    pub code: Option<String>,
    /// One line for people.
    pub summary: String,
    /// The rows with errors, the skipped rows and the rows waiting for their unit, in file order (rows that were
    /// fine otherwise are only counted).
    pub rows: Vec<RowReport>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &RowReport> {
        self.rows.iter().filter(|r| r.status == RowStatus::Error)
    }
    /// Nothing was imported because of errors (the CLI exits non-zero).
    pub fn refused(&self) -> bool {
        self.code.is_some()
    }
}

/// Why an import could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file itself: wrong format, too large, formulas, not UTF-8, missing columns …
    #[error("{0}")]
    Sheet(#[from] SheetError),
    /// The caller may not import this kind.
    #[error("{}", .0.message())]
    Refused(Code),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl ImportError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Sheet(e) => e.code(),
            ImportError::Refused(c) => c.as_str(),
            ImportError::Store(StoreError::NotFound) => Code::NotFound.as_str(),
            ImportError::Store(StoreError::Refused(c)) => c.as_str(),
            ImportError::Store(_) => Code::Internal.as_str(),
        }
    }
    /// Chinese message for people.
    pub fn message(&self) -> String {
        match self {
            ImportError::Sheet(e) => e.message(),
            ImportError::Refused(c) => c.message().to_string(),
            ImportError::Store(StoreError::NotFound) => Code::NotFound.message().to_string(),
            ImportError::Store(StoreError::Refused(c)) => c.message().to_string(),
            ImportError::Store(_) => Code::Internal.message().to_string(),
        }
    }
}

/// The import job a file is imported for: its id, and the runner's fencing token.
#[derive(Debug, Clone, Copy)]
pub struct ForJob {
    pub import_id: i64,
    pub lease: Option<JobLease>,
}

/// Validates every row of an upload and writes the good ones (see the crate docs), reading the file as a stream.
/// `progress` is called with the number of rows checked so far. For an import job (`job`), when rows are written
/// the job's counters, report and end are written in the same transaction. Returns the report and whether the
/// job's outcome was recorded with the rows.
#[allow(clippy::too_many_arguments)]
pub async fn import_source(
    store: &Store,
    actor: &Actor,
    scope: &Scope,
    kind: Kind,
    file_name: &str,
    source: &Source,
    opts: Options,
    progress: &(dyn Fn(usize) + Send + Sync),
    job: Option<ForJob>,
) -> Result<(Report, bool), ImportError> {
    engine::import(
        store, actor, scope, kind, file_name, source, opts, progress, job,
    )
    .await
}

/// The report once `inserted` of the `to_write` rows were written (the rest were registered meanwhile).
pub(crate) fn written(report: &mut Report, to_write: usize, inserted: usize) {
    report.inserted = inserted;
    report.skipped += to_write.saturating_sub(inserted);
    report.written = inserted > 0;
    report.summary = summary(report, true);
}

/// The stored form of a report.
pub fn outcome_of(report: &Report) -> ImportOutcome {
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    ImportOutcome {
        failed: report.refused(),
        inserted: n(report.inserted),
        skipped: n(report.skipped),
        error_rows: n(report.error_rows),
        report: serde_json::to_string(report).unwrap_or_default(),
    }
}

/// Reads and imports a file in one go (the command line).
pub async fn import_file(
    store: &Store,
    actor: &Actor,
    scope: &Scope,
    kind: Kind,
    file_name: &str,
    source: &Source,
    opts: Options,
) -> Result<Report, ImportError> {
    Ok(import_source(
        store,
        actor,
        scope,
        kind,
        file_name,
        source,
        opts,
        &|_| {},
        None,
    )
    .await?
    .0)
}

/// Row checks shared by both kinds: collects every problem of one row.
#[derive(Default)]
pub(crate) struct RowProblems {
    first: Option<Code>,
    reasons: Vec<String>,
}

/// Reasons kept per row (a hostile cell may hold thousands of unknown entries).
const MAX_REASONS: usize = 8;
/// Longest reason text of one row.
const MAX_REASON_CHARS: usize = 400;

impl RowProblems {
    pub(crate) fn add(&mut self, column: &str, code: Code) {
        self.first.get_or_insert(code);
        self.push(format!("{column}:{}", code.message()));
    }
    /// `text` must quote user values through [`shanzhi_domain::jobs::quote`].
    pub(crate) fn add_text(&mut self, column: &str, code: Code, text: String) {
        self.first.get_or_insert(code);
        self.push(format!("{column}:{text}"));
    }
    fn push(&mut self, reason: String) {
        match self.reasons.len() {
            n if n < MAX_REASONS => self.reasons.push(reason),
            n if n == MAX_REASONS => self.reasons.push("…".to_string()),
            _ => {}
        }
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }
    pub(crate) fn into_report(self, line: usize, name: &str) -> RowReport {
        RowReport {
            line,
            status: RowStatus::Error,
            code: self.first.map(|c| c.as_str().to_string()),
            reason: shanzhi_domain::jobs::prefix(&self.reasons.join(";"), MAX_REASON_CHARS),
            name: quote(name),
        }
    }
}

pub(crate) fn skipped_row(line: usize, name: &str) -> RowReport {
    RowReport {
        line,
        status: RowStatus::Skipped,
        code: Some(Code::AlreadyImported.as_str().to_string()),
        reason: Code::AlreadyImported.message().to_string(),
        name: quote(name),
    }
}

pub(crate) fn pending_row(line: usize, name: &str) -> RowReport {
    RowReport {
        line,
        status: RowStatus::Pending,
        code: Some(Code::UnitConfirmationPending.as_str().to_string()),
        reason: Code::UnitConfirmationPending.message().to_string(),
        name: quote(name),
    }
}

/// Finishes a report: decides whether to write and builds the summary. Returns whether to write.
pub(crate) fn decide(report: &mut Report, opts: Options) -> bool {
    report.rows.sort_by_key(|r| r.line);
    let write = if report.error_rows > 0 && !opts.valid_only {
        report.code = Some(Code::ImportHasErrors.as_str().to_string());
        false
    } else if report.error_rows > 0 && report.ok_rows == 0 {
        report.code = Some(Code::ImportNothingValid.as_str().to_string());
        false
    } else {
        report.ok_rows > 0
    };
    if !write {
        // Nothing is written, so nothing waits for a unit.
        report.rows.retain(|r| r.status != RowStatus::Pending);
        report.pending = 0;
    }
    report.summary = summary(report, write);
    write
}

pub(crate) fn summary(r: &Report, written: bool) -> String {
    let pending = if r.pending > 0 {
        format!("(其中待单位确认 {} 行)", r.pending)
    } else {
        String::new()
    };
    let head = format!(
        "共 {} 行:正确 {} 行{pending},错误 {} 行,已登记跳过 {} 行。",
        r.total_rows, r.ok_rows, r.error_rows, r.skipped
    );
    match r.code.as_deref() {
        Some(c) if c == Code::ImportHasErrors.as_str() => {
            format!("{head}{}", Code::ImportHasErrors.message())
        }
        Some(c) if c == Code::ImportNothingValid.as_str() => {
            format!("{head}{}", Code::ImportNothingValid.message())
        }
        _ if written => format!("{head}已导入 {} 行。", r.inserted),
        _ => format!("{head}没有需要导入的新数据。"),
    }
}

/// Name → candidate ids, for resolving names written in a sheet. A name may be written plainly ("樊家村") or
/// with its parent ("马陆镇/樊家村") to tell equal names apart.
#[derive(Default)]
pub(crate) struct NameIndex<T: Clone> {
    map: std::collections::HashMap<String, Vec<T>>,
}

/// What a name lookup found.
pub(crate) enum Found<T> {
    One(T),
    None,
    Many,
}

impl<T: Clone> NameIndex<T> {
    pub(crate) fn insert(&mut self, key: &str, value: T) {
        self.map.entry(norm(key)).or_default().push(value);
    }
    pub(crate) fn find(&self, key: &str) -> Found<T> {
        match self.map.get(&norm(key)).map(Vec::as_slice) {
            Some([one]) => Found::One(one.clone()),
            Some([]) | None => Found::None,
            Some(_) => Found::Many,
        }
    }
}

/// Lookup key: no whitespace, full-width slash as ASCII.
pub(crate) fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if c == '／' { '/' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn cells_pass_the_text_rule() {
        let csv = "姓名,手机号\n\u{3000}Jose\u{301},13700000001\n";
        let mut t =
            shanzhi_sheets::read_table("m.csv", csv.as_bytes(), &Limits::default()).unwrap();
        clean_cells(&mut t).unwrap();
        assert_eq!(t.rows[0].cells[0], "Jos\u{e9}");
        let bad = "姓名,手机号\n张三,13700000001\n李\u{0}四,13700000002\n";
        let mut t =
            shanzhi_sheets::read_table("m.csv", bad.as_bytes(), &Limits::default()).unwrap();
        let e = clean_cells(&mut t).unwrap_err();
        assert_eq!(e.code(), "invalid_characters");
        assert!(e.message().contains("第3行「姓名」"), "{}", e.message());
    }

    #[test]
    fn templates_have_the_chinese_headers_and_read_back() {
        for kind in [Kind::Members, Kind::Units] {
            for format in [Format::Csv, Format::Xlsx] {
                let bytes = template(kind, format).unwrap();
                let name = kind.template_name(format);
                let table = parse(kind, &name, &bytes).unwrap();
                let headers: Vec<&str> = table.headers.iter().map(String::as_str).collect();
                assert_eq!(headers, kind.headers());
                assert_eq!(table.rows.len(), 0, "the example row is never imported");
            }
        }
        assert_eq!(format_for("a.XLSX"), Some(Format::Xlsx));
        assert_eq!(format_for("a.csv"), Some(Format::Csv));
        assert_eq!(format_for("a.txt"), None);
    }

    #[test]
    fn example_rows_are_dropped_real_rows_kept() {
        let csv = format!(
            "{}\n示例:张三,13812345678,,区林业站,樊家村,,否\n张三,13812345678,,区林业站,樊家村,林业园艺、为老服务,否\n李四,13700000001,,区林业站,樊家村,,否\n",
            MEMBER_HEADERS.join(",")
        );
        let table = parse(Kind::Members, "m.csv", csv.as_bytes()).unwrap();
        let names: Vec<&str> = table.rows.iter().map(|r| r.cells[0].as_str()).collect();
        assert_eq!(
            names,
            ["李四"],
            "the marked row and an old template's unchanged row are dropped"
        );
        // A real person called 张三 with other details is imported.
        let csv = format!(
            "{}\n张三,13900000001,,区林业站,樊家村,,否\n",
            MEMBER_HEADERS.join(",")
        );
        assert_eq!(
            parse(Kind::Members, "m.csv", csv.as_bytes())
                .unwrap()
                .rows
                .len(),
            1
        );
    }

    #[test]
    fn missing_columns_are_named() {
        let err = parse(
            Kind::Members,
            "m.csv",
            "姓名,手机号\n张三,13812345678\n".as_bytes(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "missing_columns");
        assert!(err.message().contains("所在单位"));
    }

    #[test]
    fn names_resolve_plainly_or_with_parent() {
        let mut idx = NameIndex::default();
        idx.insert("樊家村", 1);
        idx.insert("马陆镇/樊家村", 1);
        idx.insert("新村", 2);
        idx.insert("新村", 3);
        assert!(matches!(idx.find(" 樊家村 "), Found::One(1)));
        assert!(matches!(idx.find("马陆镇／樊家村"), Found::One(1)));
        assert!(matches!(idx.find("新村"), Found::Many));
        assert!(matches!(idx.find("无此村"), Found::None));
    }

    #[test]
    fn all_or_nothing_decision() {
        let mut r = Report {
            kind: "members".into(),
            total_rows: 3,
            ok_rows: 2,
            error_rows: 1,
            skipped: 0,
            pending: 0,
            inserted: 0,
            written: false,
            code: None,
            summary: String::new(),
            rows: vec![],
        };
        assert!(!decide(&mut r, Options { valid_only: false }));
        assert_eq!(r.code.as_deref(), Some("import_has_errors"));
        r.code = None;
        assert!(decide(&mut r, Options { valid_only: true }));
        r.ok_rows = 0;
        assert!(!decide(&mut r, Options { valid_only: true }));
        assert_eq!(r.code.as_deref(), Some("import_nothing_valid"));
        // A file of rows that are all registered already is not an error.
        r.code = None;
        r.error_rows = 0;
        r.skipped = 3;
        assert!(!decide(&mut r, Options::default()));
        assert!(!r.refused());
    }

    #[test]
    fn rows_waiting_for_their_unit_are_reported_only_when_written() {
        let report = |error_rows| Report {
            kind: "members".into(),
            total_rows: 2,
            ok_rows: 1,
            error_rows,
            skipped: 0,
            pending: 1,
            inserted: 0,
            written: false,
            code: None,
            summary: String::new(),
            rows: vec![pending_row(2, "张三")],
        };
        let mut r = report(0);
        assert!(decide(&mut r, Options::default()));
        assert_eq!(r.rows[0].status.label(), "待单位确认");
        assert!(r.rows[0].status.is_written());
        assert!(r.summary.contains("待单位确认 1 行"), "{}", r.summary);
        // An all-or-nothing import stopped by an error writes nothing, so nothing waits.
        let mut r = report(1);
        assert!(!decide(&mut r, Options::default()));
        assert!(r.rows.is_empty());
        assert_eq!(r.pending, 0);
    }
}
