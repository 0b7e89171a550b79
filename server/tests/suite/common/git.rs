//! A real git repository for tests, made with the git CLI: a monorepo with
//! `services/a`, `services/b`, `libs/common`, docs, and a pipeline file per
//! service.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const ZERO: &str = "0000000000000000000000000000000000000000";

pub struct Repo {
    pub dir: PathBuf,
}

impl Repo {
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Tess",
                "-c",
                "user.email=t@example.com",
                "-c",
                "init.defaultBranch=main",
            ])
            .arg("-C")
            .arg(&self.dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn write(&self, path: &str, text: &str) {
        let file = self.dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    /// Writes the files and commits them; the new commit's id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (path, text) in files {
            self.write(path, text);
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

pub fn pipeline(service: &str, events: &str) -> String {
    format!(
        "when:\n  event: [{events}]\n  paths:\n    include: ['services/{service}/**', 'libs/common/**']\n    exclude: ['**/*.md']\nsteps:\n  - name: test\n    run: make -C services/{service} test\n  - name: deploy\n    run: ./deploy {service}\n    when: {{ branch: main }}\n"
    )
}

pub fn monorepo(root: &Path) -> (Repo, String) {
    let repo = Repo {
        dir: root.join("monorepo"),
    };
    std::fs::create_dir_all(&repo.dir).unwrap();
    repo.git(&["init", "-q"]);
    let first = repo.commit(
        &[
            ("services/a/main.rs", "a0"),
            ("services/b/main.rs", "b0"),
            ("libs/common/lib.rs", "c0"),
            ("docs/index.md", "d0"),
            (".kiln/a.yml", &pipeline("a", "push, tag")),
            (".kiln/b.yml", &pipeline("b", "push, pull_request")),
        ],
        "initial",
    );
    (repo, first)
}
