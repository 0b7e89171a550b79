//! `when:` on a pipeline or a step, and the decision for one git event:
//! started, or which rule left it out. Globs are compiled once, when the
//! file is read; `*` stops at `/` and `**` crosses it, in branch and tag
//! names as in paths (`release/*` matches `release/1.2`, not
//! `release/1.2/hotfix`).

use std::fmt;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use super::events::EventKind;
use crate::engine::TriggerRule;
use crate::workflow::Position;

/// Compiled globs with their text, for messages.
#[derive(Debug, Clone)]
pub struct Globs {
    pub patterns: Vec<String>,
    set: GlobSet,
}

impl Globs {
    /// Compiles `patterns`; `Err` names the first bad one.
    pub fn new(patterns: Vec<String>) -> Result<Globs, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &patterns {
            builder.add(glob(pattern)?);
        }
        let set = builder
            .build()
            .map_err(|e| format!("the patterns could not be compiled: {e}"))?;
        Ok(Globs { patterns, set })
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    pub fn matches(&self, text: &str) -> bool {
        self.set.is_match(text)
    }
}

impl Default for Globs {
    fn default() -> Self {
        Globs {
            patterns: Vec::new(),
            set: GlobSet::empty(),
        }
    }
}

fn glob(pattern: &str) -> Result<Glob, String> {
    if pattern.is_empty() {
        return Err("an empty pattern matches nothing".to_owned());
    }
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("{pattern:?} is not a valid pattern: {}", e.kind()))
}

/// Which changed files start it: at least one included and not excluded.
#[derive(Debug, Clone, Default)]
pub struct PathRule {
    /// Empty: every file is included.
    pub include: Globs,
    pub exclude: Globs,
}

impl PathRule {
    /// The first changed file that counts, if any.
    fn first_counted<'a>(&self, changed: &'a [String]) -> Option<&'a str> {
        changed.iter().map(String::as_str).find(|f| {
            (self.include.is_empty() || self.include.matches(f)) && !self.exclude.matches(f)
        })
    }
}

/// When a step of a pipeline runs relative to the steps it waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepStatus {
    /// Only after they all succeeded (the default).
    #[default]
    Success,
    /// Only after one of them failed (a notification, a rollback).
    Failure,
    /// Once they are all done, whatever their outcome (a clean-up).
    Always,
}

impl StepStatus {
    pub fn parse(raw: &str) -> Option<StepStatus> {
        match raw {
            "success" => Some(StepStatus::Success),
            "failure" => Some(StepStatus::Failure),
            "always" => Some(StepStatus::Always),
            _ => None,
        }
    }

    /// The engine's trigger rule with this meaning.
    pub fn trigger_rule(self) -> TriggerRule {
        match self {
            StepStatus::Success => TriggerRule::AllSuccess,
            StepStatus::Failure => TriggerRule::OneFailed,
            StepStatus::Always => TriggerRule::AllDone,
        }
    }
}

/// A `when:` mapping. Every part left out allows everything.
#[derive(Debug, Clone, Default)]
pub struct When {
    /// Empty: every event.
    pub events: Vec<EventKind>,
    /// Branch names (for a pull request: its target branch).
    pub branches: Globs,
    pub tags: Globs,
    pub paths: Option<PathRule>,
    /// Steps only: `status:`, as a trigger rule.
    pub status: Option<StepStatus>,
    pub at: Position,
}

/// One git event (or manual start) as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub event: EventKind,
    /// The pushed branch; for a pull request, its target branch.
    pub branch: Option<&'a str>,
    pub tag: Option<&'a str>,
    /// Changed files, or `None` where paths are not evaluated (a tag, a
    /// manual start, a schedule).
    pub paths: Option<&'a [String]>,
}

