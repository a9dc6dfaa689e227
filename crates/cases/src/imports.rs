//! 导入导出: bulk import of members and units from a sheet (checked at once, then run in the background by the
//! job runner), the import templates, and the ledgers (台账) as .xlsx — numbers masked unless the role may see
//! them, in which case the export is audited as a full view (`PersonalReveal`). Wraps `shanzhi_imports`; the
//! upload itself (multipart, spooling to a temporary file) is the web layer's.

use std::path::Path;

use shanzhi_domain::Code;
use shanzhi_domain::role::Action;
use shanzhi_imports::{ImportError, Kind, Options, Report, ledger};
use shanzhi_sheets::Format;
use shanzhi_store::imports::{ImportJob, LedgerFilter};

use crate::{AppError, Caller, CaseResult, Cases};

/// The use cases of imports and ledger exports.
pub struct Imports<'a>(&'a Cases);

impl Cases {
    pub fn imports(&self) -> Imports<'_> {
        Imports(self)
    }
}

/// What the caller may do on the import page: the same rules the use cases below enforce.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOffers {
    /// Upload a member sheet (and see their imports).
    pub import: bool,
    /// Upload a unit sheet.
    pub units: bool,
    /// Download the ledgers.
    pub export: bool,
    /// The ledgers carry full numbers (audited).
    pub reveal: bool,
}

/// A ledger download.
#[derive(Debug)]
pub struct Ledger {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// At most this many uploads are checked at once (each check streams the file through the sheet reader).
static CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

fn action_of(kind: Kind) -> Action {
    match kind {
        Kind::Members => Action::Import,
        Kind::Units => Action::UnitImport,
    }
}

impl Imports<'_> {
    fn store(&self) -> &shanzhi_store::Store {
        &self.0.store
    }

    /// What the import page offers; refused when the caller may neither import nor export.
    pub fn offers(&self, c: &Caller) -> CaseResult<ImportOffers> {
        c.require(Action::ImportExportView)?;
        Ok(ImportOffers {
            import: c.may(Action::Import),
            units: c.may(Action::UnitImport),
            export: c.may(Action::Export),
            reveal: c.may(Action::PersonalReveal),
        })
    }

    /// Whether the caller may import `kind` (members: the import permission; units: also the permission to
    /// register units). Handlers ask before reading an upload, so a refused caller's file is never spooled.
    pub fn check(&self, c: &Caller, kind: Kind) -> CaseResult<()> {
        c.require(action_of(kind))
    }

    /// The caller's recent imports (theirs and those in their scope), newest first; empty unless they may import.
    pub async fn recent(&self, c: &Caller, limit: i64) -> CaseResult<Vec<ImportJob>> {
        if !c.may(Action::Import) {
            return Ok(Vec::new());
        }
        Ok(self
            .store()
            .list_import_jobs(c.scope(), c.account_id(), limit)
            .await?)
    }

    /// One import with its report (its uploader and admins of the same scope; not found otherwise).
    pub async fn get(&self, c: &Caller, id: i64) -> CaseResult<ImportJob> {
        c.require(Action::Import)?;
        Ok(self
            .store()
            .get_import_job(c.scope(), c.account_id(), id)
            .await?)
    }

    /// Starts an import of the uploaded file at `file`: checks it off the async threads (a broken file is refused
    /// before anything is recorded), then records the import and its job with the file; a worker of the job
    /// runner runs it. Returns the import id. A refused caller gets `ImportError::Refused(Code::Forbidden)`.
    pub async fn start(
        &self,
        c: &Caller,
        kind: Kind,
        file_name: &str,
        file: &Path,
        opts: Options,
    ) -> Result<i64, ImportError> {
        if !c.may(action_of(kind)) {
            return Err(ImportError::Refused(Code::Forbidden));
        }
        let rows = {
            let _permit = CHECKS
                .acquire()
                .await
                .map_err(|_| ImportError::Refused(Code::Internal))?;
            let name = file_name.to_string();
            let path = file.to_path_buf();
            // Streams the spooled file through the sheet reader keeping no row: a broken or hostile file is
            // refused before anything is recorded; a worker of the job runner reads the rows.
            tokio::task::spawn_blocking(move || {
                shanzhi_imports::check(kind, &name, shanzhi_sheets::Input::File(&path))
            })
            .await
            .map_err(|_| ImportError::Refused(Code::Internal))??
        };
        shanzhi_imports::job::enqueue(
            self.store(),
            c.actor(),
            c.scope(),
            kind,
            file_name,
            file,
            rows,
            opts,
        )
        .await
    }

    /// Reads and imports a file in one go, without the job runner (the command line, as
    /// [`Caller::operator`]). Returns the row report.
    pub async fn import_file(
        &self,
        c: &Caller,
        kind: Kind,
        file_name: &str,
        source: &shanzhi_imports::Source,
        opts: Options,
    ) -> Result<Report, ImportError> {
        if !c.may(action_of(kind)) {
            return Err(ImportError::Refused(Code::Forbidden));
        }
        shanzhi_imports::import_file(
            self.store(),
            c.actor(),
            c.scope(),
            kind,
            file_name,
            source,
            opts,
        )
        .await
    }

    /// The import template of `kind` (for those who may import it).
    pub fn template(&self, c: &Caller, kind: Kind, format: Format) -> CaseResult<Vec<u8>> {
        c.require(action_of(kind))?;
        shanzhi_imports::template(kind, format).map_err(AppError::internal)
    }

    /// A ledger of the caller's scope as .xlsx: masked numbers unless the role may see them (then the export is
    /// audited as a full view).
    pub async fn ledger(&self, c: &Caller, kind: Kind, f: &LedgerFilter) -> CaseResult<Ledger> {
        c.require(Action::Export)?;
        let reveal = c.may(Action::PersonalReveal).then_some(c.actor());
        let bytes = match kind {
            Kind::Members => ledger::members_xlsx(self.store(), c.scope(), f, reveal).await,
            Kind::Units => ledger::units_xlsx(self.store(), c.scope(), f, reveal).await,
        };
        let bytes = bytes.map_err(|e| match e {
            ImportError::Store(s) => AppError::from(s),
            other => AppError::internal(other),
        })?;
        Ok(Ledger {
            file_name: ledger::file_name(kind.as_str()),
            bytes,
        })
    }
}
