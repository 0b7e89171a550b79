//! This process's bare mirror of a project's repository, under
//! `data_dir/mirrors/{project}.git`: fetched from the linked URL only
//! (never from a URL in a payload), one fetch at a time per project, and
//! read with plain git plumbing: commits, ancestry, merge bases, changed
//! paths, and the pipeline files of a commit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use kiln_core::hooks::refs::{commit_id, is_ref_name};
use kiln_core::net::AddressPolicy;
use tokio::sync::Mutex;

use super::git::{GitFailure, Transports, git, git_pinned};
use crate::ServiceError;

/// One lock per mirror directory: fetches of one project never overlap.
static LOCKS: LazyLock<std::sync::Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> =
    LazyLock::new(Default::default);

fn lock_of(dir: &Path) -> Arc<Mutex<()>> {
    let mut locks = LOCKS.lock().unwrap_or_else(|p| p.into_inner());
    locks.entry(dir.to_path_buf()).or_default().clone()
}

/// Most pipeline files read from one commit.
pub const MAX_PIPELINE_FILES: usize = 100;

/// The refs a fetch brings: branches, tags, and pull/merge request heads
/// (a fork's commits are reachable only through those).
const REFSPECS: &[&str] = &[
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
    "+refs/pull/*/head:refs/pull/*/head",
    "+refs/merge-requests/*/head:refs/merge-requests/*/head",
];

pub struct Mirror {
    pub dir: PathBuf,
    url: String,
    transports: Transports,
    /// The addresses a fetch may reach (`None`: local repositories are
    /// allowed, nothing is checked).
    guard: Option<Arc<AddressPolicy>>,
}

/// A file of a commit: its path and text, or why it could not be read.
pub struct FileAt {
    pub path: String,
    pub text: Result<String, String>,
}

impl Mirror {
    pub fn new(root: &Path, project: i64, url: &str, local: bool) -> Mirror {
        Mirror {
            dir: root.join(format!("{project}.git")),
            url: url.to_owned(),
            transports: Transports { local },
            guard: None,
        }
    }

    /// The mirror of a linked repository, in this process's mirror folder.
    pub fn for_link(
        engine: &super::Engine,
        link: &crate::db::entities::repository::Model,
    ) -> Mirror {
        let settings = &engine.settings;
        let local = settings.allow_local_repositories;
        Mirror {
            guard: (!local).then(|| engine.http.policy()),
            ..Mirror::new(&settings.mirror_dir, link.project_id, &link.url, local)
        }
    }

