//! Gathering a finished step's artifacts into a tar file, from a directory
//! the step's own user wrote: every directory and file is opened relative
//! to its parent's descriptor without following links, so a symbolic link
//! (or a directory swapped for one) never leads Kiln out of the checkout;
//! files are opened without blocking (a FIFO) and checked to be regular
//! after opening. Links and special files are listed as skipped. Bounded in
//! files, bytes, entries looked at and depth.

use std::ffi::CString;
use std::fs::File;
use std::io::{BufWriter, Read};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use kiln_core::pipeline::artifacts::{MAX_DEPTH, MAX_FILES, MAX_WALKED, Selection};
use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag, open, openat};
use nix::sys::stat::{Mode, SFlag, fstatat};

/// What was saved, and what was left out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    pub files: usize,
    pub bytes: u64,
    pub skipped: Vec<String>,
}

/// How much may be saved, and the limit to name when it is passed.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub bytes: u64,
    pub limit: &'static str,
}

/// Writes the files of `root` that `selection` picks into a new tar file
/// at `archive` (mode 0600); `Err` says, for the step's log, why the
/// artifacts could not be saved.
pub fn collect(
    root: &Path,
    selection: &Selection,
    budget: Budget,
    archive: &Path,
) -> Result<Collected, String> {
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(archive)
        .map_err(|e| format!("the archive could not be made: {e}"))?;
    let root_fd = open(
        root,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("the checkout could not be opened: {e}"))?;
    let mut walk = Walk {
        selection,
        budget,
        builder: tar::Builder::new(BufWriter::new(out)),
        found: Collected::default(),
        walked: 0,
    };
    walk.directory(&root_fd, "", 0)?;
    // Not synced: the archive is read back at once and then removed; the
    // storage it is copied to is what keeps it.
    walk.builder
        .into_inner()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .map_err(|e| format!("the archive could not be written: {e}"))?;
    Ok(walk.found)
}

struct Walk<'a> {
    selection: &'a Selection,
    budget: Budget,
    builder: tar::Builder<BufWriter<File>>,
    found: Collected,
    walked: usize,
}

