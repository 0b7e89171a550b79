//! A `run:` step's place on this machine: its working directory and,
//! beside it, its `$KILN_OUTPUT` file (`work/RUN/STEP-ATTEMPT` and
//! `….out`). Made fresh, or taken from this process's spares; afterwards
//! the outputs are read back — without following a link, blocking on a
//! FIFO or reading past the cap — and the place is removed, or kept as a
//! spare when the step left it exactly as it got it.
//!
//! Why spares: on ext4 without a journal, the inode allocator passes over
//! every inode deleted in the last minutes (it avoids reusing them soon)
//! and checks each one, so with a directory and a file made and deleted
//! per step, every new inode cost more: a thousand no-op steps paid
//! ~0.3 ms each for their place. A spare costs two renames.
//!
//! A place is kept only where nothing can carry over from one step to
//! the next through it:
//! - Nothing of the step holds it any more: the launcher reported its
//!   exit, which it does once the step's init, PID 1 of the step's
//!   namespace, has been reaped, and the kernel reaps every other process
//!   of the namespace first. A step stopped without that report (a lost
//!   launcher, a start that timed out) leaves its place to be removed. No
//!   other step holds a descriptor of it either: descriptors pass only
//!   over Unix sockets, steps share no writable directory to name one in,
//!   and abstract ones stay in their step only where Landlock scopes them.
//!   So spares are kept only for steps started by the sandboxed launcher
//!   on a kernel with the scopes ([`Places::new`] is told so by the
//!   sandbox).
//! - The step left it as it got it. The directory is empty and its change
//!   time is the one noted just before the step started: every change of
//!   mode, times, extended attributes (ACLs included), inode flags or
//!   entries sets it, and no step can set it back. The file, which the
//!   step may write, is a regular file with one link and the same owner,
//!   mode, extended attributes (names and values) and inode flags
//!   (`chattr`'s and XFS's); it is emptied and its times set to now.

use std::ffi::c_char;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use kiln_core::engine::outputs::MAX_OUTPUTS_BYTES;
use nix::fcntl::OFlag;
use nix::libc;

/// Most spares one process keeps: a few per concurrent step is enough.
const SPARES_KEPT: usize = 64;

/// The name of a process's spares' directory, below the work directory.
const SPARES_PREFIX: &str = ".spare-";

/// Another process's spares untouched this long are left over from it.
const SPARES_QUIET: Duration = Duration::from_secs(60);

/// This process's step places.
#[derive(Debug)]
pub struct Places {
    /// Where spares wait, and the user owning every place given to a step;
    /// `None` where places are never kept.
    reuse: Option<Reuse>,
    spares: Mutex<Vec<Spare>>,
    named: AtomicU64,
}

#[derive(Debug)]
struct Reuse {
    dir: PathBuf,
    owner: (u32, u32),
}

/// One step's place.
#[derive(Debug)]
pub struct Place {
    pub workdir: PathBuf,
    pub output: PathBuf,
    /// As it was when its step started (see [`Place::note_start`]); `None`:
    /// never kept.
    at_start: Option<Marks>,
}

#[derive(Debug)]
struct Spare {
    workdir: PathBuf,
    output: PathBuf,
}

impl Place {
    /// Notes the place as its step gets it, after it was handed over (a
    /// change of owner is a change too). A place whose marks cannot be
    /// read is never kept.
    pub fn note_start(&mut self) {
        self.at_start = Marks::of(&self.workdir, &self.output).ok();
    }

    /// The step's end was not confirmed: its place is removed, not kept.
    pub fn not_to_keep(&mut self) {
        self.at_start = None;
    }
}

/// What a step could change about its place besides its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marks {
    workdir: Mark,
    output: Mark,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Mark {
    owner: (u32, u32),
    mode: u32,
    /// Change time (s, ns): the directory's only (the step writes the file).
    changed: Option<(i64, i64)>,
    /// Its extended attributes, names and values.
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// Its inode flags (`chattr`), where the file system has them.
    flags: Option<libc::c_long>,
    /// Its extended flags, extent size hints and project (XFS's `fsxattr`,
    /// ext4's too), where the file system has them.
    fs_attributes: Option<[u32; 4]>,
}

impl Places {
    /// Places below `work_dir`; with `reuse_owner` (the host user of every
    /// step, when the sandbox makes reuse safe) spares are kept.
    pub fn new(work_dir: &Path, reuse_owner: Option<(u32, u32)>) -> Places {
        let reuse = reuse_owner.map(|owner| Reuse {
            dir: work_dir.join(format!(
                "{SPARES_PREFIX}{}-{:016x}",
                std::process::id(),
                rand::random::<u64>()
            )),
            owner,
        });
        Places {
            reuse,
            spares: Mutex::new(Vec::new()),
            named: AtomicU64::new(0),
        }
    }