    /// The commit's author's name.
    pub async fn author(&self, sha: &str) -> Option<String> {
        let out = self
            .git(&["log", "-1", "--format=%an", "--end-of-options", sha])
            .await
            .ok()?;
        Some(String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// The commit a tag points at, if it exists here.
    pub async fn tag_commit(&self, tag: &str) -> Option<String> {
        self.resolve("refs/tags/", tag).await
    }

    async fn git(&self, args: &[&str]) -> Result<Vec<u8>, GitFailure> {
        git(&self.dir, self.transports, args, None).await
    }

    /// Makes the mirror if needed and fetches every branch, tag and request
    /// head from the linked URL.
    pub async fn fetch(&self) -> Result<(), ServiceError> {
        let lock = lock_of(&self.dir);
        let _held = lock.lock().await;
        if !self.dir.join("HEAD").exists() {
            tokio::fs::create_dir_all(&self.dir).await?;
            self.git(&["init", "--quiet", "--bare"]).await?;
        }
        let mut args = vec![
            "fetch",
            "--no-show-forced-updates",
            "--quiet",
            "--prune",
            "--no-write-fetch-head",
            "--end-of-options",
            &self.url,
        ];
        args.extend_from_slice(REFSPECS);
        let pin = match &self.guard {
            Some(policy) => Some(super::git_address::pin(&self.url, policy).await?),
            None => None,
        };
        git_pinned(&self.dir, self.transports, &args, None, pin.as_ref()).await?;
        Ok(())
    }

    /// Whether the mirror has `sha` as a commit.
    pub async fn has_commit(&self, sha: &str) -> bool {
        let Some(sha) = commit_id(sha) else {
            return false;
        };
        let object = format!("{sha}^{{commit}}");
        self.git(&["cat-file", "-e", "--end-of-options", &object])
            .await
            .is_ok()
    }

    /// Whether `sha` is on a branch or a tag here. A pull request's head
    /// from a fork is only under `refs/pull/` (or `refs/merge-requests/`):
    /// its code is a stranger's.
    pub async fn is_on_branch_or_tag(&self, sha: &str) -> bool {
        let Some(sha) = commit_id(sha) else {
            return false;
        };
        self.git(&[
            "for-each-ref",
            "--count=1",
            "--format=%(refname)",
            "--contains",
            &sha,
            "refs/heads",
            "refs/tags",
        ])
        .await
        .is_ok_and(|out| !out.trim_ascii().is_empty())
    }

    /// The commit a branch points at, if it exists here.
    pub async fn branch_head(&self, branch: &str) -> Option<String> {
        self.resolve("refs/heads/", branch).await
    }

    /// The commit `{prefix}{name}` points at; `None` for a name git would
    /// refuse or a ref that is not here.
    async fn resolve(&self, prefix: &str, name: &str) -> Option<String> {
        if !is_ref_name(name) {
            return None;
        }
        self.commit_named(&format!("{prefix}{name}")).await
    }

    /// The commit a checked revision (a full ref or a commit id) names.
    async fn commit_named(&self, revision: &str) -> Option<String> {
        let object = format!("{revision}^{{commit}}");
        let out = self
            .git(&[
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &object,
            ])
            .await
            .ok()?;
        commit_id(String::from_utf8_lossy(&out).trim())
    }

    /// The commit `sha` names (an annotated tag's id names the tag).
    pub async fn peel(&self, sha: &str) -> Option<String> {
        self.commit_named(&commit_id(sha)?).await
    }

    /// Whether `a` is an ancestor of (or equal to) `b`.
    pub async fn is_ancestor(&self, a: &str, b: &str) -> bool {
        self.git(&["merge-base", "--is-ancestor", "--end-of-options", a, b])
            .await
            .is_ok()
    }

    /// Their best common ancestor, if they share history.
    pub async fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        let out = self
            .git(&["merge-base", "--end-of-options", a, b])
            .await
            .ok()?;
        commit_id(String::from_utf8_lossy(&out).trim())
    }

    /// The commit's message (for `[skip ci]`).
    pub async fn message(&self, sha: &str) -> Option<String> {
        let out = self
            .git(&["log", "-1", "--format=%B", "--end-of-options", sha])
            .await
            .ok()?;
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// Paths that differ between two commits, both sides of a rename.
    pub async fn changed(&self, from: &str, to: &str) -> Result<Vec<String>, ServiceError> {
        let out = self
            .git(&[
                "diff",
                "--name-only",
                "-z",
                "--no-renames",
                "--no-ext-diff",
                "--end-of-options",
                from,
                to,
                "--",
            ])
            .await?;
        Ok(split_z(&out))
    }

    /// Every path of a commit (a history with nothing in common).
    pub async fn all_files(&self, sha: &str) -> Result<Vec<String>, ServiceError> {
        let out = self
            .git(&[
                "ls-tree",
                "-r",
                "-z",
                "--name-only",
                "--end-of-options",
                sha,
            ])
            .await?;
        Ok(split_z(&out))
    }

    /// The pipeline files of commit `sha` (`.kiln.yml`, `.kiln/*.yml`), each
    /// read up to `max_bytes`.
    pub async fn pipeline_files(
        &self,
        sha: &str,
        max_bytes: usize,
    ) -> Result<Vec<FileAt>, ServiceError> {
        let listing = self
            .git(&[
                "ls-tree",
                "-z",
                "-l",
                "--end-of-options",
                sha,
                "--",
                ".kiln.yml",
                ".kiln.yaml",
                ".kiln/",
            ])
            .await?;
        let mut wanted = Vec::new();
        let mut files = Vec::new();
        for entry in split_z(&listing) {
            // "<mode> <type> <object> <size>\t<path>"
            let Some((meta, path)) = entry.split_once('\t') else {
                continue;
            };
            let fields: Vec<&str> = meta.split_whitespace().collect();
            if fields.len() != 4
                || fields[1] != "blob"
                || !kiln_core::pipeline::is_pipeline_file(path)
            {
                continue;
            }
            let size: usize = fields[3].parse().unwrap_or(usize::MAX);
            if files.len() + wanted.len() >= MAX_PIPELINE_FILES {
                // A pushed commit must not make every delivery read and
                // parse thousands of files.
                files.push(FileAt {
                    path: path.to_owned(),
                    text: Err(format!(
                        "a commit may hold at most {MAX_PIPELINE_FILES} pipeline files; this one is not read"
                    )),
                });
            } else if size > max_bytes {
                files.push(FileAt {
                    path: path.to_owned(),
                    text: Err(format!(
                        "the file is {size} bytes; at most {max_bytes} are read"
                    )),
                });
            } else {
                wanted.push((path.to_owned(), fields[2].to_owned()));
            }
        }
        if !wanted.is_empty() {
            let request: String = wanted
                .iter()
                .map(|(_, object)| format!("{object}\n"))
                .collect();
            let out = git(
                &self.dir,
                self.transports,
                &["cat-file", "--batch"],
                Some(request.into_bytes()),
            )
            .await?;
            let mut rest = out.as_slice();
            for (path, _) in wanted {
                let text = next_blob(&mut rest)
                    .ok_or_else(|| "the file could not be read".to_owned())
                    .and_then(|bytes| {
                        String::from_utf8(bytes)
                            .map_err(|_| "the file is not UTF-8 text".to_owned())
                    });
                files.push(FileAt { path, text });
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}

/// One object from `cat-file --batch` output: header line, contents, newline.
fn next_blob(rest: &mut &[u8]) -> Option<Vec<u8>> {
    let newline = rest.iter().position(|&b| b == b'\n')?;
    let header = std::str::from_utf8(&rest[..newline]).ok()?;
    let size: usize = header.split(' ').nth(2)?.parse().ok()?;
    let start = newline + 1;
    let body = rest.get(start..start + size)?.to_vec();
    *rest = rest.get(start + size + 1..).unwrap_or_default();
    Some(body)
}

fn split_z(out: &[u8]) -> Vec<String> {
    out.split(|&b| b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}
