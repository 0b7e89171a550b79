//! A step's `artifacts:`: which files of its checkout are saved when it
//! succeeds, and which earlier steps' artifacts a step gets back. Patterns
//! are paths or globs relative to the checkout (`dist`, `dist/`,
//! `reports/*.xml`, `**/*.log`); naming a directory takes everything under
//! it. The checkout's own `.git` is never saved.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::workflow::Workflow;

/// Files one step may save.
pub const MAX_FILES: usize = 10_000;
/// Entries looked at while searching a checkout for them (a tree bigger
/// than this is refused rather than walked for minutes).
pub const MAX_WALKED: usize = 200_000;
/// Directory depth searched.
pub const MAX_DEPTH: usize = 64;

/// Why a pattern is refused, or `Ok`.
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let escapes = pattern.starts_with('/')
        || pattern.split('/').any(|part| part == "..")
        || pattern.trim_end_matches('/').is_empty();
    if escapes {
        return Err(format!("{pattern:?} must be a path inside the checkout"));
    }
    if pattern.chars().any(char::is_control) || pattern.len() > 512 {
        return Err(format!(
            "{pattern:?} must be at most 512 characters, none of them control characters"
        ));
    }
    glob(pattern)
        .map(drop)
        .map_err(|e| format!("{pattern:?} is not a path or glob: {e}"))
}

fn glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    GlobBuilder::new(pattern.trim_end_matches('/'))
        .literal_separator(true)
        .build()
}

/// The files a step's patterns select.
#[derive(Debug, Clone)]
pub struct Selection {
    set: GlobSet,
    /// Each pattern's leading directories without glob characters: a
    /// directory off every one of them holds nothing selected.
    prefixes: Vec<String>,
}

impl Selection {
    /// Patterns as [`check_pattern`] accepted them.
    pub fn new(patterns: &[String]) -> Result<Selection, String> {
        let mut builder = GlobSetBuilder::new();
        let mut prefixes = Vec::new();
        for pattern in patterns {
            check_pattern(pattern)?;
            builder.add(glob(pattern).map_err(|e| e.to_string())?);
            let literal: Vec<&str> = pattern
                .trim_end_matches('/')
                .split('/')
                .take_while(|part| !part.contains(['*', '?', '[', '{']))
                .collect();
            prefixes.push(literal.join("/"));
        }
        Ok(Selection {
            set: builder.build().map_err(|e| e.to_string())?,
            prefixes,
        })
    }

    /// Whether the file at `path` (relative, `/`-separated) is saved: a
    /// pattern matches it or one of the directories it is in.
    pub fn selects(&self, path: &str) -> bool {
        if path == ".git" || path.starts_with(".git/") {
            return false;
        }
        let mut at = path;
        loop {
            if self.set.is_match(at) {
                return true;
            }
            match at.rfind('/') {
                Some(i) => at = &at[..i],
                None => return false,
            }
        }
    }

    /// Whether the directory `dir` can hold a selected file (so the search
    /// need not enter the others).
    pub fn may_hold(&self, dir: &str) -> bool {
        if dir == ".git" {
            return false;
        }
        self.prefixes.iter().any(|prefix| {
            prefix.is_empty()
                || prefix == dir
                || prefix.starts_with(&format!("{dir}/"))
                || dir.starts_with(&format!("{prefix}/"))
        })
    }
}

/// The steps whose artifacts step `id` gets, in file order (a later one's
/// file replaces an earlier one's): every step it waits for, directly or
/// not, that saves artifacts.
pub fn restored_for(workflow: &Workflow, id: &str) -> Vec<String> {
    let mut upstream = std::collections::BTreeSet::new();
    let mut stack: Vec<&str> = workflow
        .tasks
        .iter()
        .find(|t| t.id == id)
        .map(|t| t.needs.iter().map(|(n, _)| n.as_str()).collect())
        .unwrap_or_default();
    while let Some(next) = stack.pop() {
        if upstream.insert(next)
            && let Some(task) = workflow.tasks.iter().find(|t| t.id == next)
        {
            stack.extend(task.needs.iter().map(|(n, _)| n.as_str()));
        }
    }
    workflow
        .tasks
        .iter()
        .filter(|t| upstream.contains(t.id.as_str()) && !t.artifacts.is_empty())
        .map(|t| t.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selection(patterns: &[&str]) -> Selection {
        let owned: Vec<String> = patterns.iter().map(|p| (*p).to_owned()).collect();
        match Selection::new(&owned) {
            Ok(s) => s,
            Err(e) => panic!("{patterns:?}: {e}"),
        }
    }

    #[test]
    fn a_directory_takes_everything_under_it_and_globs_stay_in_their_directory() {
        let s = selection(&["dist/", "reports/*.xml", "bin/app"]);
        for yes in ["dist/a", "dist/deep/er/b.js", "reports/unit.xml", "bin/app"] {
            assert!(s.selects(yes), "{yes}");
        }
        for no in [
            "distant/a",
            "reports/deep/unit.xml",
            "reports/unit.txt",
            "bin/app2",
            "src/dist/a",
        ] {
            assert!(!s.selects(no), "{no}");
        }
        assert!(s.may_hold("dist") && s.may_hold("dist/deep") && s.may_hold("reports"));
        assert!(s.may_hold("bin"));
        assert!(!s.may_hold("node_modules") && !s.may_hold("src"));
    }

    #[test]
    fn the_checkouts_git_directory_is_never_saved() {
        let s = selection(&["**"]);
        assert!(s.selects("a/b"));
        assert!(!s.selects(".git/config") && !s.selects(".git"));
        assert!(!s.may_hold(".git") && s.may_hold("anything"));
    }

    #[test]
    fn patterns_that_leave_the_checkout_or_do_not_parse_are_refused() {
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../b",
            "",
            "/",
            "a\nb",
            "dist/[z-a]",
        ] {
            assert!(check_pattern(bad).is_err(), "{bad:?}");
        }
        for good in ["dist", "dist/", "**/*.log", "out/{a,b}/*"] {
            assert_eq!(check_pattern(good), Ok(()), "{good:?}");
        }
    }

    #[test]
    fn a_step_gets_the_artifacts_of_every_step_before_it_in_file_order() {
        let source = "steps:\n  - name: build\n    run: make\n    artifacts: [dist]\n  - name: docs\n    run: make docs\n    artifacts: [site]\n    needs: []\n  - name: lint\n    run: lint\n    needs: [build]\n  - name: test\n    run: test\n    needs: [lint, docs]\n";
        let pipeline =
            match crate::pipeline::load("ci.yml", source, &crate::workflow::Limits::default()) {
                Ok(p) => p,
                Err(e) => panic!("{e:?}"),
            };
        let w = &pipeline.workflow;
        assert_eq!(restored_for(w, "test"), ["build", "docs"]);
        assert_eq!(restored_for(w, "lint"), ["build"]);
        assert!(restored_for(w, "build").is_empty());
        assert!(restored_for(w, "ghost").is_empty());
    }
}
