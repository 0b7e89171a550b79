//! Password hashing with argon2id at OWASP's parameters (19 MiB, 2 passes,
//! 1 lane: argon2's defaults), on the blocking pool so a login never stalls
//! the async workers. Unknown users are checked against a fixed dummy hash so
//! they take as long as a wrong password.

use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::ServiceError;

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

pub async fn hash(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|e| ServiceError::Hashing(e.to_string()))?
}

fn hash_now(password: &str) -> Result<String, ServiceError> {
    hasher()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ServiceError::Hashing(e.to_string()))
}

/// Whether `password` matches `stored`; with no stored hash (unknown user) it
/// does the same work and answers false.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ServiceError> {
    tokio::task::spawn_blocking(move || match stored {
        Some(hash) => verify_now(&password, &hash),
        None => {
            verify_now(&password, dummy_hash()?)?;
            Ok(false)
        }
    })
    .await
    .map_err(|e| ServiceError::Hashing(e.to_string()))?
}

fn verify_now(password: &str, stored: &str) -> Result<bool, ServiceError> {
    let parsed = PasswordHash::new(stored).map_err(|e| ServiceError::Hashing(e.to_string()))?;
    Ok(hasher()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

fn dummy_hash() -> Result<&'static str, ServiceError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hash_now("kiln dummy password for unknown users")?;
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_differ() {
        let a = hash("correct horse".into()).await.unwrap();
        let b = hash("correct horse".into()).await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(
            verify("correct horse".into(), Some(a.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong horse".into(), Some(a)).await.unwrap());
        assert!(!verify("correct horse".into(), None).await.unwrap());
    }
}
