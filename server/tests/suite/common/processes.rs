//! Reading the process table from `/proc`, for tests that look for what
//! a step left running.

use std::path::Path;

/// The pids of every process `keep` accepts.
pub fn processes(keep: impl Fn(i32) -> bool) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| keep(*pid))
        .collect()
}

pub fn parent_of(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(") ")?;
    rest.split(' ').nth(1)?.parse().ok()
}

/// Whether `pid` was started (however indirectly) by this test process:
/// other tests run their own launchers beside this one.
pub fn descends_from_this_test(mut pid: i32) -> bool {
    let ours = std::process::id() as i32;
    while pid > 1 {
        match parent_of(pid) {
            Some(parent) if parent == ours => return true,
            Some(parent) => pid = parent,
            None => return false,
        }
    }
    false
}

pub fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim_end()
        .to_owned()
}

pub fn environ(pid: i32) -> String {
    let bytes = std::fs::read(Path::new("/proc").join(pid.to_string()).join("environ"));
    String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned()
}
