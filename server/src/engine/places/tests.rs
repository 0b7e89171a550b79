//! The places' tests: kept when left as made, removed after each kind
//! of change a step can make, swept when their process is gone.

use std::os::unix::fs::PermissionsExt;

use super::*;

fn me() -> (u32, u32) {
    (
        nix::unistd::geteuid().as_raw(),
        nix::unistd::getegid().as_raw(),
    )
}

struct Work {
    _dir: tempfile::TempDir,
    root: PathBuf,
    run: PathBuf,
}

fn work() -> Work {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("work");
    let run = root.join("7");
    Work {
        _dir: dir,
        root,
        run,
    }
}

/// A place as the engine gives it to step `step`.
fn make(places: &Places, work: &Work, step: i64) -> Place {
    let mut place = places
        .make(
            &work.run,
            work.run.join(format!("{step}-1")),
            work.run.join(format!("{step}-1.out")),
        )
        .unwrap();
    place.note_start();
    place
}

fn inode(path: &Path) -> u64 {
    std::fs::symlink_metadata(path).unwrap().ino()
}

#[test]
fn a_place_left_as_made_is_kept_and_comes_back_empty() {
    let work = work();
    let places = Places::new(&work.root, Some(me()));
    let first = make(&places, &work, 1);
    std::fs::write(&first.output, "a=1\n").unwrap();
    assert_eq!(read_outputs(&first.output).unwrap(), b"a=1\n");
    let (dir, out) = (inode(&first.workdir), inode(&first.output));
    let (workdir, output) = (first.workdir.clone(), first.output.clone());
    places.release(first);
    assert!(!workdir.exists() && !output.exists(), "moved away");
    assert_eq!(places.spares().len(), 1);
    let second = make(&places, &work, 2);
    assert_eq!(places.spares().len(), 0);
    assert_eq!((inode(&second.workdir), inode(&second.output)), (dir, out));
    assert_eq!(std::fs::read(&second.output).unwrap(), b"", "emptied");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(
        (mode(&second.workdir), mode(&second.output)),
        (0o700, 0o600)
    );
}

