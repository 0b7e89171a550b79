//! Finished runs' page data, kept for the next view. A finished run
//! changes only by new events (a re-run appends them) or a change of its
//! row (an approval), so its page is kept under the run, its newest event
//! and its row's change time, and a page of a 500-task run no
//! longer reads 500 steps and 1,500 moves and lays out its graph each
//! time; its markup is kept with it (`DrawnOnServer`). What depends on who
//! looks and when (roles, "3 min ago") is set on each copy.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use kiln_app::runs::data::{DrawnOnServer, ForkApproval, RunDetail, RunRow};

/// Pages kept: the newest views.
const KEPT: usize = 8;
/// Tasks of all kept pages together: a 500-task run's data and markup are
/// about 1 MB. A run bigger than this is not kept.
const KEPT_TASKS: usize = 2_000;

/// What a kept page is valid for: the run's newest event, and its row's
/// change time.
pub type Version = (i64, i64);

/// What a run's page shows to any viewer (`RunPage` without the
/// viewer's role, rights and the time since the run's start).
#[derive(Clone)]
pub struct SharedRunPage {
    pub run: RunRow,
    pub started_by: Option<String>,
    pub params: Vec<(String, String)>,
    pub graph_width: f64,
    pub graph_height: f64,
    pub allowed_failures: bool,
    /// With `can_approve` false: it is the viewer's.
    pub fork: Option<ForkApproval>,
    pub errors: Vec<String>,
    pub waiting_for: Option<String>,
    pub detail: DrawnOnServer<RunDetail>,
}

/// A run's shared page, and what the viewer's fields are made from.
#[derive(Clone)]
pub struct KeptPage {
    pub shared: SharedRunPage,
    pub created_ms: i64,
    /// The run's steps get no secrets until a maintainer approves it.
    pub secrets_withheld: bool,
}

#[derive(Default)]
pub struct RunPages {
    /// (run, version, page), the most recently viewed first.
    kept: Mutex<VecDeque<(i64, Version, KeptPage)>>,
}

impl RunPages {
    /// Run `run`'s page if it was kept at `version`.
    pub fn get(&self, run: i64, version: Version) -> Option<KeptPage> {
        let mut kept = self.lock();
        let at = kept
            .iter()
            .position(|(r, v, _)| *r == run && *v == version)?;
        let entry = kept.remove(at)?;
        let page = entry.2.clone();
        kept.push_front(entry);
        Some(page)
    }

    /// Keeps run `run`'s page at `version`, in place of any older one of
    /// the run; the least recently viewed go past `KEPT` pages or
    /// `KEPT_TASKS` tasks.
    pub fn keep(&self, run: i64, version: Version, page: KeptPage) {
        if tasks(&page) > KEPT_TASKS {
            return;
        }
        let mut kept = self.lock();
        kept.retain(|(r, _, _)| *r != run);
        kept.push_front((run, version, page));
        kept.truncate(KEPT);
        while kept.iter().map(|(_, _, p)| tasks(p)).sum::<usize>() > KEPT_TASKS {
            kept.pop_back();
        }
    }

    /// The pages; a panic elsewhere while it was held left them whole
    /// (every change is one call on the queue).
    fn lock(&self) -> MutexGuard<'_, VecDeque<(i64, Version, KeptPage)>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn tasks(page: &KeptPage) -> usize {
    page.shared.detail.get().map_or(0, |d| d.steps.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(run: i64) -> KeptPage {
        page_of(run, 0)
    }

    /// A page of run `run` with `tasks` steps.
    fn page_of(run: i64, tasks: usize) -> KeptPage {
        use kiln_app::runs::data::{GraphView, StepView};
        use kiln_core::engine::{RunState, RunTrigger, StepState};
        let shared = SharedRunPage {
            run: RunRow {
                id: run,
                workflow: None,
                trigger: RunTrigger::Manual,
                state: RunState::Success,
                created_at: String::new(),
                duration_ms: None,
            },
            started_by: None,
            params: Vec::new(),
            graph_width: 0.0,
            graph_height: 0.0,
            allowed_failures: false,
            fork: None,
            errors: Vec::new(),
            waiting_for: None,
            detail: DrawnOnServer::sent(RunDetail {
                steps: (0..tasks)
                    .map(|n| StepView {
                        task: format!("t{n}"),
                        state: StepState::Success,
                        attempt: 1,
                        duration_ms: None,
                        exit_code: None,
                        message: String::new(),
                        started_at: None,
                        start_offset_ms: None,
                        artifacts: None,
                    })
                    .collect(),
                graph: GraphView {
                    nodes: Vec::new(),
                    edges: Vec::new(),
                    width: 0.0,
                    height: 0.0,
                },
                spans: Vec::new(),
                timeline_until: 0,
                left_out: Vec::new(),
            }),
        };
        KeptPage {
            shared,
            created_ms: run,
            secrets_withheld: false,
        }
    }

    #[test]
    fn pages_are_found_by_run_and_version_and_the_oldest_views_go() {
        let pages = RunPages::default();
        pages.keep(1, (10, 5), page(1));
        assert_eq!(pages.get(1, (10, 5)).map(|p| p.created_ms), Some(1));
        // A newer event (a re-run) or a changed row (an approval) misses,
        // and its page replaces the old.
        assert!(pages.get(1, (11, 5)).is_none());
        assert!(pages.get(1, (10, 6)).is_none());
        pages.keep(1, (11, 5), page(1));
        assert!(pages.get(1, (10, 5)).is_none());
        assert!(pages.get(1, (11, 5)).is_some());
        for run in 2..=KEPT as i64 {
            pages.keep(run, (1, 1), page(run));
        }
        // Run 1 was viewed again: the least recently viewed (run 2) goes.
        assert!(pages.get(1, (11, 5)).is_some());
        pages.keep(100, (1, 1), page(100));
        assert!(pages.get(2, (1, 1)).is_none());
        assert!(pages.get(1, (11, 5)).is_some() && pages.get(100, (1, 1)).is_some());
    }

    #[test]
    fn big_runs_are_kept_within_a_budget_of_tasks() {
        let pages = RunPages::default();
        pages.keep(1, (1, 1), page_of(1, KEPT_TASKS + 1));
        assert!(pages.get(1, (1, 1)).is_none(), "too big to keep");
        for run in 2..=5 {
            pages.keep(run, (1, 1), page_of(run, KEPT_TASKS / 3));
        }
        // Three fit; the fourth pushed out the least recently viewed.
        assert!(pages.get(2, (1, 1)).is_none());
        assert!((3..=5).all(|run| pages.get(run, (1, 1)).is_some()));
    }
}
