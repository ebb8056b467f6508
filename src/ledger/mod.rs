//! (filled in by the ledger work)
