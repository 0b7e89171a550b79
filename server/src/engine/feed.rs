//! The one reader of the run-events table in this process: while anyone
//! follows a run, it reads new events (woken by this process's commits, and
//! every [`POLL`] for other processes' writes) with the current row of each
//! step they name, and broadcasts them to every live stream. Ids are given
//! at insert but become visible at commit, so a lower id may appear after a
//! higher one: the [`Cursor`] re-reads above the oldest gap for a while
//! instead of skipping it, and hands out each id once.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{Notify, broadcast};

use super::repo::events;
use crate::db::entities::{run_event, step};

/// How often the reader looks for other processes' events.
pub const POLL: Duration = Duration::from_millis(250);
/// After a wake-up, the reader waits this long so that the commits of a
/// busy run (hundreds a second) are read together, not one query each.
const GATHER: Duration = Duration::from_millis(25);
/// How long a gap in the ids is waited for before it is taken for a
/// rolled-back insert.
const GAP_WAIT_MS: i64 = 3_000;
const READ: u64 = 1_000;
/// Batches a slow stream may fall behind before it is told to reload.
const BACKLOG: usize = 256;
/// A reader (re)starting begins this many events back: a stream that read
/// its run's past just before the reader's first read misses nothing
/// between the two (streams drop what they already sent).
const RESTART_OVERLAP: i64 = 1_000;

/// An event with its step's row as it is now (for the page's columns).
#[derive(Debug, Clone)]
pub struct FeedItem {
    pub event: run_event::Model,
    pub step: Option<step::Model>,
    /// Read again by a reader (re)starting: the event was in the table
    /// before it started (see [`RESTART_OVERLAP`]). Its time says how old
    /// it is; an event's time cannot say whether it is news, as an end is
    /// stamped before it is recorded (minutes before, after an outage).
    pub replayed: bool,
}

pub type Batch = Arc<Vec<FeedItem>>;

/// Where the reader is: every id up to `through` has been handed out (or
/// given up on); ids above it already handed out are in `above`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    through: i64,
    above: BTreeSet<i64>,
    /// Since when the id after `through` has been missing.
    gap_since_ms: Option<i64>,
    /// Ids up to this one were in the table when the reader started.
    replays_through: i64,
}

impl Cursor {
    pub fn starting_after(id: i64) -> Self {
        Cursor {
            through: id,
            ..Cursor::default()
        }
    }

    /// A reader starting with `last` the newest id: it reads the `overlap`
    /// ids before it again, as replays.
    pub fn restarting(last: i64, overlap: i64) -> Self {
        Cursor {
            replays_through: last,
            ..Cursor::starting_after((last - overlap).max(0))
        }
    }

    /// Whether `id` was in the table before the reader started.
    pub fn is_replay(&self, id: i64) -> bool {
        id <= self.replays_through
    }

    /// The id to read after.
    pub fn read_after(&self) -> i64 {
        self.through
    }

    /// Whether `id` has not been handed out yet.
    pub fn is_new(&self, id: i64) -> bool {
        id > self.through && !self.above.contains(&id)
    }

    /// Takes the ids read (ascending) at `now_ms`; returns which are new.
    pub fn take(&mut self, ids: &[i64], now_ms: i64) -> Vec<i64> {
        let fresh: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| *id > self.through && self.above.insert(*id))
            .collect();
        self.close_gaps(now_ms);
        fresh
    }

    fn close_gaps(&mut self, now_ms: i64) {
        loop {
            while self.above.remove(&(self.through + 1)) {
                self.through += 1;
                self.gap_since_ms = None;
            }
            let Some(&next) = self.above.first() else {
                self.gap_since_ms = None;
                return;
            };
            match self.gap_since_ms {
                None => {
                    self.gap_since_ms = Some(now_ms);
                    return;
                }
                Some(since) if now_ms - since >= GAP_WAIT_MS => {
                    self.through = next - 1;
                    self.gap_since_ms = None;
                }
                Some(_) => return,
            }
        }
    }
}

/// The reader's handle: streams subscribe, writers wake it.
#[derive(Clone)]
pub struct Feed {
    inner: Arc<Inner>,
}

struct Inner {
    sender: broadcast::Sender<Batch>,
    wake: Notify,
    /// Cancelled when the reader stops (the process shuts down): streams
    /// end then rather than hold the shutdown up.
    stopped: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("followers", &self.inner.sender.receiver_count())
            .finish()
    }
}

impl Default for Feed {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(BACKLOG);
        Feed {
            inner: Arc::new(Inner {
                sender,
                wake: Notify::new(),
                stopped: tokio_util::sync::CancellationToken::new(),
            }),
        }
    }
}

impl Feed {
    /// Follows every event from now on (the caller reads what came before).
    pub fn subscribe(&self) -> broadcast::Receiver<Batch> {
        let receiver = self.inner.sender.subscribe();
        self.inner.wake.notify_one();
        receiver
    }

    /// Cancelled once the reader has stopped.
    pub fn stopped(&self) -> tokio_util::sync::CancellationToken {
        self.inner.stopped.clone()
    }

