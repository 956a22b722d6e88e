//! [`Tally`]: what the attempts of one call share.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

use crate::retry_class::RetryClass;

/// The attempt count and the retry class of the last failure of one call,
/// as a request extension.
///
/// [`Call`](super::Call) inserts it; the retry policy clones the request,
/// extensions included, for each replay, so every [`Attempt`](super::Attempt)
/// of the call sees the same count. A private type: nothing else can forge
/// or read it.
#[derive(Debug, Clone)]
pub(crate) struct Tally(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    attempts: AtomicU32,
    last_class: AtomicU8,
    /// The call's labels, when a recorder takes its metrics.
    #[cfg(feature = "metrics")]
    labels: Option<super::metrics::Labels>,
}

/// `last_class` before any failure.
const NONE: u8 = 0;

impl Tally {
    pub(crate) fn new(#[cfg(feature = "metrics")] labels: Option<super::metrics::Labels>) -> Self {
        Self(Arc::new(Shared {
            attempts: AtomicU32::new(0),
            last_class: AtomicU8::new(NONE),
            #[cfg(feature = "metrics")]
            labels,
        }))
    }

    /// Counts an attempt; returns how many came before it, and the retry
    /// class of the failure the last of them ended in.
    pub(crate) fn start_attempt(&self) -> (u32, Option<RetryClass>) {
        let before = self.0.attempts.fetch_add(1, Ordering::Relaxed);
        let class = decode(self.0.last_class.load(Ordering::Relaxed));
        (before, class)
    }

    /// Notes the retry class an attempt failed with.
    pub(crate) fn failed(&self, class: RetryClass) {
        self.0.last_class.store(encode(class), Ordering::Relaxed);
    }

    /// The attempts counted so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.0.attempts.load(Ordering::Relaxed)
    }

    #[cfg(feature = "metrics")]
    pub(crate) fn labels(&self) -> Option<&super::metrics::Labels> {
        self.0.labels.as_ref()
    }
}

fn encode(class: RetryClass) -> u8 {
    match class {
        RetryClass::Throttled => 1,
        RetryClass::Transient => 2,
        RetryClass::ClockSkew => 3,
        _ => 4,
    }
}

fn decode(value: u8) -> Option<RetryClass> {
    match value {
        1 => Some(RetryClass::Throttled),
        2 => Some(RetryClass::Transient),
        3 => Some(RetryClass::ClockSkew),
        4 => Some(RetryClass::Never),
        _ => None,
    }
}

/// The name of `class` as a span field value and a metric label.
pub(crate) fn class_name(class: RetryClass) -> &'static str {
    match class {
        RetryClass::Throttled => "throttled",
        RetryClass::Transient => "transient",
        RetryClass::ClockSkew => "clock_skew",
        RetryClass::Never => "never",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_survives_the_round_trip() {
        for class in [
            RetryClass::Throttled,
            RetryClass::Transient,
            RetryClass::ClockSkew,
            RetryClass::Never,
        ] {
            assert_eq!(decode(encode(class)), Some(class));
        }
        assert_eq!(decode(NONE), None);
    }
}