    fn spares(&self) -> std::sync::MutexGuard<'_, Vec<Spare>> {
        self.spares.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes the place of one attempt below `run_dir` (blocking): a spare
    /// when there is one, else a fresh, empty directory and file (0700 and
    /// 0600: local users read neither). Whatever a crashed earlier try of
    /// this attempt left goes first; a run directory swept away as empty
    /// meanwhile (see `leftovers`) is made again.
    pub fn make(
        &self,
        run_dir: &Path,
        workdir: PathBuf,
        output: PathBuf,
    ) -> std::io::Result<Place> {
        let make_run_dir = || {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o711)
                .create(run_dir)
        };
        make_run_dir()?;
        match std::fs::remove_dir_all(&workdir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        let _ = std::fs::remove_file(&output);
        let spare = self.spares().pop();
        if let Some(spare) = spare {
            match reuse(&spare, &workdir, &output) {
                Ok(()) => {
                    return Ok(Place {
                        workdir,
                        output,
                        at_start: None,
                    });
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    // Its spares swept away by another process (see
                    // `remove_others_spares`), or the run directory gone.
                    self.spares().clear();
                    make_run_dir()?;
                }
                Err(_) => {}
            }
        }
        let mut private = std::fs::DirBuilder::new();
        private.mode(0o700);
        match private.create(&workdir) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                make_run_dir()?;
                private.create(&workdir)?;
            }
            other => other?,
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&output)?;
        Ok(Place {
            workdir,
            output,
            at_start: None,
        })
    }

    /// Ends a place after its step (blocking): kept as a spare when that is
    /// safe and the step left it as made, otherwise removed. Never fails:
    /// what cannot be removed is only worth a warning.
    pub fn release(&self, place: Place) {
        if let Some(reuse) = &self.reuse
            && let Some(at_start) = &place.at_start
            && self.spares().len() < SPARES_KEPT
            && as_it_started(&place, at_start, reuse.owner).unwrap_or(false)
            && let Some(spare) = self.keep(reuse, &place)
        {
            self.spares().push(spare);
            return;
        }
        remove(&place.workdir, &place.output);
    }

    /// Moves an emptied place among the spares.
    fn keep(&self, reuse: &Reuse, place: &Place) -> Option<Spare> {
        let n = self.named.fetch_add(1, Ordering::Relaxed);
        let workdir = reuse.dir.join(n.to_string());
        let output = reuse.dir.join(format!("{n}.out"));
        let mut moved = std::fs::rename(&place.workdir, &workdir);
        if matches!(&moved, Err(e) if e.kind() == std::io::ErrorKind::NotFound) {
            // Not made yet, or swept away by another process (harmless).
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&reuse.dir)
                .ok()?;
            moved = std::fs::rename(&place.workdir, &workdir);
        }
        moved.ok()?;
        if std::fs::rename(&place.output, &output).is_err() {
            let _ = std::fs::remove_dir(&workdir);
            return None;
        }
        Some(Spare { workdir, output })
    }

    /// Removes the spares of processes that are gone (a process keeps its
    /// own while it lives, idle or not).
    pub fn remove_others_spares(&self, work_dir: &Path) {
        let own = self.reuse.as_ref().map(|reuse| reuse.dir.as_path());
        let Ok(entries) = std::fs::read_dir(work_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.strip_prefix(SPARES_PREFIX))
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<i32>().ok())
            else {
                continue;
            };
            let path = entry.path();
            // A live process of that id, here or in another PID namespace
            // sharing this directory, keeps them (at worst a few empty
            // places left over).
            let gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
                == Err(nix::errno::Errno::ESRCH);
            if gone
                && Some(path.as_path()) != own
                && super::leftovers::unchanged_for(&path, SPARES_QUIET)
            {
                let _ = std::fs::remove_dir_all(&path);
            }
        }
    }
}

/// `spare` moved to `workdir` and `output`; what could not be moved is
/// removed.
fn reuse(spare: &Spare, workdir: &Path, output: &Path) -> std::io::Result<()> {
    if let Err(error) = std::fs::rename(&spare.workdir, workdir) {
        remove(&spare.workdir, &spare.output);
        return Err(error);
    }
    if let Err(error) = std::fs::rename(&spare.output, output) {
        remove(workdir, &spare.output);
        return Err(error);
    }
    Ok(())
}

/// Deletes a place's directory and output file.
pub fn remove(workdir: &Path, output: &Path) {
    if let Err(error) = std::fs::remove_dir_all(workdir)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(dir = %workdir.display(), %error, "could not remove a step's directory");
    }
    let _ = std::fs::remove_file(output);
}

