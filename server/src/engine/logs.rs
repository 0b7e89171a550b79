//! Step logs, written as output arrives and readable while the step runs,
//! behind one interface ([`LogBackend`]); the local directory is the default
//! backend. Each line is stored as `TIMESTAMP STREAM text`, secrets masked.
//! A step's log is capped: past the cap one note says so and the rest is
//! dropped, so a step printing gigabytes costs neither disk nor memory.
//! Local logs are private to Kiln's user (directories 0700, files 0600):
//! they hold what steps printed, secrets masked or not.
//! A short log that was never written out ([`StepLog::short`]) goes in its
//! step's row with the step's end instead (see `step_logs`): a file per
//! step was a tenth of the machine in a fan-out of no-op steps.

use std::io::{SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use kiln_core::engine::mask::Masker;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::shell::{OutputLine, Stream};

/// Where log bytes live. Keys are `RUN/STEP` paths built from checked ids.
#[async_trait]
pub trait LogBackend: Send + Sync + std::fmt::Debug {
    async fn append(&self, key: &str, bytes: &[u8]) -> std::io::Result<()>;
    /// Up to `max` bytes from `offset`; empty at the end (or when absent).
    async fn read(&self, key: &str, offset: u64, max: usize) -> std::io::Result<Vec<u8>>;
}

/// Logs as files under a directory (`DATA_DIR/logs/RUN/STEP.log`).
#[derive(Debug, Clone)]
pub struct LocalLogs {
    root: PathBuf,
}

/// Modes of the log directories and files.
const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

impl LocalLogs {
    /// Logs under `root`. A root left readable by others (made by an older
    /// Kiln) is made private; failing that is only worth a warning.
    pub fn new(root: PathBuf) -> Self {
        if let Ok(meta) = std::fs::metadata(&root)
            && meta.is_dir()
            && meta.permissions().mode() & 0o077 != 0
            && let Err(error) =
                std::fs::set_permissions(&root, std::fs::Permissions::from_mode(DIR_MODE))
        {
            tracing::warn!(dir = %root.display(), %error, "cannot make the log directory private");
        }
        LocalLogs { root }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(format!("{key}.log"))
    }

    /// Creates `dir` (the root or a run's directory below it) as 0700. The
    /// root's parent, the data directory, is created with the default mode:
    /// it must stay traversable. Blocking.
    fn private_dir(&self, dir: &Path) -> std::io::Result<()> {
        if std::fs::metadata(dir).is_ok() {
            return Ok(());
        }
        if let Some(parent) = self.root.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
    }

    /// Appends `bytes` to the file at `path`, made private if new. Blocking.
    fn append_now(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        if let Some(dir) = path.parent() {
            self.private_dir(dir)?;
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(FILE_MODE)
            .open(path)?
            .write_all(bytes)
    }
}

#[async_trait]
impl LogBackend for LocalLogs {
    /// In one trip off the async threads (each `tokio::fs` call is one):
    /// a step's log is usually written once, as it ends, and every trip is
    /// a thread woken on a machine that runs hundreds of steps a second.
    async fn append(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        let (logs, path, bytes) = (self.clone(), self.path(key), bytes.to_vec());
        tokio::task::spawn_blocking(move || logs.append_now(&path, &bytes))
            .await
            .map_err(std::io::Error::other)?
    }

    async fn read(&self, key: &str, offset: u64, max: usize) -> std::io::Result<Vec<u8>> {
        // Past any real log (and past what a seek takes): nothing there.
        if offset > i64::MAX as u64 {
            return Ok(Vec::new());
        }
        let mut file = match tokio::fs::File::open(self.path(key)).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        file.seek(SeekFrom::Start(offset)).await?;
        let mut out = Vec::with_capacity(max.min(1 << 20));
        file.take(max as u64).read_to_end(&mut out).await?;
        Ok(out)
    }
}

/// How much of `chunk` (read with a limit of `max` bytes) to hand out:
/// whole lines only, since a partial line may still be growing; all of it
/// when one line fills the read, or when the writer is done (`over`: the
/// last line then never gets its newline).
pub fn whole_lines(chunk: &[u8], max: usize, over: bool) -> usize {
    match chunk.iter().rposition(|&b| b == b'\n') {
        Some(end) if !over => end + 1,
        None if chunk.len() < max && !over => 0,
        _ => chunk.len(),
    }
}

/// The key of a step's log; ids are checked so a key is always a plain path.
pub fn log_key(run_id: &str, step: &str) -> Option<String> {
    let plain = |s: &str| {
        (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (plain(run_id) && plain(step)).then(|| format!("{run_id}/{step}"))
}

/// Bytes kept before a write to the backend, and the longest a line waits:
/// one write per line would be one object per line in an object store.
const FLUSH_BYTES: usize = 64 * 1024;
const FLUSH_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Writes one step's log: masks, stamps, caps; buffered briefly, so call
/// [`StepLog::flush`] when the step ends (and [`StepLog::tick`] while it
/// runs quietly).
pub struct StepLog<'a> {
    backend: &'a dyn LogBackend,
    key: String,
    masker: Masker,
    /// Per stream (stdout, stderr): the end of a cut line held back until
    /// the next piece, in case a secret goes on there.
    carry: [Vec<u8>; 2],
    written: u64,
    cap: u64,
    cut: bool,
    pending: Vec<u8>,
    since: Option<std::time::Instant>,
}

impl<'a> StepLog<'a> {
    pub fn new(backend: &'a dyn LogBackend, key: String, masker: Masker, cap: u64) -> Self {
        StepLog {
            backend,
            key,
            masker,
            carry: [Vec::new(), Vec::new()],
            written: 0,
            cap,
            cut: false,
            pending: Vec::new(),
            since: None,
        }
    }

    /// Writes what is buffered.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        self.since = None;
        if self.pending.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.pending);
        self.backend.append(&self.key, &bytes).await
    }

    /// Flushes a buffer that has waited long enough.
    pub async fn tick(&mut self) -> std::io::Result<()> {
        match self.since {
            Some(since) if since.elapsed() >= FLUSH_AFTER => self.flush().await,
            _ => Ok(()),
        }
    }

    async fn buffer(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.pending.extend_from_slice(bytes);
        self.since.get_or_insert_with(std::time::Instant::now);
        if self.pending.len() >= FLUSH_BYTES {
            return self.flush().await;
        }
        self.tick().await
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// The whole log, when none of it was written out yet and it is at
    /// most `max` bytes: it may then be kept elsewhere than the backend.
    pub fn short(&self, max: usize) -> Option<&[u8]> {
        (self.pending.len() as u64 == self.written && self.pending.len() <= max)
            .then_some(self.pending.as_slice())
    }

    pub fn was_cut(&self) -> bool {
        self.cut
    }

    pub async fn line(&mut self, line: &OutputLine) -> std::io::Result<()> {
        let (stream, carry) = match line.stream {
            Stream::Stdout => ('O', 0),
            Stream::Stderr => ('E', 1),
        };
        let masked = self
            .masker
            .mask_piece(&mut self.carry[carry], &line.bytes, line.complete);
        if masked.is_empty() && !line.complete {
            return Ok(());
        }
        self.record(stream, &masked).await
    }

    /// Writes what cut lines still hold back: the step's output ended.
    pub async fn end_output(&mut self) -> std::io::Result<()> {
        for (index, stream) in [(0, 'O'), (1, 'E')] {
            let rest = std::mem::take(&mut self.carry[index]);
            if !rest.is_empty() {
                let masked = self.masker.mask(&rest);
                self.record(stream, &masked).await?;
            }
        }
        Ok(())
    }

    /// A line from Kiln itself (stream `K`): what started, how it ended.
    pub async fn note(&mut self, text: &str) -> std::io::Result<()> {
        self.record('K', format!("[kiln] {text}").as_bytes()).await
    }

    async fn record(&mut self, stream: char, bytes: &[u8]) -> std::io::Result<()> {
        if self.cut {
            return Ok(());
        }
        let stamp = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let mut record = format!("{stamp} {stream} ").into_bytes();
        if stream == 'K' {
            record.extend_from_slice(&self.masker.mask(bytes));
        } else {
            // Output lines arrive masked by `line`.
            record.extend_from_slice(bytes);
        }
        record.push(b'\n');
        if self.written + record.len() as u64 > self.cap {
            self.cut = true;
            let note = format!(
                "{stamp} K [kiln] log cut at {} bytes (the step's log limit); later output was dropped\n",
                self.cap
            );
            self.written += note.len() as u64;
            return self.buffer(note.as_bytes()).await;
        }
        self.written += record.len() as u64;
        self.buffer(&record).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(text: &str) -> OutputLine {
        OutputLine {
            stream: Stream::Stdout,
            bytes: text.as_bytes().to_vec(),
            complete: true,
        }
    }

    #[tokio::test]
    async fn lines_are_stamped_masked_and_readable_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let logs = LocalLogs::new(dir.path().to_owned());
        let key = log_key("run1", "build").unwrap();
        let mut log = StepLog::new(&logs, key.clone(), Masker::new(["s3cr3t-value"]), 1 << 20);
        log.line(&out("password is s3cr3t-value")).await.unwrap();
        log.flush().await.unwrap();
        let first = logs.read(&key, 0, 4096).await.unwrap();
        let text = String::from_utf8(first.clone()).unwrap();
        assert!(text.ends_with(" O password is ***\n"), "{text}");
        log.line(&OutputLine {
            stream: Stream::Stderr,
            bytes: b"oops".to_vec(),
            complete: true,
        })
        .await
        .unwrap();
        log.flush().await.unwrap();
        let rest = logs.read(&key, first.len() as u64, 4096).await.unwrap();
        assert!(String::from_utf8(rest).unwrap().ends_with(" E oops\n"));
        assert!(logs.read("run1/none", 0, 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_cap_leaves_one_note() {
        let dir = tempfile::tempdir().unwrap();
        let logs = LocalLogs::new(dir.path().to_owned());
        let key = log_key("run2", "chatty").unwrap();
        let mut log = StepLog::new(&logs, key.clone(), Masker::default(), 1000);
        for i in 0..1000 {
            log.line(&out(&format!("line {i}"))).await.unwrap();
        }
        assert!(log.was_cut());
        log.flush().await.unwrap();
        let all = String::from_utf8(logs.read(&key, 0, 1 << 20).await.unwrap()).unwrap();
        assert!(all.len() < 1200, "{}", all.len());
        assert_eq!(all.matches("log cut at 1000 bytes").count(), 1);
    }

    /// Only a log still wholly buffered, and small enough, is short.
    #[tokio::test]
    async fn a_short_log_is_all_of_it_unwritten() {
        let dir = tempfile::tempdir().unwrap();
        let logs = LocalLogs::new(dir.path().to_owned());
        let key = log_key("run3", "s-1").unwrap();
        let mut log = StepLog::new(&logs, key.clone(), Masker::new(["s3cr3t"]), 1 << 20);
        log.line(&out("the s3cr3t")).await.unwrap();
        let short = log.short(100).unwrap().to_vec();
        assert!(
            String::from_utf8(short.clone())
                .unwrap()
                .ends_with(" O the ***\n")
        );
        assert_eq!(log.short(short.len()), Some(short.as_slice()));
        assert_eq!(log.short(short.len() - 1), None, "longer than allowed");
        log.flush().await.unwrap();
        assert_eq!(log.short(100), None, "partly written out");
        log.line(&out("more")).await.unwrap();
        assert_eq!(log.short(1000), None, "partly written out");
    }

    #[test]
    fn only_whole_lines_until_the_end() {
        assert_eq!(whole_lines(b"a\nb", 100, false), 2);
        assert_eq!(whole_lines(b"ab", 100, false), 0);
        assert_eq!(whole_lines(b"ab", 2, false), 2);
        assert_eq!(whole_lines(b"a\nb", 100, true), 3);
    }

    #[test]
    fn keys_are_plain_paths() {
        assert_eq!(log_key("01HX", "build-1").as_deref(), Some("01HX/build-1"));
        for (run, step) in [("..", "x"), ("a", "../etc"), ("a/b", "c"), ("", "c")] {
            assert_eq!(log_key(run, step), None, "{run} {step}");
        }
    }
}
