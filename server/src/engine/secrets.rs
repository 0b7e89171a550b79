//! Secrets at rest: sealed with XChaCha20-Poly1305 (an AEAD) under one
//! instance key. The key comes from configuration, or is generated once
//! into the data directory (`secret.key`, owner-only permissions). Each
//! sealed value is bound to where it belongs (`aad`, e.g. node and name), so
//! a row copied elsewhere fails to open instead of leaking.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng;

const KEY_FILE: &str = "secret.key";
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("the secrets key must be 32 bytes in base64")]
    BadKey,
    #[error("{path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is readable by others (mode {mode:o}); make it 600")]
    KeyFileOpen { path: String, mode: u32 },
    #[error("a secret could not be opened: wrong key, or moved from where it was sealed")]
    Open,
}

/// The instance's key.
#[derive(Clone)]
pub struct SecretKey(XChaCha20Poly1305);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

fn decode_key(text: &str) -> Result<[u8; 32], SecretsError> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| SecretsError::BadKey)?;
    bytes.try_into().map_err(|_| SecretsError::BadKey)
}

impl SecretKey {
    /// The configured key, else the one in `data_dir`, made there if absent.
    pub fn load_or_create(configured: Option<&str>, data_dir: &Path) -> Result<Self, SecretsError> {
        let bytes = match configured {
            Some(text) => decode_key(text)?,
            None => Self::from_file(&data_dir.join(KEY_FILE))?,
        };
        Ok(SecretKey(XChaCha20Poly1305::new(&bytes.into())))
    }

    fn from_file(path: &Path) -> Result<[u8; 32], SecretsError> {
        let io = |source| SecretsError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    return Err(SecretsError::KeyFileOpen {
                        path: path.display().to_string(),
                        mode,
                    });
                }
                decode_key(&text)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rng().fill(&mut key);
                // create_new: two servers starting at once cannot both write one.
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(io)?;
                file.write_all(STANDARD.encode(key).as_bytes())
                    .map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(key)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Seals `plaintext`, bound to `aad`: nonce then ciphertext.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill(&mut nonce);
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SecretsError> {
        if sealed.len() < NONCE_LEN {
            return Err(SecretsError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| SecretsError::Open)
    }
}

impl From<SecretsError> for crate::ServiceError {
    fn from(error: SecretsError) -> Self {
        crate::ServiceError::internal("secret storage", error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_where_they_belong() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretKey::load_or_create(None, dir.path()).unwrap();
        let sealed = key.seal(b"hunter22", b"project:7/DEPLOY_TOKEN");
        assert!(
            !sealed.windows(8).any(|w| w == b"hunter22"),
            "not stored in the clear"
        );
        assert_eq!(
            key.open(&sealed, b"project:7/DEPLOY_TOKEN").unwrap(),
            b"hunter22"
        );
        assert!(
            key.open(&sealed, b"project:8/DEPLOY_TOKEN").is_err(),
            "bound to its place"
        );
        assert_ne!(
            sealed,
            key.seal(b"hunter22", b"project:7/DEPLOY_TOKEN"),
            "fresh nonce"
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(key.open(&tampered, b"project:7/DEPLOY_TOKEN").is_err());
    }

    #[test]
    fn the_generated_key_is_kept_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = SecretKey::load_or_create(None, dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let again = SecretKey::load_or_create(None, dir.path()).unwrap();
        let sealed = first.seal(b"x", b"a");
        assert_eq!(
            again.open(&sealed, b"a").unwrap(),
            b"x",
            "same key after a restart"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            SecretKey::load_or_create(None, dir.path()),
            Err(SecretsError::KeyFileOpen { .. })
        ));
    }

    #[test]
    fn a_configured_key_is_used_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let text = STANDARD.encode([7u8; 32]);
        let a = SecretKey::load_or_create(Some(&text), dir.path()).unwrap();
        let b = SecretKey::load_or_create(Some(&text), dir.path()).unwrap();
        assert_eq!(b.open(&a.seal(b"v", b"k"), b"k").unwrap(), b"v");
        assert!(
            !dir.path().join(KEY_FILE).exists(),
            "no file when configured"
        );
        assert!(matches!(
            SecretKey::load_or_create(Some("short"), dir.path()),
            Err(SecretsError::BadKey)
        ));
    }
}
