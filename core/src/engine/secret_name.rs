//! What a secret may be called: an environment variable name (it reaches a
//! step as one), upper case, at most 64 bytes, and not in Kiln's own
//! `KILN_` namespace.

pub fn check_secret_name(name: &str) -> Result<(), &'static str> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_uppercase() || b == b'_');
    if !first_ok || !bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') {
        return Err(
            "a secret's name is upper-case letters, digits and '_', not starting with a digit",
        );
    }
    if name.len() > 64 {
        return Err("a secret's name is at most 64 characters");
    }
    if name.starts_with("KILN_") {
        return Err("names starting with KILN_ are Kiln's own");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_environment_variables() {
        for good in ["TOKEN", "DEPLOY_KEY_2", "_X"] {
            assert_eq!(check_secret_name(good), Ok(()), "{good}");
        }
        for bad in ["", "token", "2FA", "A-B", "KILN_RUN_ID", &"A".repeat(65)] {
            assert!(check_secret_name(bad).is_err(), "{bad}");
        }
    }
}