#[allow(unsafe_code)]
fn set_xattr(path: &Path, value: &[u8]) {
    let path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: sets a user attribute from two NUL-terminated strings and a slice.
    let set = unsafe {
        libc::setxattr(
            path.as_ptr(),
            c"user.kiln-left".as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(set, 0, "{}", std::io::Error::last_os_error());
}

#[allow(unsafe_code)]
fn set_nodump(path: &Path) {
    let dir = File::open(path).unwrap();
    let mut flags: libc::c_long = 0;
    // SAFETY: reads and then writes the inode flags of an open directory.
    unsafe {
        assert_eq!(
            libc::ioctl(dir.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags),
            0
        );
        flags |= 0x40; // FS_NODUMP_FL
        assert_eq!(
            libc::ioctl(dir.as_raw_fd(), libc::FS_IOC_SETFLAGS, &flags),
            0
        );
    }
}

/// One way a step changes its place.
type Change = Box<dyn Fn(&Place, &Work)>;

/// Each thing a step could leave behind: the place is removed, not kept.
#[test]
fn a_place_left_changed_is_removed() {
    let changes: Vec<(&str, Change)> = vec![
        (
            "a file",
            Box::new(|p, _| std::fs::write(p.workdir.join("f"), "x").unwrap()),
        ),
        (
            "a hidden directory",
            Box::new(|p, _| std::fs::create_dir(p.workdir.join(".d")).unwrap()),
        ),
        (
            "its mode",
            Box::new(|p, _| {
                std::fs::set_permissions(&p.workdir, std::fs::Permissions::from_mode(0o755))
                    .unwrap()
            }),
        ),
        (
            "the file's mode",
            Box::new(|p, _| {
                std::fs::set_permissions(&p.output, std::fs::Permissions::from_mode(0o644)).unwrap()
            }),
        ),
        (
            "an attribute on it",
            Box::new(|p, _| set_xattr(&p.workdir, b"x")),
        ),
        (
            "an attribute on the file",
            Box::new(|p, _| set_xattr(&p.output, b"x")),
        ),
        ("an inode flag", Box::new(|p, _| set_nodump(&p.workdir))),
        (
            "an inode flag on the file",
            Box::new(|p, _| set_nodump(&p.output)),
        ),
        (
            "its times",
            Box::new(|p, _| {
                let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
                let times = std::fs::FileTimes::new().set_modified(old);
                File::open(&p.workdir).unwrap().set_times(times).unwrap()
            }),
        ),
        (
            "a second link to the file",
            Box::new(|p, w| std::fs::hard_link(&p.output, w.run.join("kept")).unwrap()),
        ),
        (
            "a link for the file",
            Box::new(|p, _| {
                std::fs::remove_file(&p.output).unwrap();
                std::os::unix::fs::symlink("/etc/passwd", &p.output).unwrap();
            }),
        ),
        (
            "a FIFO for the file",
            Box::new(|p, _| {
                std::fs::remove_file(&p.output).unwrap();
                nix::unistd::mkfifo(&p.output, nix::sys::stat::Mode::S_IRWXU).unwrap();
            }),
        ),
    ];
    for (what, change) in changes {
        let work = work();
        let places = Places::new(&work.root, Some(me()));
        let place = make(&places, &work, 1);
        change(&place, &work);
        let (workdir, output) = (place.workdir.clone(), place.output.clone());
        places.release(place);
        assert_eq!(places.spares().len(), 0, "kept with {what}");
        assert!(
            std::fs::symlink_metadata(&workdir).is_err()
                && std::fs::symlink_metadata(&output).is_err(),
            "removed with {what}"
        );
    }
}

#[test]
fn an_attribute_value_changed_or_an_unconfirmed_end_is_not_kept() {
    let work = work();
    let places = Places::new(&work.root, Some(me()));
    let mut place = places
        .make(&work.run, work.run.join("1-1"), work.run.join("1-1.out"))
        .unwrap();
    set_xattr(&place.output, b"before");
    place.note_start();
    set_xattr(&place.output, b"after");
    places.release(place);
    assert_eq!(places.spares().len(), 0, "kept with another value");
    let mut place = make(&places, &work, 2);
    place.not_to_keep();
    places.release(place);
    assert_eq!(places.spares().len(), 0, "kept after an unconfirmed end");
    assert_eq!(std::fs::read_dir(&work.run).unwrap().count(), 0);
}

#[test]
fn without_reuse_or_owned_by_another_user_nothing_is_kept() {
    let work = work();
    let places = Places::new(&work.root, None);
    let place = make(&places, &work, 1);
    places.release(place);
    assert_eq!(places.spares().len(), 0);
    let (uid, gid) = me();
    let places = Places::new(&work.root, Some((uid + 1, gid)));
    let place = make(&places, &work, 2);
    places.release(place);
    assert_eq!(places.spares().len(), 0);
    assert_eq!(std::fs::read_dir(&work.run).unwrap().count(), 0);
}

#[test]
fn spares_of_gone_processes_go_and_a_swept_spare_makes_a_fresh_place() {
    let work = work();
    let places = Places::new(&work.root, Some(me()));
    let place = make(&places, &work, 1);
    places.release(place);
    let own = places.reuse.as_ref().unwrap().dir.clone();
    // A process that is gone left spares; a live one (this test) has some.
    let dead = {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    };
    let left = work.root.join(format!("{SPARES_PREFIX}{dead}-00ff"));
    std::fs::create_dir_all(left.join("3")).unwrap();
    let old = SystemTime::now() - SPARES_QUIET - Duration::from_secs(5);
    for dir in [&left, &own] {
        File::open(dir).unwrap().set_modified(old).unwrap();
    }
    let other = Places::new(&work.root, Some(me()));
    other.remove_others_spares(&work.root);
    assert!(!left.exists(), "a gone process's spares stayed");
    assert!(own.exists(), "a live process's spares went");
    // Swept anyway: the spare it remembers is gone, a fresh place instead.
    std::fs::remove_dir_all(&own).unwrap();
    let place = make(&places, &work, 2);
    assert!(place.workdir.is_dir() && place.output.is_file());
    assert_eq!(places.spares().len(), 0, "the list was cleared");
    places.release(place);
    assert_eq!(
        places.spares().len(),
        1,
        "kept again, its directory made anew"
    );
}

#[test]
fn spares_are_capped() {
    let work = work();
    let places = Places::new(&work.root, Some(me()));
    let made: Vec<Place> = (0..SPARES_KEPT as i64 + 3)
        .map(|step| make(&places, &work, step))
        .collect();
    for place in made {
        places.release(place);
    }
    assert_eq!(places.spares().len(), SPARES_KEPT);
    assert_eq!(std::fs::read_dir(&work.run).unwrap().count(), 0);
}

#[test]
fn outputs_are_read_without_following_links_or_blocking() {
    let work = work();
    std::fs::create_dir_all(&work.run).unwrap();
    let link = work.run.join("link");
    std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
    assert!(
        read_outputs(&link)
            .unwrap_err()
            .to_string()
            .contains("symbolic link")
    );
    let fifo = work.run.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    assert!(
        read_outputs(&fifo)
            .unwrap_err()
            .to_string()
            .contains("not a regular file")
    );
    let big = work.run.join("big");
    std::fs::write(&big, vec![b'a'; MAX_OUTPUTS_BYTES * 2]).unwrap();
    assert_eq!(read_outputs(&big).unwrap().len(), MAX_OUTPUTS_BYTES + 1);
    assert_eq!(read_outputs(&work.run.join("none")).unwrap(), b"");
}
