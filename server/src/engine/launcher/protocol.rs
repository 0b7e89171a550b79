//! What Kiln and its resident launcher say to each other over their
//! socket pair: frames of a 4-byte little-endian length and that many
//! bytes of JSON. Kiln sends [`Message`]s: a request to start a step
//! carries the step's stdout and stderr (the write ends of Kiln's pipes) as
//! `SCM_RIGHTS` on its first bytes; a signal names a process the launcher
//! started (its ids are the launcher's: a sandboxed launcher has a PID
//! namespace of its own, so Kiln cannot signal them itself). Replies carry
//! no descriptors.

use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use kiln_core::sandbox::{Limit, Network};
use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use serde::{Deserialize, Serialize};

use super::{Setup, limit_name, limit_of};

/// Larger frames are refused (an environment larger than this could not be
/// passed to `execve` anyway).
pub const MAX_FRAME_BYTES: usize = 16 << 20;

/// What Kiln asks of its launcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    Start(Request),
    /// Send `signal` to the process group of `pid`, a step the launcher
    /// started and has not yet reported ended (anything else is ignored).
    Signal {
        pid: i32,
        signal: i32,
    },
}

/// Start `argv` in `workdir` with exactly `env`, as `host_user`, with
/// `limits` (soft and hard); in namespaces of its own when `isolation` is
/// given (a sandboxed launcher).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub id: u64,
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
    pub workdir: PathBuf,
    pub host_user: Option<(u32, u32)>,
    pub limits: Vec<(String, u64)>,
    #[serde(default)]
    pub isolation: Option<Isolation>,
}

/// What a step started by a sandboxed launcher sees of the launcher's
/// file system: of everything below `work_root` (each step's directory
/// and files) only `binds`, writable at their own paths; a private `/tmp`
/// and `/dev/shm` of `tmp_bytes` (0: unbounded); its own `/proc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Isolation {
    pub work_root: PathBuf,
    pub binds: Vec<PathBuf>,
    pub network: Network,
    pub tmp_bytes: u64,
}

impl Request {
    pub fn new(
        id: u64,
        argv: Vec<String>,
        env: Vec<(String, String)>,
        workdir: PathBuf,
        setup: &Setup,
    ) -> Request {
        Request {
            id,
            argv,
            env,
            workdir,
            isolation: setup.isolation.clone(),
            host_user: setup.host_user,
            limits: setup
                .limits
                .iter()
                .map(|&(limit, value)| (limit_name(limit).to_owned(), value))
                .collect(),
        }
    }

