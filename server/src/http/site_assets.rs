//! The dashboard's built assets under `/pkg`: what they are called and how
//! they are cached and compressed.
//!
//! cargo-leptos names the bundle after its content (`kiln.<hash>.wasm`,
//! `hash-files` in the workspace metadata) and lists the hashes in
//! `hash.txt` beside the binary, where Leptos reads them to write the
//! script and stylesheet tags. A file so named never changes: it is cached
//! for a year, `immutable`; anything else in `/pkg` is revalidated on every
//! use (`no-cache`). A release build made with `--precompress` has a `.br`
//! and a `.gz` twin of each file, sent as they are; without them the
//! response is compressed on the fly. Every answer varies by
//! `Accept-Encoding`. Without a usable hash file, an unhashed bundle is
//! served if there is one; with neither, a warning says why pages come
//! bare.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use kiln_app::bundle::Bundle;

/// The hash file's name, beside the binary (Leptos looks for it there).
pub const HASH_FILE: &str = "hash.txt";

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";

/// Which files in `/pkg` carry their content's hash in their name.
#[derive(Debug, Clone, Default)]
pub struct SiteAssets {
    hashed: Arc<HashSet<String>>,
}

impl SiteAssets {
    /// Reads the hash file beside the running binary. The hashed names count
    /// only if those files are in `pkg_dir`: a hash file left from another
    /// build must not make every page point at files that are not there.
    pub fn load(pkg_dir: &Path, output_name: &str) -> Self {
        let hash_file = std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join(HASH_FILE)));
        let names = hash_file
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .map(|text| hashed_names(&text, output_name))
            .filter(|names| !names.is_empty() && names.iter().all(|n| pkg_dir.join(n).is_file()));
        let plain = pkg_dir.join(format!("{output_name}.js"));
        let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
        match names {
            // An unhashed bundle newer than the hash file is a later build
            // (`cargo leptos watch` hashes only its first): it wins.
            Some(names)
                if !plain.is_file()
                    || modified(&plain) <= hash_file.as_deref().and_then(modified) =>
            {
                Self {
                    hashed: Arc::new(names.into_iter().collect()),
                }
            }
            Some(_) => Self::default(),
            None if plain.is_file() => Self::default(),
            None => {
                tracing::warn!(
                    pkg = %pkg_dir.display(),
                    "the site has no bundle this binary can name: pages will come without their scripts and styles (a hashed build needs its {HASH_FILE} beside the binary)"
                );
                Self::default()
            }
        }
    }

    /// Whether pages should point at the hashed names.
    pub fn is_hashed(&self) -> bool {
        !self.hashed.is_empty()
    }

    /// The names pages load the bundle by, without their extensions: the
    /// hashed ones, or else the plain names Leptos would write (the WASM's
    /// with `_bg` unless cargo-leptos named the build's output).
    pub fn bundle(&self, pkg_dir: &str, output_name: &str) -> Bundle {
        let named = |kind: &str| -> Arc<str> {
            let suffix = format!(".{kind}");
            self.hashed
                .iter()
                .find_map(|name| name.strip_suffix(&suffix))
                .map_or_else(|| output_name.into(), Arc::from)
        };
        let wasm = if self.is_hashed() || option_env!("LEPTOS_OUTPUT_NAME").is_some() {
            named("wasm")
        } else {
            format!("{output_name}_bg").into()
        };
        Bundle {
            pkg_dir: pkg_dir.into(),
            js: named("js"),
            wasm,
            css: named("css"),
        }
    }

    /// The `Cache-Control` for a request path under `/pkg`.
    pub fn cache_control(&self, path: &str) -> &'static str {
        let name = path.rsplit('/').next().unwrap_or_default();
        if self.hashed.contains(name) {
            IMMUTABLE
        } else {
            REVALIDATE
        }
    }
}

/// The file names `hash.txt` stands for: its lines are `js: <hash>`,
/// `wasm: <hash>`, `css: <hash>` (and for split bundles `manifest:` and
/// `split:`, whose files are not ours to name).
pub fn hashed_names(text: &str, output_name: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let (kind, hash) = line.trim().split_once(':')?;
            let (kind, hash) = (kind.trim(), hash.trim());
            let plausible = !hash.is_empty()
                && hash
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            (matches!(kind, "js" | "wasm" | "css") && plausible)
                .then(|| format!("{output_name}.{hash}.{kind}"))
        })
        .collect()
}

/// Middleware on `/pkg`: every answer says how long it may be kept.
pub async fn cache_headers(assets: SiteAssets, request: Request, next: Next) -> Response {
    let policy = assets.cache_control(request.uri().path());
    let mut response = next.run(request).await;
    if response.status().is_success() || response.status().as_u16() == 304 {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        // The same name is sent brotli, gzip or plain: a shared cache must
        // keep them apart.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASHES: &str = "js: Ab-c_1\nwasm: Zz9\ncss: Q1\nmanifest: M\nsplit: S\n";

    #[test]
    fn the_hash_file_names_the_bundle() {
        assert_eq!(
            hashed_names(HASHES, "kiln"),
            ["kiln.Ab-c_1.js", "kiln.Zz9.wasm", "kiln.Q1.css"]
        );
    }

    #[test]
    fn a_hash_that_could_leave_the_directory_is_ignored() {
        assert!(hashed_names("js: ../../etc/passwd\nwasm:\ncss: a b", "kiln").is_empty());
    }

    #[test]
    fn hashed_files_are_immutable_and_the_rest_revalidated() {
        let assets = SiteAssets {
            hashed: Arc::new(hashed_names(HASHES, "kiln").into_iter().collect()),
        };
        assert!(assets.is_hashed());
        assert_eq!(assets.cache_control("/kiln.Zz9.wasm"), IMMUTABLE);
        assert_eq!(assets.cache_control("/kiln.wasm"), REVALIDATE);
        assert_eq!(assets.cache_control("/other/kiln.Zz9.wasm.map"), REVALIDATE);
        assert!(!SiteAssets::default().is_hashed());
        let bundle = assets.bundle("pkg", "kiln");
        assert_eq!(
            (&*bundle.js, &*bundle.wasm, &*bundle.css),
            ("kiln.Ab-c_1", "kiln.Zz9", "kiln.Q1")
        );
        let plain = SiteAssets::default().bundle("pkg", "kiln");
        assert_eq!((&*plain.js, &*plain.css), ("kiln", "kiln"));
        assert!(plain.wasm.starts_with("kiln"));
        assert_eq!(SiteAssets::default().cache_control("/kiln.js"), REVALIDATE);
    }
}