/// Why a pipeline or step does not start: the first rule that left it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Excluded {
    Event {
        event: EventKind,
        allowed: Vec<EventKind>,
    },
    Branch {
        branch: Option<String>,
        patterns: Vec<String>,
    },
    Tag {
        tag: Option<String>,
        patterns: Vec<String>,
    },
    /// No changed file is included (or all of them are excluded).
    Paths {
        changed: usize,
        include: Vec<String>,
        exclude: Vec<String>,
    },
}

impl Excluded {
    /// The rule's name, as in the file (`when.event`, `when.paths`, …).
    pub fn rule(&self) -> &'static str {
        match self {
            Excluded::Event { .. } => "event",
            Excluded::Branch { .. } => "branch",
            Excluded::Tag { .. } => "tag",
            Excluded::Paths { .. } => "paths",
        }
    }
}

impl fmt::Display for Excluded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Excluded::Event { event, allowed } => {
                let allowed: Vec<&str> = allowed.iter().map(|e| e.as_str()).collect();
                write!(
                    f,
                    "event {event} is not in when.event [{}]",
                    allowed.join(", ")
                )
            }
            Excluded::Branch {
                branch: None,
                patterns,
            } => write!(
                f,
                "the event has no branch and when.branch is [{}]",
                patterns.join(", ")
            ),
            Excluded::Branch {
                branch: Some(branch),
                patterns,
            } => write!(
                f,
                "branch {branch:?} matches nothing in when.branch [{}]",
                patterns.join(", ")
            ),
            Excluded::Tag {
                tag: None,
                patterns,
            } => write!(
                f,
                "the event is not a tag and when.tag is [{}]",
                patterns.join(", ")
            ),
            Excluded::Tag {
                tag: Some(tag),
                patterns,
            } => write!(
                f,
                "tag {tag:?} matches nothing in when.tag [{}]",
                patterns.join(", ")
            ),
            Excluded::Paths { changed: 0, .. } => {
                f.write_str("no file changed, and when.paths asks for changed files")
            }
            Excluded::Paths {
                changed,
                include,
                exclude,
            } => {
                write!(f, "none of the {changed} changed files is in when.paths")?;
                if !include.is_empty() {
                    write!(f, " (include [{}]", include.join(", "))?;
                    if !exclude.is_empty() {
                        write!(f, ", exclude [{}]", exclude.join(", "))?;
                    }
                    f.write_str(")")
                } else {
                    write!(f, " (all excluded by [{}])", exclude.join(", "))
                }
            }
        }
    }
}

impl When {
    /// Whether `change` passes every rule; else the first that fails, in
    /// the order event, tag, branch, paths.
    pub fn check(&self, change: &Change<'_>) -> Result<(), Excluded> {
        if !self.events.is_empty() && !self.events.contains(&change.event) {
            return Err(Excluded::Event {
                event: change.event,
                allowed: self.events.clone(),
            });
        }
        if change.event == EventKind::Tag {
            // A tag has no branch: `branch:` does not apply, `tag:` does.
            if !self.tags.is_empty() && !change.tag.is_some_and(|t| self.tags.matches(t)) {
                return Err(Excluded::Tag {
                    tag: change.tag.map(str::to_owned),
                    patterns: self.tags.patterns.clone(),
                });
            }
        } else {
            if !self.tags.is_empty() {
                return Err(Excluded::Tag {
                    tag: None,
                    patterns: self.tags.patterns.clone(),
                });
            }
            if !self.branches.is_empty() && !change.branch.is_some_and(|b| self.branches.matches(b))
            {
                return Err(Excluded::Branch {
                    branch: change.branch.map(str::to_owned),
                    patterns: self.branches.patterns.clone(),
                });
            }
        }
        if let (Some(rule), Some(changed)) = (&self.paths, change.paths)
            && rule.first_counted(changed).is_none()
        {
            return Err(Excluded::Paths {
                changed: changed.len(),
                include: rule.include.patterns.clone(),
                exclude: rule.exclude.patterns.clone(),
            });
        }
        Ok(())
    }
}
