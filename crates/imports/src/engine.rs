//! The import pipeline. A blocking thread reads the sheet ([`crate::scan`]) and hands rows over in batches of
//! [`BATCH`] through a channel of two batches, so at most a few batches are in memory at a time; the async side
//! checks them.
//!
//! 1. First pass: every row is checked (duplicates within the file by the keys seen so far), the good ones of each
//!    batch against the database (registered already: skipped; a conflicting ID card: error). Only the report is
//!    kept: bad and skipped rows with their reasons, and the counters. Then the all-or-nothing decision.
//! 2. Second pass, only when rows are to be written: the file is read again and every row that the first pass
//!    found good and new is checked again (same lookups, same answer) and staged, as the store's rows, one JSON
//!    line each, in a temporary file only this process can read (0600, deleted at the end). If the second pass
//!    does not give exactly the rows the first one counted, nothing is written.
//! 3. The write: the staged rows are handed, batch by batch, to the store's streamed write, which inserts them in
//!    one transaction together with the import's outcome. The transaction lasts as long as the inserts, not as
//!    long as the reading of the sheet: on SQLite it holds the only writer, which the job's heartbeat needs too.

use std::collections::HashSet;
use std::ops::ControlFlow;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};

use shanzhi_domain::role::Scope;
use shanzhi_sheets::{Row, RowSink, SheetError};
use shanzhi_store::imports::ImportFinish;
use shanzhi_store::{Actor, Store, StoreError, StoreResult};
use tokio::sync::mpsc;

use crate::{
    BATCH, ForJob, ImportError, Kind, Options, Report, RowReport, RowStatus, Source, decide,
    members, outcome_of, units, written,
};

/// What the reading thread hands over.
pub(crate) enum Piece {
    Headers(Vec<String>),
    Rows(Vec<Row>),
    /// Every row was read.
    End,
    Failed(SheetError),
}

/// Starts reading `source` on a blocking thread. Reading stops when the receiver is dropped.
pub(crate) fn read(kind: Kind, file_name: &str, source: &Source) -> mpsc::Receiver<Piece> {
    let (tx, rx) = mpsc::channel(2);
    let (name, source) = (file_name.to_string(), source.clone());
    tokio::task::spawn_blocking(move || {
        let mut sink = Sender {
            tx: &tx,
            batch: Vec::with_capacity(BATCH),
        };
        let last = match crate::scan(kind, &name, source.input(), &mut sink) {
            Ok(()) => {
                let rows = std::mem::take(&mut sink.batch);
                if !rows.is_empty() && tx.blocking_send(Piece::Rows(rows)).is_err() {
                    return;
                }
                Piece::End
            }
            Err(e) => Piece::Failed(e),
        };
        let _ = tx.blocking_send(last);
    });
    rx
}

struct Sender<'a> {
    tx: &'a mpsc::Sender<Piece>,
    batch: Vec<Row>,
}