/// Whether the step left its place as it got it; if so the output file
/// is emptied and both get the current time. Called once every process
/// of the step is gone.
fn as_it_started(place: &Place, at_start: &Marks, owner: (u32, u32)) -> std::io::Result<bool> {
    let workdir = open(&place.workdir, false, OFlag::O_DIRECTORY)?;
    let output = open(&place.output, true, OFlag::O_NONBLOCK)?;
    let (dir_meta, out_meta) = (workdir.metadata()?, output.metadata()?);
    if !dir_meta.is_dir()
        || !out_meta.is_file()
        || out_meta.nlink() != 1
        || (dir_meta.uid(), dir_meta.gid()) != owner
        || std::fs::read_dir(&place.workdir)?.next().is_some()
    {
        return Ok(false);
    }
    let now = Marks {
        workdir: Mark::of(&workdir, true)?,
        output: Mark::of(&output, false)?,
    };
    if now != *at_start {
        return Ok(false);
    }
    output.set_len(0)?;
    let times = std::fs::FileTimes::new()
        .set_accessed(SystemTime::now())
        .set_modified(SystemTime::now());
    output.set_times(times)?;
    workdir.set_times(times)?;
    Ok(true)
}

/// Opens `path` itself, not what a link there points at (O_NOFOLLOW).
fn open(path: &Path, write: bool, flags: OFlag) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags((flags | OFlag::O_NOFOLLOW).bits())
        .open(path)
}

impl Marks {
    fn of(workdir: &Path, output: &Path) -> std::io::Result<Marks> {
        Ok(Marks {
            workdir: Mark::of(&open(workdir, false, OFlag::O_DIRECTORY)?, true)?,
            output: Mark::of(&open(output, false, OFlag::O_NONBLOCK)?, false)?,
        })
    }
}

/// `FS_IOC_FSGETXATTR` (`_IOR('X', 31, struct fsxattr)`), which the libc
/// crate does not name.
const FS_IOC_FSGETXATTR: libc::Ioctl = 0x801C_581F;

/// The kernel's `struct fsxattr`.
#[repr(C)]
#[derive(Default)]
struct FsXattr {
    xflags: u32,
    extsize: u32,
    nextents: u32,
    projid: u32,
    cowextsize: u32,
    pad: [u8; 8],
}

impl Mark {
    /// `file`'s mark; with `changed`, its change time too.
    #[allow(unsafe_code)]
    fn of(file: &File, changed: bool) -> std::io::Result<Mark> {
        let fd = file.as_raw_fd();
        let meta = file.metadata()?;
        let mut flags: libc::c_long = 0;
        // SAFETY: reads `fd`'s inode flags into `flags` (the kernel writes an int).
        let got_flags = unsafe { libc::ioctl(fd, libc::FS_IOC_GETFLAGS, &mut flags) } == 0;
        let mut fs = FsXattr::default();
        // SAFETY: reads `fd`'s `struct fsxattr` into `fs`, of that layout.
        let got_fs = unsafe { libc::ioctl(fd, FS_IOC_FSGETXATTR, &mut fs) } == 0;
        Ok(Mark {
            owner: (meta.uid(), meta.gid()),
            mode: meta.mode() & 0o7777,
            changed: changed.then(|| (meta.ctime(), meta.ctime_nsec())),
            xattrs: xattrs(fd)?,
            flags: got_flags.then_some(flags),
            fs_attributes: got_fs.then_some([fs.xflags, fs.extsize, fs.projid, fs.cowextsize]),
        })
    }
}

/// `fd`'s extended attributes, names and values (none where the file
/// system has none).
#[allow(unsafe_code)]
fn xattrs(fd: i32) -> std::io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut names = vec![0u8; 1024];
    loop {
        // SAFETY: lists `fd`'s attribute names into `names`, at most its length.
        let n = unsafe { libc::flistxattr(fd, names.as_mut_ptr().cast::<c_char>(), names.len()) };
        if let Ok(n) = usize::try_from(n) {
            names.truncate(n);
            break;
        }
        match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::ERANGE) if names.len() < 1 << 16 => names.resize(names.len() * 4, 0),
            Some(libc::ENOTSUP) => return Ok(Vec::new()),
            _ => return Err(std::io::Error::last_os_error()),
        }
    }
    let mut out = Vec::new();
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let cname = std::ffi::CString::new(name).map_err(std::io::Error::other)?;
        let mut value = vec![0u8; 1 << 16];
        // SAFETY: reads the value of a NUL-terminated name into `value`, at most its length.
        let n =
            unsafe { libc::fgetxattr(fd, cname.as_ptr(), value.as_mut_ptr().cast(), value.len()) };
        let n = usize::try_from(n).map_err(|_| std::io::Error::last_os_error())?;
        value.truncate(n);
        out.push((name.to_vec(), value));
    }
    Ok(out)
}

/// The `$KILN_OUTPUT` file, as the step left it: a regular file read
/// without following a link (a step could point it at Kiln's own files)
/// and without blocking (a FIFO), never more than the outputs cap + 1 byte
/// (so the cap is noticed without holding a huge file in memory).
pub fn read_outputs(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = match open(path, false, OFlag::O_NONBLOCK) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            return Err(std::io::Error::other("it is a symbolic link"));
        }
        other => other?,
    };
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_OUTPUTS_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests;
