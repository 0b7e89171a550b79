//! How many steps one process runs at once (`worker_concurrency`). A step
//! holds a slot from its claim until its process (or request) has ended
//! and its log is written; recording the end and handing on the steps it
//! started happen outside the slot, so the next step's process starts
//! meanwhile. The pool therefore holds more step jobs than there are slots:
//! each slot has one job running in it and one waiting at its door.
//!
//! A job waits for a slot before it claims its step: a claimed step never
//! waits (its lease and its start time are the process's), however long
//! the steps before it run. It waits at most [`LONGEST_WAIT`]: a job held
//! here is one no other process can take, so while every slot stays busy
//! (long steps) it goes back to the queue, where a process with a free
//! slot finds it, and the worker that held it takes no other job until a
//! slot here is free.

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::ServiceError;

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

    /// Waits up to `longest` for a free slot; it is free again when the
    /// permit drops. `None` when none came free in time.
    pub async fn take_within(
        &self,
        longest: Duration,
    ) -> Result<Option<SemaphorePermit<'_>>, ServiceError> {
        match tokio::time::timeout(longest, self.semaphore.acquire()).await {
            Err(_elapsed) => Ok(None),
            // Only a closed semaphore refuses, and nothing closes this one.
            Ok(taken) => taken
                .map(Some)
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