impl RowSink for Sender<'_> {
    fn headers(&mut self, headers: &[String]) -> Result<(), SheetError> {
        // A receiver that is gone stops the reading at the first row.
        let _ = self.tx.blocking_send(Piece::Headers(headers.to_vec()));
        Ok(())
    }
    fn row(&mut self, row: Row) -> Result<ControlFlow<()>, SheetError> {
        self.batch.push(row);
        if self.batch.len() >= BATCH {
            let rows = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
            if self.tx.blocking_send(Piece::Rows(rows)).is_err() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}

fn interrupted() -> ImportError {
    ImportError::Store(StoreError::Other("读取文件的任务中断".into()))
}

/// One kind of import: its row checks, the check against the database, and the write.
pub(crate) trait Importer: Sized + Sync {
    /// A row that passed every check.
    type Good: Send;
    /// The store's row type (staged as JSON between the second pass and the write).
    type Row: Send + Serialize + DeserializeOwned;
    /// Keys seen so far in the file (to report duplicates within it).
    type Seen: Default + Send;

    const KIND: Kind;

    /// Column positions and lookups for a file with these headers (refuses a scope that may not import this kind).
    fn prepare(
        store: &Store,
        scope: &Scope,
        headers: &[String],
    ) -> impl Future<Output = Result<Self, ImportError>> + Send;

    /// Checks one row; `seen` in the first pass only.
    fn check(&self, row: &Row, seen: Option<&mut Self::Seen>) -> Result<Self::Good, RowReport>;

    /// Sorts good rows against the database: the number of rows to write, and the reports of the others.
    fn against_db(
        &self,
        store: &Store,
        goods: Vec<Self::Good>,
    ) -> impl Future<Output = Result<(usize, Vec<RowReport>), ImportError>> + Send;

    fn into_row(good: Self::Good) -> Self::Row;

    /// Writes the rows of `rows` in one transaction; returns (rows given, rows new).
    fn write(
        store: &Store,
        actor: &Actor,
        rows: &mut Staged<Self::Row>,
        finish: Option<&ImportFinish<'_>>,
    ) -> impl Future<Output = StoreResult<(usize, usize)>> + Send;
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn import(
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
    match kind {
        Kind::Members => {
            run::<members::Members>(store, actor, scope, file_name, source, opts, progress, job)
                .await
        }
        Kind::Units => {
            run::<units::Units>(store, actor, scope, file_name, source, opts, progress, job).await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run<I: Importer>(
    store: &Store,
    actor: &Actor,
    scope: &Scope,
    file_name: &str,
    source: &Source,
    opts: Options,
    progress: &(dyn Fn(usize) + Send + Sync),
    job: Option<ForJob>,
) -> Result<(Report, bool), ImportError> {
    let mut rx = read(I::KIND, file_name, source);
    let headers = match rx.recv().await {
        Some(Piece::Headers(h)) => h,
        Some(Piece::Failed(e)) => return Err(ImportError::Sheet(e)),
        _ => return Err(interrupted()),
    };
    let importer = I::prepare(store, scope, &headers).await?;
    drop(headers);

    // First pass: check every row, keep only the report.
    let mut report = Report {
        kind: I::KIND.as_str().into(),
        total_rows: 0,
        ok_rows: 0,
        error_rows: 0,
        skipped: 0,
        pending: 0,
        inserted: 0,
        written: false,
        code: None,
        summary: String::new(),
        rows: Vec::new(),
    };
    let mut seen = I::Seen::default();
    progress(0);
    loop {
        let rows = match rx.recv().await {
            Some(Piece::Rows(rows)) => rows,
            Some(Piece::End) => break,
            Some(Piece::Failed(e)) => return Err(ImportError::Sheet(e)),
            Some(Piece::Headers(_)) | None => return Err(interrupted()),
        };
        report.total_rows += rows.len();
        let mut goods = Vec::with_capacity(rows.len());
        for row in &rows {
            match importer.check(row, Some(&mut seen)) {
                Ok(good) => goods.push(good),
                Err(bad) => {
                    report.error_rows += 1;
                    report.rows.push(bad);
                }
            }
        }
        drop(rows);
        let (ok, others) = importer.against_db(store, goods).await?;
        report.ok_rows += ok;
        for r in others {
            match r.status {
                RowStatus::Skipped => report.skipped += 1,
                RowStatus::Error => report.error_rows += 1,
                RowStatus::Pending => report.pending += 1,
                RowStatus::Ok => {}
            }
            report.rows.push(r);
        }
        progress(report.total_rows);
    }
    drop(rx);
    drop(seen);

    if !decide(&mut report, opts) {
        return Ok((report, false));
    }

    // Second pass: stage the rows the first pass found good and new.
    let n = report.ok_rows;
    let skip: HashSet<usize> = report
        .rows
        .iter()
        .filter(|r| !r.status.is_written())
        .map(|r| r.line)
        .collect();
    let staged = stage(&importer, read(I::KIND, file_name, source), skip, n).await?;

    // The write, in one transaction with the outcome.
    let outcome = |inserted: usize| {
        let mut r = report.clone();
        written(&mut r, n, inserted);
        outcome_of(&r)
    };
    let finish = job.map(|j| ImportFinish {
        import_id: j.import_id,
        lease: j.lease,
        outcome: &outcome,
    });
    let mut rows = Staged::<I::Row>::open(&staged).await?;
    let (_, inserted) = I::write(store, actor, &mut rows, finish.as_ref()).await?;
    drop(rows);
    drop(staged);
    let recorded = finish.is_some();
    // Rows someone else registered meanwhile were skipped by the database.
    written(&mut report, n, inserted);
    Ok((report, recorded))
}

fn staging_error(e: std::io::Error) -> ImportError {
    ImportError::Store(StoreError::Other(format!("导入暂存文件: {e}")))
}

/// The second pass: every row not in `skip` is checked again and written to a staging file as a JSON line.
async fn stage<I: Importer>(
    importer: &I,
    mut rx: mpsc::Receiver<Piece>,
    skip: HashSet<usize>,
    expected: usize,
) -> Result<tempfile::NamedTempFile, ImportError> {
    let staged = tempfile::NamedTempFile::new().map_err(staging_error)?;
    let mut out = BufWriter::new(tokio::fs::File::from_std(
        staged.reopen().map_err(staging_error)?,
    ));
    let mut given = 0usize;
    loop {
        let rows = match rx.recv().await {
            Some(Piece::Rows(rows)) => rows,
            Some(Piece::Headers(_)) => continue,
            Some(Piece::End) => break,
            Some(Piece::Failed(e)) => return Err(ImportError::Store(disagrees(e.code()))),
            None => return Err(interrupted()),
        };
        let mut lines = Vec::new();
        for row in &rows {
            if skip.contains(&row.line) {
                continue;
            }
            let good = importer
                .check(row, None)
                .map_err(|_| ImportError::Store(disagrees("行检查")))?;
            serde_json::to_writer(&mut lines, &I::into_row(good))
                .map_err(|e| ImportError::Store(StoreError::Other(e.to_string())))?;
            lines.push(b'\n');
            given += 1;
        }
        out.write_all(&lines).await.map_err(staging_error)?;
    }
    out.flush().await.map_err(staging_error)?;
    if given != expected {
        return Err(ImportError::Store(disagrees("行数")));
    }
    Ok(staged)
}

/// Staged rows read back batch by batch, as the store's source of rows to write.
pub(crate) struct Staged<T> {
    lines: tokio::io::Lines<BufReader<tokio::fs::File>>,
    _rows: std::marker::PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send> Staged<T> {
    async fn open(file: &tempfile::NamedTempFile) -> Result<Self, ImportError> {
        let f = tokio::fs::File::open(file.path())
            .await
            .map_err(staging_error)?;
        Ok(Staged {
            lines: BufReader::new(f).lines(),
            _rows: std::marker::PhantomData,
        })
    }
}

impl<T: DeserializeOwned + Send> shanzhi_store::bulk::RowBatches<T> for Staged<T> {
    async fn next_batch(&mut self) -> StoreResult<Option<Vec<T>>> {
        let mut batch = Vec::new();
        while batch.len() < BATCH {
            let line = self
                .lines
                .next_line()
                .await
                .map_err(|e| StoreError::Other(format!("导入暂存文件: {e}")))?;
            let Some(line) = line else { break };
            batch.push(serde_json::from_str(&line).map_err(|e| StoreError::Other(e.to_string()))?);
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}

fn disagrees(what: &str) -> StoreError {
    StoreError::Other(format!("导入的第二遍读取与第一遍不一致({what})"))
}
