//! Finished runs' page data, kept for the next view. A finished run
//! changes only by new events (a re-run appends them), so its page is kept
//! under the run and its newest event, and a page of a 500-task run no
//! longer reads 500 steps and 1,500 moves and lays out its graph each
//! time; its markup is kept with it (`DrawnOnServer`). What depends on who
//! looks and when (roles, "3 min ago") is set on each copy.

use std::collections::VecDeque;
use std::sync::Mutex;

use kiln_app::runs::data::{DrawnOnServer, ForkApproval, RunDetail, RunRow};

/// Pages kept: the newest views. A 500-task run's data and markup are
/// about 1 MB.
const KEPT: usize = 8;

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
    /// (run, newest event, page), the most recently viewed first.
    kept: Mutex<VecDeque<(i64, i64, KeptPage)>>,
}

impl RunPages {
    /// Run `run`'s page if it was kept at event `last_event`.
    pub fn get(&self, run: i64, last_event: i64) -> Option<KeptPage> {
        let mut kept = self.kept.lock().ok()?;
        let at = kept
            .iter()
            .position(|(r, e, _)| *r == run && *e == last_event)?;
        let entry = kept.remove(at)?;
        let page = entry.2.clone();
        kept.push_front(entry);
        Some(page)
    }

    /// Keeps run `run`'s page at event `last_event`, in place of any older
    /// one of the run.
    pub fn keep(&self, run: i64, last_event: i64, page: KeptPage) {
        // A poisoned lock only loses the cache.
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        kept.retain(|(r, _, _)| *r != run);
        kept.push_front((run, last_event, page));
        kept.truncate(KEPT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(run: i64) -> KeptPage {
        use kiln_app::runs::data::GraphView;
        use kiln_core::engine::{RunState, RunTrigger};
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
                steps: Vec::new(),
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
    fn pages_are_found_by_run_and_event_and_the_oldest_views_go() {
        let pages = RunPages::default();
        pages.keep(1, 10, page(1));
        assert_eq!(pages.get(1, 10).map(|p| p.created_ms), Some(1));
        // A newer event (a re-run) misses, and its page replaces the old.
        assert!(pages.get(1, 11).is_none());
        pages.keep(1, 11, page(1));
        assert!(pages.get(1, 10).is_none());
        assert!(pages.get(1, 11).is_some());
        for run in 2..=KEPT as i64 {
            pages.keep(run, 1, page(run));
        }
        // Run 1 was viewed again: the least recently viewed (run 2) goes.
        assert!(pages.get(1, 11).is_some());
        pages.keep(100, 1, page(100));
        assert!(pages.get(2, 1).is_none());
        assert!(pages.get(1, 11).is_some() && pages.get(100, 1).is_some());
    }
}
