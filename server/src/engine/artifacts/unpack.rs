//! Restoring artifacts into a step's fresh checkout before it starts. The
//! checkout is the pushed commit's, so its symbolic links are the pusher's:
//! each directory on an entry's path is opened relative to the one before
//! without following links, and the file itself is created the same way,
//! so a link named `dist` pointing at `/etc` makes `dist/passwd` skipped,
//! never written through. Only regular files with plain relative names are
//! taken from the archive.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{OFlag, open, openat};
use nix::sys::stat::{Mode, mkdirat};

/// Files written, and those skipped with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unpacked {
    pub files: usize,
    pub skipped: Vec<String>,
}

/// Writes the regular files of the tar file `archive` below `root`; a
/// file already there is replaced (a later step's artifact wins).
pub fn unpack(archive: &Path, root: &Path) -> Result<Unpacked, String> {
    let root_fd = open(
        root,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("the checkout could not be opened: {e}"))?;
    let file = File::open(archive).map_err(|e| format!("the archive could not be read: {e}"))?;
    // Buffered: the archive is read in 512-byte headers and small files.
    let mut tar = tar::Archive::new(std::io::BufReader::with_capacity(256 * 1024, file));
    let mut done = Unpacked::default();
    let mut last_dir: Option<(Vec<String>, OwnedFd)> = None;
    let entries = tar
        .entries()
        .map_err(|e| format!("the archive could not be read: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("the archive is damaged: {e}"))?;
        let name = entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if entry.header().entry_type() != tar::EntryType::Regular {
            skip(&mut done, &name, "not a regular file");
            continue;
        }
        let parts: Vec<&str> = name.split('/').collect();
        let plain = !name.starts_with('/')
            && parts
                .iter()
                .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains('\0'));
        let Some((file_name, dirs)) = parts.split_last().filter(|_| plain) else {
            skip(&mut done, &name, "not a plain relative path");
            continue;
        };
        let mode = entry.header().mode().unwrap_or(0o644) & 0o755;
        // Files of one directory come together: its descriptor is kept.
        let dir = match &last_dir {
            Some((path, fd)) if path.as_slice() == dirs => fd.try_clone().ok(),
            _ => None,
        };
        let dir = match dir {
            Some(fd) => Ok(fd),
            None => open_dirs(&root_fd, dirs).inspect(|fd| {
                last_dir = fd
                    .try_clone()
                    .ok()
                    .map(|kept| (dirs.iter().map(|d| (*d).to_owned()).collect(), kept));
            }),
        };
        match dir.and_then(|dir| create(&dir, file_name, mode)) {
            Ok(mut out) => {
                std::io::copy(&mut entry, &mut out)
                    .map_err(|e| format!("{name}: could not be written: {e}"))?;
                done.files += 1;
            }
            Err(why) => skip(&mut done, &name, why),
        }
    }
    Ok(done)
}

fn skip(done: &mut Unpacked, name: &str, why: &str) {
    // Quoted, control characters escaped: the line goes into the log.
    if done.skipped.len() < 100 {
        done.skipped.push(format!("{name:?}: {why}"));
    }
}

/// The directory `dirs` below `root`, made where missing; never through
/// a link.
fn open_dirs(root: &OwnedFd, dirs: &[&str]) -> Result<OwnedFd, &'static str> {
    let mut at = root.try_clone().map_err(|_| "out of descriptors")?;
    for dir in dirs {
        match mkdirat(&at, *dir, Mode::from_bits_truncate(0o755)) {
            Ok(()) | Err(Errno::EEXIST) => {}
            Err(_) => return Err("its directory could not be made"),
        }
        at = match openat(
            &at,
            *dir,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::ELOOP | Errno::ENOTDIR) => {
                return Err("the checkout has a symbolic link or a file on its path");
            }
            Err(_) => return Err("its directory could not be opened"),
        };
    }
    Ok(at)
}

/// Opens `file_name` in the directory `at` for writing; never through a
/// link, never a special file.
fn create(at: &OwnedFd, file_name: &str, mode: u32) -> Result<File, &'static str> {
    let fd = openat(
        at,
        file_name,
        OFlag::O_WRONLY
            | OFlag::O_CREAT
            | OFlag::O_TRUNC
            | OFlag::O_NOFOLLOW
            | OFlag::O_NONBLOCK
            | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(mode),
    )
    .map_err(|e| match e {
        Errno::ELOOP => "the checkout has a symbolic link there",
        Errno::EISDIR => "the checkout has a directory there",
        _ => "could not be created",
    })?;
    let file = File::from(fd);
    match file.metadata() {
        Ok(meta) if meta.file_type().is_file() => Ok(file),
        _ => Err("the checkout has a special file there"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive_of(dir: &Path, files: &[(&str, &str)]) -> std::path::PathBuf {
        let path = dir.join("a.tar");
        let mut builder = tar::Builder::new(File::create(&path).unwrap());
        for (name, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder
                .append_data(&mut header, name, text.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap();
        path
    }

    #[test]
    fn files_land_in_their_directories_and_replace_what_was_there() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("checkout");
        std::fs::create_dir_all(root.join("dist")).unwrap();
        std::fs::write(root.join("dist/app"), "old").unwrap();
        let archive = archive_of(dir.path(), &[("dist/app", "new"), ("dist/deep/x", "x")]);
        let done = unpack(&archive, &root).unwrap();
        assert_eq!(done.files, 2, "{done:?}");
        assert_eq!(
            std::fs::read_to_string(root.join("dist/app")).unwrap(),
            "new"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("dist/deep/x")).unwrap(),
            "x"
        );
    }

    #[test]
    fn a_link_in_the_checkout_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("checkout");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("passwd"), "root:x:0:0").unwrap();
        // As a pushed commit could hold them.
        std::os::unix::fs::symlink(&outside, root.join("dist")).unwrap();
        std::os::unix::fs::symlink(outside.join("passwd"), root.join("file")).unwrap();
        let archive = archive_of(
            dir.path(),
            &[("dist/passwd", "owned"), ("file", "owned"), ("ok", "fine")],
        );
        let done = unpack(&archive, &root).unwrap();
        assert_eq!(done.files, 1, "{done:?}");
        assert_eq!(done.skipped.len(), 2, "{done:?}");
        assert_eq!(
            std::fs::read_to_string(outside.join("passwd")).unwrap(),
            "root:x:0:0"
        );
        assert_eq!(std::fs::read_to_string(root.join("ok")).unwrap(), "fine");
    }

    #[test]
    fn names_that_climb_out_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("checkout");
        std::fs::create_dir_all(&root).unwrap();
        // Written raw: the tar crate refuses to write such names itself.
        let path = dir.path().join("evil.tar");
        let mut builder = tar::Builder::new(File::create(&path).unwrap());
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..9].copy_from_slice(b"../escape");
        header.set_size(1);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, &b"x"[..]).unwrap();
        builder.into_inner().unwrap();
        let done = unpack(&path, &root).unwrap();
        assert_eq!(done.files, 0, "{done:?}");
        assert!(!dir.path().join("escape").exists());
    }
}