impl Walk<'_> {
    fn skip(&mut self, path: &str, why: &str) {
        // The list is for the log: a step making a million links gets a
        // few lines, not a million; a name is quoted with its control
        // characters escaped, so it cannot forge a line of Kiln's.
        if self.found.skipped.len() < 100 {
            self.found.skipped.push(format!("{path:?}: {why}"));
        }
    }

    fn directory(&mut self, fd: &OwnedFd, at: &str, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            self.skip(at, "deeper than the search goes");
            return Ok(());
        }
        let listing = fd
            .try_clone()
            .map_err(|e| format!("{at}: could not be listed: {e}"))
            .and_then(|fd| {
                Dir::from_fd(fd).map_err(|e| format!("{at}: could not be listed: {e}"))
            })?;
        // Counted while read: a directory of millions of names is refused
        // before they are all held.
        let mut names: Vec<CString> = Vec::new();
        for entry in listing.into_iter().filter_map(Result::ok) {
            let name = entry.file_name();
            if name.to_bytes() == b"." || name.to_bytes() == b".." {
                continue;
            }
            self.walked += 1;
            if self.walked > MAX_WALKED {
                return Err(format!(
                    "the checkout has more than {MAX_WALKED} files and directories to look through; name the artifacts' directories more narrowly"
                ));
            }
            names.push(name.to_owned());
        }
        names.sort();
        for name in names {
            let Ok(text) = name.to_str() else {
                self.skip(&name.to_string_lossy(), "its name is not UTF-8");
                continue;
            };
            let path = if at.is_empty() {
                text.to_owned()
            } else {
                format!("{at}/{text}")
            };
            let Ok(stat) = fstatat(fd, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
                continue;
            };
            let kind = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
            if kind == SFlag::S_IFDIR {
                if !self.selection.may_hold(&path) {
                    continue;
                }
                match openat(
                    fd,
                    name.as_c_str(),
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                ) {
                    Ok(sub) => self.directory(&sub, &path, depth + 1)?,
                    Err(_) => self.skip(&path, "the directory could not be opened"),
                }
            } else if self.selection.selects(&path) {
                if kind == SFlag::S_IFREG {
                    self.file(fd, &name, &path)?;
                } else {
                    self.skip(
                        &path,
                        "a symbolic link or special file (only regular files are saved)",
                    );
                }
            }
        }
        Ok(())
    }

    fn file(&mut self, dir: &OwnedFd, name: &CString, path: &str) -> Result<(), String> {
        let opened = openat(
            dir,
            name.as_c_str(),
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        );
        let Ok(fd) = opened else {
            self.skip(path, "could not be opened");
            return Ok(());
        };
        let file = File::from(fd);
        let Ok(meta) = file.metadata() else {
            self.skip(path, "could not be read");
            return Ok(());
        };
        if !meta.file_type().is_file() {
            self.skip(path, "not a regular file");
            return Ok(());
        }
        if self.found.files >= MAX_FILES {
            return Err(format!(
                "more than {MAX_FILES} files are selected; save fewer (an archive of them is one file)"
            ));
        }
        let bytes = meta.len();
        if self.found.bytes.saturating_add(bytes) > self.budget.bytes {
            return Err(format!(
                "the artifacts add up to more than the {} bytes left ({})",
                self.budget.bytes, self.budget.limit
            ));
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(bytes);
        header.set_mode(if meta.mode() & 0o111 != 0 {
            0o755
        } else {
            0o644
        });
        header.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
        // Exactly the size in the header even if the file changes: a file
        // that shrank is padded with zeros, one that grew is cut.
        let exact = file.take(bytes).chain(std::io::repeat(0)).take(bytes);
        self.builder
            .append_data(&mut header, path, exact)
            .map_err(|e| format!("{path}: could not be archived: {e}"))?;
        self.found.files += 1;
        self.found.bytes += bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selection(patterns: &[&str]) -> Selection {
        let owned: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        Selection::new(&owned).unwrap()
    }

    fn budget(bytes: u64) -> Budget {
        Budget {
            bytes,
            limit: "step_artifacts_max_bytes",
        }
    }

    fn names(archive: &Path) -> Vec<String> {
        let mut tar = tar::Archive::new(File::open(archive).unwrap());
        tar.entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn links_fifos_and_what_is_not_selected_stay_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("checkout");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("dist/deep")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.key"), "key").unwrap();
        std::fs::write(root.join("dist/app"), "binary").unwrap();
        std::fs::write(root.join("dist/deep/x.txt"), "x").unwrap();
        std::fs::write(root.join("README"), "not selected").unwrap();
        std::os::unix::fs::symlink(outside.join("secret.key"), root.join("dist/key")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("dist/escape")).unwrap();
        nix::unistd::mkfifo(&root.join("dist/pipe"), Mode::from_bits_truncate(0o644)).unwrap();
        let archive = dir.path().join("a.tar");
        let got = collect(&root, &selection(&["dist"]), budget(1 << 20), &archive).unwrap();
        assert_eq!((got.files, got.bytes), (2, 7));
        assert_eq!(names(&archive), ["dist/app", "dist/deep/x.txt"]);
        let skipped = got.skipped.join("\n");
        for name in ["\"dist/key\"", "\"dist/escape\"", "\"dist/pipe\""] {
            assert!(skipped.contains(name), "{skipped}");
        }
    }

    #[test]
    fn too_many_bytes_is_an_error_that_names_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("c");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("big"), vec![0u8; 4096]).unwrap();
        let error = collect(
            &root,
            &selection(&["big"]),
            budget(1000),
            &dir.path().join("a.tar"),
        )
        .unwrap_err();
        assert!(error.contains("step_artifacts_max_bytes"), "{error}");
    }

    #[test]
    fn the_checkout_itself_as_a_link_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc", dir.path().join("c")).unwrap();
        let error = collect(
            &dir.path().join("c"),
            &selection(&["**"]),
            budget(1 << 20),
            &dir.path().join("a.tar"),
        )
        .unwrap_err();
        assert!(error.contains("could not be opened"), "{error}");
    }
}
