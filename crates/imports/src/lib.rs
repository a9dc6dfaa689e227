//! Bulk import of members and units from .csv/.xlsx, and ledger (台账) exports. Used by the CLI and the web.
