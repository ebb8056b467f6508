//! SQLite's memory, from the program's allocator. By default SQLite calls the C library's
//! `malloc`; on glibc the writer thread's frees of savepoint journals trimmed its arena
//! again and again, and each trim (`madvise`) flushed every core's TLB: 17 % of the
//! writer's time in a profile. Routed here, SQLite allocates like the rest of the program
//! (mimalloc in the `dialer` binary, whatever the global allocator is elsewhere).

use std::alloc::{Layout, alloc, dealloc, realloc};
use std::ffi::{c_int, c_void};
use std::sync::Once;

use rusqlite::ffi;

/// Room before each block for its size (SQLite asks for it back), keeping the block
/// 16-byte aligned, as `malloc`'s are.
const HEADER: usize = 16;
const ALIGN: usize = 16;

/// Installs the allocator once, before the first connection opens. If SQLite was already
/// initialised (it cannot be reconfigured then) it keeps its own, which is only slower.
pub(super) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: SQLITE_CONFIG_MALLOC takes a pointer to the methods and copies them
        // before returning; every method below honours SQLite's contract (8-byte aligned
        // blocks, NULL on failure, `xSize` of a block it returned).
        let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods) };
        if rc != ffi::SQLITE_OK {
            tracing::debug!("SQLite kept its own allocator (sqlite3_config returned {rc})");
        }
    });
}

fn layout(total: usize) -> Option<Layout> {
    Layout::from_size_align(total, ALIGN).ok()
}

/// SAFETY (for the callers below): `p` is NULL or a block from `x_malloc`/`x_realloc`.
unsafe fn base_of(p: *mut c_void) -> (*mut u8, usize) {
    // SAFETY: every block starts HEADER bytes after a base whose first word is its size.
    unsafe {
        let base = p.cast::<u8>().sub(HEADER);
        (base, base.cast::<usize>().read())
    }
}

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    let Some(l) = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_add(HEADER))
        .and_then(layout)
    else {
        return std::ptr::null_mut();
    };
    // SAFETY: `l` has a non-zero size (HEADER at least).
    unsafe {
        let base = alloc(l);
        if base.is_null() {
            return std::ptr::null_mut();
        }
        base.cast::<usize>().write(l.size());
        base.add(HEADER).cast()
    }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: `p` came from `x_malloc`/`x_realloc`, which recorded the layout's size.
    unsafe {
        let (base, size) = base_of(p);
        dealloc(base, Layout::from_size_align_unchecked(size, ALIGN));
    }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    if p.is_null() {
        // SAFETY: the same contract as `x_malloc`.
        return unsafe { x_malloc(n) };
    }
    let Some(new) = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_add(HEADER))
        .and_then(layout)
    else {
        return std::ptr::null_mut();
    };
    // SAFETY: `p` is a live block of ours; on failure it is left as it was, as SQLite
    // expects of realloc.
    unsafe {
        let (base, size) = base_of(p);
        let moved = realloc(
            base,
            Layout::from_size_align_unchecked(size, ALIGN),
            new.size(),
        );
        if moved.is_null() {
            return std::ptr::null_mut();
        }
        moved.cast::<usize>().write(new.size());
        moved.add(HEADER).cast()
    }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    if p.is_null() {
        return 0;
    }
    // SAFETY: `p` is a live block of ours.
    let (_, size) = unsafe { base_of(p) };
    c_int::try_from(size - HEADER).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    n.saturating_add(7) & !7
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_size_and_contents_through_realloc() {
        // SAFETY: the blocks are used as SQLite would: written within their size, grown,
        // shrunk and freed once.
        unsafe {
            let p = x_malloc(10).cast::<u8>();
            assert!(!p.is_null());
            assert_eq!(p as usize % 8, 0);
            assert_eq!(x_size(p.cast()), 10);
            p.copy_from(b"0123456789".as_ptr(), 10);
            let q = x_realloc(p.cast(), 5000).cast::<u8>();
            assert_eq!(x_size(q.cast()), 5000);
            assert_eq!(std::slice::from_raw_parts(q, 10), b"0123456789");
            let r = x_realloc(q.cast(), 3).cast::<u8>();
            assert_eq!(std::slice::from_raw_parts(r, 3), b"012");
            x_free(r.cast());
            x_free(std::ptr::null_mut());
            assert!(x_malloc(-1).is_null());
            assert_eq!(x_roundup(9), 16);
        }
    }

    #[test]
    fn sqlite_runs_on_it() {
        install();
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES (hex(randomblob(5000)))")
            .unwrap();
        let n: i64 = conn
            .query_row("SELECT length(v) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 10000);
    }
}
