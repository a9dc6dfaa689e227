//! The import pipeline. A blocking thread reads the sheet ([`crate::scan`]) and hands rows over in batches of
//! [`BATCH`] through a channel of two batches, so at most a few batches are in memory at a time; the async side
//! checks them.
//!
//! 1. First pass: every row is checked (duplicates within the file by the keys seen so far), the good ones of each
//!    batch against the database (registered already: skipped; a conflicting ID card: error). Only the report is
//!    kept: bad and skipped rows with their reasons, and the counters. Then the all-or-nothing decision.
//! 2. Second pass, only when rows are to be written: the file is read again and every row that the first pass
//!    found good and new is checked again (same lookups, same answer) and handed, batch by batch, to the store's
//!    streamed write, which inserts them in one transaction together with the import's outcome. If the second
//!    pass does not give exactly the rows the first one counted, the write is rolled back.

use std::collections::HashSet;
use std::ops::ControlFlow;

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
    /// The store's row type.
    type Row: Send;
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
        rows: &mut SecondPass<'_, Self>,
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

    // Second pass: write the rows the first pass found good and new.
    let n = report.ok_rows;
    let skip: HashSet<usize> = report.rows.iter().map(|r| r.line).collect();
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
    let mut rows = SecondPass {
        rx: read(I::KIND, file_name, source),
        importer: &importer,
        skip,
        expected: n,
        given: 0,
    };
    let (_, inserted) = I::write(store, actor, &mut rows, finish.as_ref()).await?;
    drop(rows);
    let recorded = finish.is_some();
    // Rows someone else registered meanwhile were skipped by the database.
    written(&mut report, n, inserted);
    Ok((report, recorded))
}

/// The second pass over the file, as the store's source of rows to write.
pub(crate) struct SecondPass<'a, I: Importer> {
    rx: mpsc::Receiver<Piece>,
    importer: &'a I,
    /// Lines not to write: bad or skipped in the first pass.
    skip: HashSet<usize>,
    expected: usize,
    given: usize,
}

fn disagrees(what: &str) -> StoreError {
    StoreError::Other(format!("导入的第二遍读取与第一遍不一致({what})"))
}

impl<I: Importer> shanzhi_store::bulk::RowBatches<I::Row> for SecondPass<'_, I> {
    async fn next_batch(&mut self) -> StoreResult<Option<Vec<I::Row>>> {
        loop {
            let rows = match self.rx.recv().await {
                Some(Piece::Rows(rows)) => rows,
                Some(Piece::Headers(_)) => continue,
                Some(Piece::End) if self.given == self.expected => return Ok(None),
                Some(Piece::End) => return Err(disagrees("行数")),
                Some(Piece::Failed(e)) => return Err(disagrees(e.code())),
                None => return Err(StoreError::Other("读取文件的任务中断".into())),
            };
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                if self.skip.contains(&row.line) {
                    continue;
                }
                match self.importer.check(row, None) {
                    Ok(good) => out.push(I::into_row(good)),
                    Err(_) => return Err(disagrees("行检查")),
                }
            }
            self.given += out.len();
            if self.given > self.expected {
                return Err(disagrees("行数"));
            }
            if !out.is_empty() {
                return Ok(Some(out));
            }
        }
    }
}