    /// Something was committed here: read now rather than at the next poll.
    pub fn wake(&self) {
        if self.inner.sender.receiver_count() > 0 {
            self.inner.wake.notify_one();
        }
    }

    /// The reader's loop; returns only if the process ends it.
    pub async fn run(self, db: DatabaseConnection, stop: tokio_util::sync::CancellationToken) {
        let mut cursor: Option<Cursor> = None;
        loop {
            let idle = self.inner.sender.receiver_count() == 0;
            tokio::select! {
                () = stop.cancelled() => {
                    self.inner.stopped.cancel();
                    return;
                }
                () = self.inner.wake.notified() => tokio::time::sleep(GATHER).await,
                () = tokio::time::sleep(if idle { POLL * 8 } else { POLL }) => {}
            }
            if self.inner.sender.receiver_count() == 0 {
                // Nobody follows: forget the place, start afresh later.
                cursor = None;
                continue;
            }
            if let Err(error) = self.read(&db, &mut cursor).await {
                tracing::warn!(%error, "could not read run events");
            }
        }
    }

    async fn read(
        &self,
        db: &DatabaseConnection,
        cursor: &mut Option<Cursor>,
    ) -> Result<(), DbErr> {
        let cursor = match cursor {
            Some(cursor) => cursor,
            None => {
                let last = events::last_id(db, None).await?;
                cursor.insert(Cursor::restarting(last, RESTART_OVERLAP))
            }
        };
        let rows = events::after(db, cursor.read_after(), READ).await?;
        let fresh: Vec<run_event::Model> =
            rows.into_iter().filter(|r| cursor.is_new(r.id)).collect();
        if fresh.is_empty() {
            cursor.take(&[], crate::clock::now_ms());
            return Ok(());
        }
        let step_ids: BTreeSet<i64> = fresh.iter().filter_map(|r| r.step_id).collect();
        // Read before the ids count as handed out: a failed read leaves
        // them to the next round instead of losing them.
        let steps: HashMap<i64, step::Model> = super::repo::steps_by_id(db, step_ids)
            .await?
            .into_iter()
            .map(|mut s| {
                // Pages show no outputs, and a queue of these must stay small.
                s.outputs = None;
                (s.id, s)
            })
            .collect();
        let ids: Vec<i64> = fresh.iter().map(|r| r.id).collect();
        cursor.take(&ids, crate::clock::now_ms());
        let items = fresh
            .into_iter()
            .map(|event| FeedItem {
                step: event.step_id.and_then(|id| steps.get(&id).cloned()),
                replayed: cursor.is_replay(event.id),
                event,
            })
            .collect::<Vec<_>>();
        // Nobody listening any more is not an error.
        let _ = self.inner.sender.send(Arc::new(items));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_order_pass_once() {
        let mut cursor = Cursor::starting_after(10);
        assert_eq!(cursor.take(&[11, 12, 13], 0), vec![11, 12, 13]);
        assert_eq!(cursor.read_after(), 13);
        assert_eq!(cursor.take(&[13, 14], 0), vec![14]);
        assert_eq!(cursor.take(&[], 0), Vec::<i64>::new());
        assert_eq!(cursor.read_after(), 14);
    }

    #[test]
    fn a_restarted_reader_marks_what_it_reads_again() {
        let cursor = Cursor::restarting(1_500, 1_000);
        assert_eq!(cursor.read_after(), 500);
        assert!(cursor.is_replay(501) && cursor.is_replay(1_500));
        assert!(!cursor.is_replay(1_501), "written after the start");
        let near_start = Cursor::restarting(40, 1_000);
        assert_eq!(near_start.read_after(), 0);
        assert!(!Cursor::starting_after(7).is_replay(8));
    }

    #[test]
    fn a_late_commit_below_a_newer_one_is_not_lost() {
        let mut cursor = Cursor::starting_after(0);
        // 2 was inserted before 3 but commits after it.
        assert_eq!(cursor.take(&[1, 3], 0), vec![1, 3]);
        assert_eq!(cursor.read_after(), 1, "holds at the gap");
        assert_eq!(
            cursor.take(&[2, 3, 4], 100),
            vec![2, 4],
            "3 is not handed out twice"
        );
        assert_eq!(cursor.read_after(), 4);
    }

    #[test]
    fn a_gap_that_never_fills_is_given_up_after_a_while() {
        let mut cursor = Cursor::starting_after(0);
        assert_eq!(cursor.take(&[2], 0), vec![2]);
        assert_eq!(cursor.read_after(), 0);
        assert_eq!(cursor.take(&[2, 3], GAP_WAIT_MS - 1), vec![3]);
        assert_eq!(cursor.read_after(), 0, "still waiting for 1");
        assert_eq!(cursor.take(&[2, 3], GAP_WAIT_MS), Vec::<i64>::new());
        assert_eq!(cursor.read_after(), 3, "1 taken for rolled back");
        // A second gap starts its own wait.
        assert_eq!(cursor.take(&[5], GAP_WAIT_MS + 10), vec![5]);
        assert_eq!(cursor.read_after(), 3);
        assert_eq!(cursor.take(&[4, 5], GAP_WAIT_MS + 20), vec![4]);
        assert_eq!(cursor.read_after(), 5);
    }
}
