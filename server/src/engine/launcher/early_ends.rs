//! A sandboxed step's end, told by its init before the init itself exits.
//!
//! When a step's shell ends, its init kills whatever else is left in the
//! step's namespaces, reaps it all, closes the step's output and only then
//! exits. The exit is the expensive part: the kernel tears down the init's
//! copy of the launcher's memory and the step's mounts and namespaces, and
//! the launcher hears of it (`SIGCHLD`) only after that. Nothing of the step
//! runs or writes by then, so the init says so first, on a pipe shared by
//! every init (its write end inherited by each, closed at the step's exec):
//! the launcher reports the end at once, and the teardown overlaps the
//! next step instead of delaying it. An init that is killed or fails says
//! nothing; its exit is reported when it is reaped, as before.
//!
//! A record is the request's id and the exit code: 12 bytes, below the
//! pipe's atomic write size, so records of several inits never interleave.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::libc;

const RECORD_BYTES: usize = 12;

/// The pipe: the launcher reads the first end, the inits write the second.
/// Both ends are non-blocking (a full pipe makes an init skip its record,
/// not wait) and closed at exec.
pub fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two new descriptors into `fds`, owned here.
    #[allow(unsafe_code)]
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

/// The init's record of request `id` ending with `code`, written to `fd`.
/// A failed write is left to the reaping.
pub fn tell(fd: RawFd, id: u64, code: i32) {
    let mut record = [0u8; RECORD_BYTES];
    record[..8].copy_from_slice(&id.to_le_bytes());
    record[8..].copy_from_slice(&code.to_le_bytes());
    // SAFETY: a write of a buffer we own.
    #[allow(unsafe_code)]
    unsafe {
        libc::write(fd, record.as_ptr().cast(), RECORD_BYTES);
    }
}

/// Every record waiting in the launcher's end: (request id, exit code).
pub fn read_all(fd: &OwnedFd) -> std::io::Result<Vec<(u64, i32)>> {
    let mut told = Vec::new();
    let mut buffer = [0u8; RECORD_BYTES * 64];
    loop {
        // SAFETY: a read into a buffer we own, of at most its length.
        #[allow(unsafe_code)]
        let read = unsafe { libc::read(fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len()) };
        if read < 0 {
            let error = std::io::Error::last_os_error();
            return match error.kind() {
                std::io::ErrorKind::WouldBlock => Ok(told),
                std::io::ErrorKind::Interrupted => continue,
                _ => Err(error),
            };
        }
        // Whole records only: each was written at once, and the buffer
        // holds a whole number of them.
        let read = usize::try_from(read).unwrap_or(0);
        told.extend(buffer[..read].chunks_exact(RECORD_BYTES).map(|record| {
            let mut id = [0u8; 8];
            let mut code = [0u8; 4];
            id.copy_from_slice(&record[..8]);
            code.copy_from_slice(&record[8..]);
            (u64::from_le_bytes(id), i32::from_le_bytes(code))
        }));
        if read < buffer.len() {
            return Ok(told);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn records_come_back_whole_and_in_order() {
        let (read_end, write_end) = pipe().unwrap();
        assert!(read_all(&read_end).unwrap().is_empty());
        for id in 0..200u64 {
            tell(write_end.as_raw_fd(), id, i32::try_from(id).unwrap() - 100);
        }
        let told = read_all(&read_end).unwrap();
        assert_eq!(told.len(), 200);
        assert_eq!(told[0], (0, -100));
        assert_eq!(told[199], (199, 99));
        assert!(read_all(&read_end).unwrap().is_empty());
    }
}
