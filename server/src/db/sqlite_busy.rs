//! How a SQLite connection waits for the write lock. SQLite's own handler
//! (what `busy_timeout` installs) sleeps in growing steps, up to 100 ms at
//! a time: a writer that found the lock taken often slept on long after it
//! was free, which showed as a tail of 100-200 ms on writes that take a
//! millisecond (schedule firings, other users' writes during a large run).
//! This one checks again after a quarter of a millisecond at first, then
//! every millisecond, for about five seconds in all.

use std::os::raw::{c_int, c_void};
use std::time::Duration;

use sqlx::sqlite::SqliteConnection;

/// Tries before giving up with "database is locked": 20 × 0.25 ms, then
/// 1 ms each, about five seconds.
const TRIES: c_int = 5_000;

extern "C" fn wait_briefly(_: *mut c_void, tries: c_int) -> c_int {
    if tries >= TRIES {
        return 0;
    }
    // On sqlx's worker thread for this connection, where blocking is the
    // rule.
    std::thread::sleep(Duration::from_micros(if tries < 20 { 250 } else { 1_000 }));
    1
}

/// Replaces `connection`'s busy handler with [`wait_briefly`].
pub async fn install(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let raw = handle.as_raw_handle();
    // SAFETY: the handle is this open connection's, locked for us while
    // the handler is set; the handler is a plain function that outlives it
    // and takes no data.
    #[allow(unsafe_code)]
    let code = unsafe {
        libsqlite3_sys::sqlite3_busy_handler(raw.as_ptr(), Some(wait_briefly), std::ptr::null_mut())
    };
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!(
            "setting SQLite's busy handler failed ({code})"
        )))
    }
}
