//! (filled in by the dispatch work)
