//! How a request is admitted under a shared budget: a token of the
//! process's lease, a new lease, or the process-local limiter while the
//! store is down; and what its answer teaches the budget.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use tokio::time::Instant;

use super::budget::{Budget, OnStoreFailure};
use super::pool::KeyLease;
use super::store::{Grant, StoreError};
use crate::error::{Error, LayerError};
use crate::ratelimit::RateKey;
use crate::retry_class::RetryClass;

/// What a request under a shared budget does.
pub(crate) enum Admit {
    /// Send at `at` (now or later), under the ticket's generation.
    At { at: Instant, ticket: Ticket },
    /// The store is down and the budget fails open: ask the local limiter;
    /// a request that waits for a local token leases one instead as soon
    /// as the store is back.
    Local(Fallback),
    /// The store is down and the budget fails closed.
    Refused(Error),
}

/// The admission of one request, from the store or from the pool.
pub(crate) struct LeaseFuture(Pin<Box<dyn Future<Output = Admit> + Send>>);

impl LeaseFuture {
    pub(crate) fn new(budget: Arc<Budget>, key: RateKey) -> Self {
        Self(Box::pin(admit(budget, key)))
    }
}

impl Future for LeaseFuture {
    type Output = Admit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Admit> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for LeaseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LeaseFuture")
    }
}

async fn admit(budget: Arc<Budget>, key: RateKey) -> Admit {
    let lease = budget.key_lease(&key, Instant::now());
    // Held across the round trip: the other callers of this process wait
    // for this lease rather than each asking the store.
    let mut pool = lease.pool.lock().await;
    loop {
        let now = Instant::now();
        if let Some(at) = lease.take(&mut pool, now) {
            let generation = pool.generation;
            drop(pool);
            return Admit::At {
                at,
                ticket: Ticket::new(budget, lease, generation),
            };
        }
        if !budget.health().may_ask(now, budget.config.probe_every()) {
            drop(pool);
            return unavailable(budget);
        }
        let accepted = lease.accepted.swap(0, Ordering::Relaxed);
        let ask = budget.ask(accepted, pool.known_rate());
        let granted = match budget
            .call(budget.config.store().lease(&lease.name, ask))
            .await
        {
            Ok(granted) => granted,
            Err(_) => {
                // Counted again by the next lease that gets through.
                lease.accepted.fetch_add(accepted, Ordering::Relaxed);
                drop(pool);
                return unavailable(budget);
            }
        };
        pool.remember(granted.last_max());
        let generation = granted.generation();
        if lease.generation.swap(generation, Ordering::AcqRel) > generation {
            // The store lost the key (a restart of Redis): its count of
            // cuts starts again, and so do this process's reports.
            lease.reported.store(generation, Ordering::Release);
        }
        if let Grant::Later { after } = granted.grant() {
            tokio::time::sleep(after).await;
            continue;
        }
        let now = Instant::now();
        let free_for = budget.config.free_for();
        pool.fill(granted.generation(), granted.grant(), free_for, now);
        // A fresh grant admits this request at least, however short.
        let at = lease.take(&mut pool, now).unwrap_or(now);
        let generation = pool.generation;
        drop(pool);
        return Admit::At {
            at,
            ticket: Ticket::new(budget, lease, generation),
        };
    }
}

fn unavailable(budget: Arc<Budget>) -> Admit {
    budget
        .health()
        .local_admissions
        .fetch_add(1, Ordering::Relaxed);
    match budget.config.failure_mode() {
        OnStoreFailure::FailOpen => Admit::Local(Fallback::new(budget)),
        OnStoreFailure::FailClosed => {
            let error = LayerError::new(StoreError::unavailable(), RetryClass::Transient);
            Admit::Refused(Error::from(error))
        }
    }
}

/// A request on the local limiter while the store is down: the budget to
/// go back to, and the wait for the store's return.
pub(crate) struct Fallback {
    budget: Arc<Budget>,
    back: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Fallback {
    fn new(budget: Arc<Budget>) -> Self {
        let watched = budget.clone();
        Self {
            budget,
            back: Box::pin(async move { watched.health().back().await }),
        }
    }

    /// Ready once the store answers again.
    pub(crate) fn poll_back(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.back.as_mut().poll(cx)
    }

    pub(crate) fn lease(self, key: RateKey) -> LeaseFuture {
        LeaseFuture::new(self.budget, key)
    }
}

impl fmt::Debug for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fallback")
    }
}

/// What a request admitted by the shared budget reports back.
pub(crate) struct Ticket {
    budget: Arc<Budget>,
    lease: Arc<KeyLease>,
    generation: u64,
}

impl Ticket {
    fn new(budget: Arc<Budget>, lease: Arc<KeyLease>, generation: u64) -> Self {
        Self {
            budget,
            lease,
            generation,
        }
    }

    /// An accepted answer is counted towards the next lease; the first
    /// throttle of a generation in this process cuts the shared rate (the
    /// store ignores it if another process has cut it already).
    pub(crate) fn learn(&self, throttled: bool) {
        if !throttled {
            self.lease.accepted.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let generation = self.generation;
        if generation < self.lease.generation.load(Ordering::Acquire) {
            return;
        }
        if self
            .lease
            .reported
            .fetch_max(generation + 1, Ordering::AcqRel)
            > generation
        {
            return;
        }
        // The answer is not held back for the report; outside a runtime
        // there is nothing to report it with.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (budget, lease) = (self.budget.clone(), self.lease.clone());
        runtime.spawn(async move {
            let ask = budget.ask(0, 0.0);
            let cut = budget.config.store().cut(&lease.name, generation, ask);
            let cut = budget.call(cut).await;
            // The tokens in hand are spaced at the rate just throttled:
            // sending them would throttle more before the cut reaches this
            // process's next lease. The pool is locked after the cut, which
            // is what the other processes wait for.
            lease.pool.lock().await.forfeit(generation);
            match cut {
                // The store has stretched the schedule past the tokens leased.
                Ok(true) => {}
                // Nothing to cut from yet, or the store is down: the next
                // throttle of this generation reports again.
                Ok(false) | Err(_) => {
                    let _ = lease.reported.compare_exchange(
                        generation + 1,
                        generation,
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    );
                }
            }
        });
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("key", &self.lease.name)
            .field("generation", &self.generation)
            .finish()
    }
}
