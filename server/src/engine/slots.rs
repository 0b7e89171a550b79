//! How many steps one process runs at once (`worker_concurrency`). A step
//! holds a slot from its claim until its process (or request) has ended;
//! writing the rest of its log, recording the end and handing on the steps
//! it started happen outside the slot, so the next step's process starts
//! meanwhile. Its row is read before the wait, so a stale job takes no
//! slot. The pool therefore holds more step jobs than there are slots:
//! each slot has one job running in it and one waiting at its door.
//!
//! A job waits for a slot before it claims its step: a claimed step never
//! waits (its lease and its start time are the process's), however long
//! the steps before it run. It waits at most [`LONGEST_WAIT`]: a job held
//! here is one no other process can take, so while every slot stays busy
//! (long steps) it goes back to the queue, where a process with a free
//! slot finds it, and the worker that held it takes no other job until a
//! slot here is free.
//!
//! For the operator: `kiln_step_slot_wait_seconds` (how long jobs waited at
//! the door) and `kiln_step_slot_held_seconds` (how long steps held their
//! slot; its sum's rate over `kiln_step_slots` is how busy the slots are).
//! Busy slots and short waits: the steps are the limit. Idle slots: the
//! job supply is.

use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::ServiceError;
use crate::clock::now_ms;

/// Jobs the worker pool holds per slot: the running one and the next.
const JOBS_PER_SLOT: usize = 2;

/// Most slots a process has, whatever the configuration says: far beyond
/// what a machine runs, and well within a semaphore's limit (a larger count
/// would make it panic).
const MOST_SLOTS: usize = 4096;

/// How long a job waits for a slot before it goes back to the queue. A
/// no-op step takes a few milliseconds: a fan-out's jobs never wait this
/// long, and a job behind long steps goes back about once a second.
pub const LONGEST_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub struct StepSlots {
    semaphore: Semaphore,
    count: usize,
}

impl StepSlots {
    /// `count` steps at once (at least one, at most [`MOST_SLOTS`]).
    pub fn new(count: usize) -> Self {
        let count = count.clamp(1, MOST_SLOTS);
        StepSlots {
            semaphore: Semaphore::new(count),
            count,
        }
    }

    /// Sets the `kiln_step_slots` gauge: once this process starts running
    /// steps (a server with `server_runs_steps` off has none to show).
    pub fn show_count(&self) {
        metrics::gauge!("kiln_step_slots").set(self.count as f64);
    }

    /// Waits up to `longest` for a free slot; it is free again when the
    /// [`Slot`] drops. `None` when none came free in time.
    pub async fn take_within(&self, longest: Duration) -> Result<Option<Slot<'_>>, ServiceError> {
        let began = Instant::now();
        let taken = tokio::time::timeout(longest, self.semaphore.acquire()).await;
        metrics::histogram!("kiln_step_slot_wait_seconds").record(began.elapsed().as_secs_f64());
        match taken {
            Err(_elapsed) => Ok(None),
            // Only a closed semaphore refuses, and nothing closes this one.
            Ok(taken) => taken
                .map(|permit| {
                    Some(Slot {
                        permit: Some(permit),
                        taken: Instant::now(),
                        given_back_at_ms: None,
                    })
                })
                .map_err(|e| ServiceError::internal("the step slots", e)),
        }
    }

    /// Steps at once.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Returns once a slot is free (without taking it).
    pub async fn until_free(&self) {
        drop(self.semaphore.acquire().await);
    }

    /// Step jobs each of the pool's queues may hold at once.
    pub fn jobs_in_flight(&self) -> usize {
        self.count * JOBS_PER_SLOT
    }

    /// Slots free now.
    pub fn free(&self) -> usize {
        self.semaphore.available_permits()
    }
}

/// One step's slot, free again once given back (or dropped). When it was
/// given back is when the step's process ended: its recorded end, so that
/// no two steps of a slot overlap in the recorded times either.
#[derive(Debug)]
pub struct Slot<'a> {
    permit: Option<SemaphorePermit<'a>>,
    taken: Instant,
    given_back_at_ms: Option<i64>,
}

impl Slot<'_> {
    /// Frees the slot for the next step; later calls do nothing.
    pub fn give_back(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.given_back_at_ms = Some(now_ms());
            drop(permit);
            metrics::histogram!("kiln_step_slot_held_seconds")
                .record(self.taken.elapsed().as_secs_f64());
        }
    }

    /// When the slot was given back (now, if it had not been).
    pub fn given_back_at_ms(&mut self) -> i64 {
        self.give_back();
        self.given_back_at_ms.unwrap_or_else(now_ms)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.give_back();
    }
}

#[cfg(test)]
mod tests {
    use std::task::Poll;

    use super::*;

    #[tokio::test]
    async fn a_slot_is_free_again_when_its_permit_drops() {
        let slots = StepSlots::new(2);
        assert_eq!(slots.jobs_in_flight(), 4);
        let long = Duration::from_secs(60);
        let first = slots.take_within(long).await.unwrap().unwrap();
        let _second = slots.take_within(long).await.unwrap().unwrap();
        assert_eq!(slots.free(), 0);
        // A third waits until one of the two is given back.
        let third = slots.take_within(long);
        tokio::pin!(third);
        assert!(futures::poll!(&mut third).is_pending());
        drop(first);
        assert!(matches!(
            futures::poll!(&mut third),
            Poll::Ready(Ok(Some(_)))
        ));
    }

    /// Given back once: the slot is free at once, the time is kept, and a
    /// second give-back (or the drop) frees nothing more.
    #[tokio::test]
    async fn a_slot_given_back_keeps_when() {
        let slots = StepSlots::new(2);
        let mut slot = slots.take_within(LONGEST_WAIT).await.unwrap().unwrap();
        let _other = slots.take_within(LONGEST_WAIT).await.unwrap().unwrap();
        let before = now_ms();
        slot.give_back();
        assert_eq!(slots.free(), 1);
        let at = slot.given_back_at_ms();
        assert!(at >= before && at <= now_ms());
        tokio::time::sleep(Duration::from_millis(5)).await;
        slot.give_back();
        assert_eq!(slot.given_back_at_ms(), at);
        drop(slot);
        assert_eq!(slots.free(), 1);
        // Never given back: dropping it frees it, and asking gives it back.
        let mut third = slots.take_within(LONGEST_WAIT).await.unwrap().unwrap();
        assert_eq!(slots.free(), 0);
        third.given_back_at_ms();
        assert_eq!(slots.free(), 1);
    }

    #[tokio::test]
    async fn a_wait_ends_empty_after_the_longest_wait() {
        let slots = StepSlots::new(1);
        let _held = slots.take_within(LONGEST_WAIT).await.unwrap().unwrap();
        let longest = Duration::from_millis(30);
        let began = std::time::Instant::now();
        assert!(slots.take_within(longest).await.unwrap().is_none());
        assert!(began.elapsed() >= longest);
    }

    #[test]
    fn zero_means_one() {
        let slots = StepSlots::new(0);
        assert_eq!((slots.free(), slots.jobs_in_flight()), (1, 2));
    }

    /// A configured count beyond any machine (`worker_concurrency =
    /// 18446744073709551615`) neither panics nor overflows.
    #[test]
    fn a_huge_count_is_bounded() {
        let slots = StepSlots::new(usize::MAX);
        assert_eq!(slots.count(), MOST_SLOTS);
        assert_eq!(slots.free(), MOST_SLOTS);
        assert_eq!(slots.jobs_in_flight(), 2 * MOST_SLOTS);
    }
}
