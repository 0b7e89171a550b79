//! Whether a delivery comes from the host that knows the project's hook
//! secret: Gitea and Forgejo sign the raw body with HMAC-SHA256 (hex in
//! `X-Gitea-Signature` / `X-Forgejo-Signature`, and `sha256=`+hex in
//! `X-Hub-Signature-256`), GitHub in `X-Hub-Signature-256`, GitLab sends the
//! secret itself in `X-Gitlab-Token`. Every comparison is constant time.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Provider;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    Missing,
    Wrong,
}

/// Checks the delivery's signature (or token) against `secret`.
pub fn verify(
    provider: Provider,
    header: &dyn Fn(&str) -> Option<String>,
    secret: &[u8],
    body: &[u8],
) -> Result<(), SignatureError> {
    match provider {
        Provider::Gitea => {
            if let Some(hex) = header("x-gitea-signature").or_else(|| header("x-forgejo-signature"))
            {
                return check_hmac(secret, body, &hex);
            }
            hub_signature(header, secret, body)
        }
        Provider::Github => hub_signature(header, secret, body),
        Provider::Gitlab => {
            let token = header("x-gitlab-token").ok_or(SignatureError::Missing)?;
            // Hashed first: equal lengths, so the comparison's time says
            // nothing about the secret's length.
            let given = Sha256::digest(token.as_bytes());
            let known = Sha256::digest(secret);
            if bool::from(given.ct_eq(&known)) {
                Ok(())
            } else {
                Err(SignatureError::Wrong)
            }
        }
    }
}

fn hub_signature(
    header: &dyn Fn(&str) -> Option<String>,
    secret: &[u8],
    body: &[u8],
) -> Result<(), SignatureError> {
    let value = header("x-hub-signature-256").ok_or(SignatureError::Missing)?;
    let hex = value.strip_prefix("sha256=").ok_or(SignatureError::Wrong)?;
    check_hmac(secret, body, hex)
}

fn check_hmac(secret: &[u8], body: &[u8], hex: &str) -> Result<(), SignatureError> {
    let given = decode_hex(hex.trim()).ok_or(SignatureError::Wrong)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| SignatureError::Wrong)?;
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| SignatureError::Wrong)
}

/// The signature as bytes (64 hex digits for SHA-256).
fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The signature Gitea and GitHub would send for `body` (hex), for tests
/// and for replaying a delivery.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
