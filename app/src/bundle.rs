//! The tags in every page's head that load the compiled bundle: its
//! stylesheet, a preload of its JS and of its WASM, and the script that
//! hydrates the islands.
//!
//! Leptos' own `HashedStylesheet` and `HydrationScripts` look the hashed
//! file names up in `hash.txt` on every render: a `readlink` of the running
//! binary, a `stat` and a read of the file, twice a page, about a tenth of
//! the CPU of a page with no data. Here the server names the files once, at
//! start ([`Bundle`]), and each render only writes them out. The script is
//! Leptos' own (`bundle/islands.js`, from leptos 0.8's `island_script.js`,
//! MIT), called with the same arguments; a test renders both and compares,
//! so an upgrade of Leptos that changes them fails it.

use std::sync::Arc;

use leptos::prelude::*;

/// The script that loads the bundle and hydrates the islands once the
/// browser is idle.
const ISLANDS_SCRIPT: &str = include_str!("bundle/islands.js");

/// The bundle's file names under the site's package directory, without
/// their extensions (`kiln.<hash>` when the build hashed them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub pkg_dir: Arc<str>,
    pub js: Arc<str>,
    pub wasm: Arc<str>,
    pub css: Arc<str>,
}

/// What every page's head needs, worked out once at start: the bundle's
/// names, and under `cargo leptos watch` (`LEPTOS_WATCH` set) the options
/// its reload script needs.
#[derive(Debug, Clone)]
pub struct Head {
    pub bundle: Bundle,
    pub watch: Option<LeptosOptions>,
}

impl Head {
    pub fn new(bundle: Bundle, options: &LeptosOptions) -> Arc<Self> {
        let watch = std::env::var_os("LEPTOS_WATCH").map(|_| options.clone());
        Arc::new(Self { bundle, watch })
    }
}

/// The stylesheet, as `HashedStylesheet` writes it.
#[component]
pub fn BundleStylesheet(bundle: Bundle, id: &'static str) -> impl IntoView {
    let href = format!("/{}/{}.css", bundle.pkg_dir, bundle.css);
    view! { <link id=id rel="stylesheet" href=href /> }
}

/// The preloads and the islands' script, as `HydrationScripts` writes them
/// with `islands=true` (no `root`, no islands router, no split WASM).
#[component]
pub fn BundleScripts(bundle: Bundle) -> impl IntoView {
    // Islands: only they hydrate, so the rest of the page is drawn without
    // hydration markers (what `HydrationScripts` does in islands mode).
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let nonce = leptos::nonce::use_nonce();
    let Bundle {
        pkg_dir, js, wasm, ..
    } = bundle;
    let wasm_crossorigin = nonce
        .as_ref()
        .map_or_else(String::new, |n| n.as_inner().to_string());
    let call = format!(
        "{ISLANDS_SCRIPT}({:?}, {pkg_dir:?}, {js:?}, {wasm:?}, false);",
        ""
    );
    view! {
        <link rel="modulepreload" href=format!("/{pkg_dir}/{js}.js") crossorigin=nonce.clone() />
        <link
            rel="preload"
            href=format!("/{pkg_dir}/{wasm}.wasm")
            r#as="fetch"
            r#type="application/wasm"
            crossorigin=wasm_crossorigin
        />
        <script type="module" nonce=nonce>
            {call}
        </script>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use std::sync::Arc;

    use hydration_context::{SharedContext, SsrSharedContext};
    use leptos::config::LeptosOptions;
    use leptos::prelude::*;
    use leptos_meta::HashedStylesheet;

    use super::{Bundle, BundleScripts, BundleStylesheet};

    /// Without hashing, Leptos names the JS after the output and the WASM
    /// after it too, with `_bg` when the build did not set its name.
    fn leptos_names() -> Bundle {
        let wasm = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
            "kiln"
        } else {
            "kiln_bg"
        };
        Bundle {
            pkg_dir: "pkg".into(),
            js: "kiln".into(),
            wasm: wasm.into(),
            css: "kiln".into(),
        }
    }

    fn options() -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("kiln")
            .site_root("/nonexistent-site")
            .site_pkg_dir("pkg")
            .hash_files(false)
            .build()
    }

    /// Renders `view` as a page's head is rendered on the server, and says
    /// whether the rest of the page would still carry hydration markers.
    fn render(view: impl Fn() -> AnyView) -> (String, bool) {
        let context = Arc::new(SsrSharedContext::new());
        let owner = Owner::new_root(Some(context.clone()));
        let html = owner.with(|| view().to_html());
        (html, context.get_is_hydrating())
    }

    #[test]
    fn the_tags_are_those_leptos_writes() {
        // One nonce for both renders: `provide_nonce` draws a new one.
        let nonce = Owner::new().with(|| {
            leptos::nonce::provide_nonce();
            leptos::nonce::use_nonce().expect("a nonce")
        });
        let with_nonce = move |view: fn() -> AnyView| {
            let nonce = nonce.clone();
            move || {
                provide_context(nonce.clone());
                view()
            }
        };
        let theirs = render(with_nonce(|| {
            view! {
                <HashedStylesheet options=options() id="kiln-css" />
                <HydrationScripts options=options() islands=true />
            }
            .into_any()
        }));
        let ours = render(with_nonce(|| {
            view! {
                <BundleStylesheet bundle=leptos_names() id="kiln-css" />
                <BundleScripts bundle=leptos_names() />
            }
            .into_any()
        }));
        assert_eq!(ours, theirs);
        assert!(ours.0.contains("/pkg/kiln.js"), "{}", ours.0);
        assert!(ours.0.contains("nonce="), "{}", ours.0);
        // Islands: the page around them is not hydrated.
        assert!(!ours.1);
    }
}