    /// The limits, or the name of one that is unknown.
    pub fn limits(&self) -> Result<Vec<(Limit, u64)>, String> {
        self.limits
            .iter()
            .map(|(name, value)| {
                limit_of(name)
                    .map(|limit| (limit, *value))
                    .ok_or_else(|| format!("unknown limit {name}"))
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// Request `id` runs as process `pid`, the leader of its own group.
    Started { id: u64, pid: i32 },
    /// Request `id` could not be started (no process exists).
    Refused { id: u64, message: String },
    /// Process `pid` ended: its exit code, or 128 + the signal that ended
    /// it, as shells report it.
    Exited { pid: i32, code: i32 },
}

/// Sends one frame with `fds` attached.
pub fn send(stream: &UnixStream, bytes: &[u8], fds: &[RawFd]) -> std::io::Result<()> {
    let length = u32::try_from(bytes.len())
        .ok()
        .filter(|&n| n as usize <= MAX_FRAME_BYTES)
        .ok_or_else(|| std::io::Error::other("a launcher frame is too large"))?;
    let header = length.to_le_bytes();
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    let sent = loop {
        match sendmsg::<()>(
            stream.as_raw_fd(),
            &[IoSlice::new(&header)],
            cmsgs,
            MsgFlags::empty(),
            None,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other.map_err(std::io::Error::from)?,
        }
    };
    let mut stream = stream;
    stream.write_all(&header[sent..])?;
    stream.write_all(bytes)
}

/// Reads one frame and the descriptors attached to it; `None` at the end
/// of the stream.
pub fn receive(stream: &UnixStream) -> std::io::Result<Option<(Vec<u8>, Vec<OwnedFd>)>> {
    let mut header = [0u8; 4];
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let (read, fds) = loop {
        let mut iov = [IoSliceMut::new(&mut header)];
        match recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(error) => return Err(error.into()),
            Ok(message) => {
                let mut fds = Vec::new();
                for cmsg in message.cmsgs().map_err(std::io::Error::from)? {
                    if let ControlMessageOwned::ScmRights(raw) = cmsg {
                        // SAFETY: the kernel has just installed these
                        // descriptors in this process for us alone.
                        #[allow(unsafe_code)]
                        fds.extend(
                            raw.into_iter()
                                .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                        );
                    }
                }
                break (message.bytes, fds);
            }
        }
    };
    if read == 0 {
        return Ok(None);
    }
    let mut stream = stream;
    stream.read_exact(&mut header[read..])?;
    let length = u32::from_le_bytes(header) as usize;
    if length > MAX_FRAME_BYTES {
        return Err(std::io::Error::other("a launcher frame is too large"));
    }
    let mut bytes = vec![0; length];
    stream.read_exact(&mut bytes)?;
    Ok(Some((bytes, fds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_arrive_whole_with_their_descriptors() {
        let (a, b) = UnixStream::pair().unwrap();
        let (read, write) = nix::unistd::pipe().unwrap();
        let request = Request::new(
            7,
            vec!["/bin/sh".into(), "-c".into(), "echo hi".into()],
            vec![("A".into(), "b".into())],
            "/tmp".into(),
            &Setup {
                host_user: Some((5, 6)),
                limits: vec![(Limit::OpenFiles, 64)],
                isolation: Some(Isolation {
                    work_root: "/w".into(),
                    binds: vec!["/w/1/2-1".into(), "/w/1/2-1.out".into()],
                    network: Network::None,
                    tmp_bytes: 1 << 20,
                }),
            },
        );
        let bytes = serde_json::to_vec(&request).unwrap();
        send(&a, &bytes, &[write.as_raw_fd()]).unwrap();
        send(&a, b"{}", &[]).unwrap();
        drop(a);
        let (got, fds) = receive(&b).unwrap().unwrap();
        let back: Request = serde_json::from_slice(&got).unwrap();
        assert_eq!(back, request);
        assert_eq!(back.limits().unwrap(), vec![(Limit::OpenFiles, 64)]);
        assert_eq!(fds.len(), 1);
        // The received descriptor is the pipe's write end.
        let mut file = std::fs::File::from(fds.into_iter().next().unwrap());
        drop(write);
        file.write_all(b"x").unwrap();
        drop(file);
        let mut text = String::new();
        std::fs::File::from(read).read_to_string(&mut text).unwrap();
        assert_eq!(text, "x");
        let (second, none) = receive(&b).unwrap().unwrap();
        assert_eq!((second.as_slice(), none.len()), (&b"{}"[..], 0));
        assert!(receive(&b).unwrap().is_none());
    }

    #[test]
    fn oversized_frames_are_refused() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut raw = &a;
        raw.write_all(&u32::MAX.to_le_bytes()).unwrap();
        assert!(receive(&b).is_err());
        let huge = vec![0u8; MAX_FRAME_BYTES + 1];
        assert!(send(&a, &huge, &[]).is_err());
    }

    #[test]
    fn unknown_limits_are_named() {
        let mut request = Request::new(
            1,
            vec![],
            vec![],
            "/".into(),
            &Setup {
                host_user: None,
                limits: vec![],
                isolation: None,
            },
        );
        request.limits.push(("stack".into(), 1));
        assert_eq!(request.limits().unwrap_err(), "unknown limit stack");
    }
}
