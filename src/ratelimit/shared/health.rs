//! Whether the store answers: the transitions, logged once each, and the
//! probes that find it back.

use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::store::StoreError;

/// The counters of [`SharedStats`](super::SharedStats), and the state.
#[derive(Debug, Default)]
pub(crate) struct Health {
    down: AtomicBool,
    /// Wakes the calls waiting for a local token when the store is back.
    back: Notify,
    next_probe: Mutex<Option<Instant>>,
    pub(crate) round_trips: AtomicU64,
    pub(crate) failures: AtomicU64,
    pub(crate) outages: AtomicU64,
    pub(crate) local_admissions: AtomicU64,
}

impl Health {
    pub(crate) fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// Whether to ask the store now: always while it answers; while it is
    /// down, once per `probe_interval`, so that the other calls do not wait
    /// for a store that does not answer.
    pub(crate) fn may_ask(&self, now: Instant, probe_interval: Duration) -> bool {
        if !self.is_down() {
            return true;
        }
        let mut next = self
            .next_probe
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match *next {
            Some(at) if now < at => false,
            _ => {
                *next = Some(now + probe_interval);
                true
            }
        }
    }

    /// Counts a failed call; whether it is the one that took the store down.
    pub(crate) fn failed(
        &self,
        error: &StoreError,
        now: Instant,
        probe_interval: Duration,
    ) -> bool {
        self.failures.fetch_add(1, Ordering::Relaxed);
        *self
            .next_probe
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(now + probe_interval);
        let went_down = !self.down.swap(true, Ordering::AcqRel);
        if went_down {
            self.outages.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%error, "rate store unavailable: each process limits its own rate until it is back");
        }
        went_down
    }

    /// Notes an answer of the store's.
    pub(crate) fn answered(&self) {
        if self.is_down() && self.down.swap(false, Ordering::AcqRel) {
            tracing::info!("rate store back: the budget is shared again");
            self.back.notify_waiters();
        }
    }

    /// Resolves once the store answers again.
    pub(crate) async fn back(&self) {
        loop {
            let mut notified = pin!(self.back.notified());
            // Registered before the check, so that a return in between is
            // not missed.
            notified.as_mut().enable();
            if !self.is_down() {
                return;
            }
            notified.await;
        }
    }
}
