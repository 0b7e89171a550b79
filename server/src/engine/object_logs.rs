//! Step logs in an object store (S3 and compatibles, or a directory) via
//! the `object_store` crate. Objects cannot be appended to, so each flushed
//! chunk of a log is its own object, `PREFIX/RUN/STEP/0000000001`, …; a
//! read lists the chunks in order and fetches the ranges it needs. Only one
//! attempt writes a log, so the next chunk number is kept in memory.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::sync::Mutex;

use super::logs::LogBackend;

pub struct ObjectLogs {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    next: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for ObjectLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ObjectLogs({} under {})", self.store, self.prefix)
    }
}

fn io(error: object_store::Error) -> std::io::Error {
    std::io::Error::other(error)
}

impl ObjectLogs {
    pub fn new(store: Arc<dyn ObjectStore>, prefix: Path) -> Self {
        ObjectLogs {
            store,
            prefix,
            next: Mutex::new(HashMap::new()),
        }
    }

    /// From a URL such as `s3://bucket/kiln-logs` (credentials and endpoint
    /// from the `AWS_*` environment variables) or `file:///srv/kiln/logs`.
    pub fn from_url(raw: &str) -> Result<Self, String> {
        let url = url::Url::parse(raw).map_err(|e| format!("log_store_url {raw:?}: {e}"))?;
        let options = std::env::vars()
            .filter(|(k, _)| k.starts_with("AWS_"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v));
        let (store, prefix) = object_store::parse_url_opts(&url, options)
            .map_err(|e| format!("log_store_url {raw:?}: {e}"))?;
        Ok(ObjectLogs::new(Arc::from(store), prefix))
    }

    fn dir(&self, key: &str) -> Path {
        key.split('/')
            .fold(self.prefix.clone(), |path, part| path.clone().join(part))
    }

    /// The log's chunks in order, with their sizes.
    async fn chunks(&self, key: &str) -> std::io::Result<Vec<(Path, u64)>> {
        let mut found: Vec<(Path, u64)> = self
            .store
            .list(Some(&self.dir(key)))
            .map_ok(|meta| (meta.location, meta.size))
            .try_collect()
            .await
            .map_err(io)?;
        // Zero-padded numbers: text order is write order.
        found.sort_by(|a, b| a.0.as_ref().cmp(b.0.as_ref()));
        Ok(found)
    }
}

#[async_trait]
impl LogBackend for ObjectLogs {
    async fn append(&self, key: &str, bytes: &[u8]) -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let mut next = self.next.lock().await;
        let number = match next.get(key) {
            Some(n) => *n,
            None => self.chunks(key).await?.len() as u64 + 1,
        };
        let location = self.dir(key).join(format!("{number:010}"));
        self.store
            .put(&location, PutPayload::from(bytes.to_vec()))
            .await
            .map_err(io)?;
        next.insert(key.to_owned(), number + 1);
        Ok(())
    }

    async fn read(&self, key: &str, offset: u64, max: usize) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut start = 0u64;
        for (location, size) in self.chunks(key).await? {
            let end = start + size;
            if end > offset && out.len() < max {
                let from = offset.saturating_sub(start);
                let room = (max - out.len()) as u64;
                let to = size.min(from + room);
                let bytes = self
                    .store
                    .get_range(&location, from..to)
                    .await
                    .map_err(io)?;
                out.extend_from_slice(&bytes);
            }
            start = end;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn chunks_read_back_across_their_edges() {
        let logs = ObjectLogs::new(Arc::new(InMemory::new()), Path::from("logs"));
        for piece in ["hello ", "object ", "store\n"] {
            logs.append("7/12-1", piece.as_bytes()).await.unwrap();
        }
        assert_eq!(
            logs.read("7/12-1", 0, 100).await.unwrap(),
            b"hello object store\n"
        );
        assert_eq!(logs.read("7/12-1", 4, 6).await.unwrap(), b"o obje");
        assert_eq!(logs.read("7/12-1", 13, 100).await.unwrap(), b"store\n");
        assert!(logs.read("7/12-1", 19, 100).await.unwrap().is_empty());
        assert!(logs.read("7/other", 0, 100).await.unwrap().is_empty());
        // A new writer (another process) continues the numbering.
        let again = ObjectLogs::new(logs.store.clone(), Path::from("logs"));
        again.append("7/12-1", b"more\n").await.unwrap();
        assert!(
            logs.read("7/12-1", 0, 100)
                .await
                .unwrap()
                .ends_with(b"store\nmore\n")
        );
    }
}
