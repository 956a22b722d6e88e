//! What is learned about one key: the phase, the measured send rate, the
//! rate at the last throttle, and the bucket that enforces the current rate.

use tokio::time::Instant;

use super::accepted_rate::AcceptedRate;
use super::bucket::TokenBucket;
use super::cubic::Cubic;

/// How a request for a key fared, as far as its rate is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// The API answered without throttling, error or not.
    Accepted,
    /// The API refused the request for its rate.
    Throttled,
}

/// Whether a request may be sent, and under which cut it is sent.
///
/// The generation counts the cuts made before the request was let through:
/// a throttle of a request let through before the latest cut says nothing
/// about the rate after it, and is not cut for again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Send now.
    Now { generation: u64 },
    /// Send at `deadline`, having confirmed the reservation then.
    At { deadline: Instant, generation: u64 },
}

/// The tunables that every key shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tuning {
    pub(crate) cubic: Cubic,
    pub(crate) min_rate: f64,
    /// The share of the curve's rate left unused.
    pub(crate) headroom: f64,
}

/// The state machine of one key.
///
/// ```text
///            throttle, no measurement yet
///              ┌──────┐
///              ▼      │
/// (first throttle) ─► Measuring ──throttle, rate measured──► Limited ◄─┐
///              ▲      │                                      │  │      │
///              └──────┘                                      │  └──────┘
///           accepted: measure                     accepted: climb the curve
///                                                 throttle sent since the last
///                                                 cut: cut; older: ignored
/// ```
///
/// A key gets a state on its first throttle. While `Measuring`, requests go
/// out unpaced and their rate is measured, so that the first cut starts
/// from what the API refused. Once `Limited`, requests wait for tokens of a
/// bucket filled at the rate of the CUBIC curve since the last cut, never
/// below the floor and never above twice the measured rate (a rate the
/// callers do not use proves nothing).
#[derive(Debug)]
pub(crate) struct KeyRate {
    tuning: Tuning,
    accepted_rate: AcceptedRate,
    generation: u64,
    phase: Phase,
}

#[derive(Debug)]
enum Phase {
    Measuring,
    Limited {
        bucket: TokenBucket,
        /// The rate the last cut was taken from.
        last_max: f64,
        last_cut: Instant,
    },
}

impl KeyRate {
    /// The state of a key that has just been throttled for the first time.
    pub(crate) fn new(tuning: Tuning, now: Instant) -> Self {
        Self {
            tuning,
            accepted_rate: AcceptedRate::new(now),
            generation: 0,
            phase: Phase::Measuring,
        }
    }

    /// Whether requests wait for tokens.
    pub(crate) fn is_limited(&self) -> bool {
        matches!(self.phase, Phase::Limited { .. })
    }

    /// The rate requests are let through at, when limited.
    pub(crate) fn rate(&self) -> Option<f64> {
        match &self.phase {
            Phase::Measuring => None,
            Phase::Limited { bucket, .. } => Some(bucket.fill_rate()),
        }
    }

    /// Takes a token, or reserves one for later.
    pub(crate) fn admit(&mut self, now: Instant) -> Admission {
        let generation = self.generation;
        match &mut self.phase {
            Phase::Measuring => Admission::Now { generation },
            Phase::Limited { bucket, .. } => match bucket.reserve(now) {
                None => Admission::Now { generation },
                Some(deadline) => Admission::At {
                    deadline,
                    generation,
                },
            },
        }
    }

    /// Confirms, once its deadline has come, a reservation made under
    /// `generation`; a reservation that a cut has cancelled is made again.
    pub(crate) fn confirm(&mut self, generation: u64, now: Instant) -> Admission {
        if generation == self.generation {
            Admission::Now { generation }
        } else {
            self.admit(now)
        }
    }

    /// Gives back the token of a reservation that will not be used.
    pub(crate) fn release(&mut self, generation: u64, now: Instant) {
        // A cut has cancelled the reservations of older generations already.
        if generation != self.generation {
            return;
        }
        if let Phase::Limited { bucket, .. } = &mut self.phase {
            bucket.release(now);
        }
    }

    /// Learns from the answer to a request let through under `generation`.
    pub(crate) fn learn(&mut self, answer: Answer, generation: u64, now: Instant) {
        self.accepted_rate.record(now, answer == Answer::Accepted);
        match answer {
            Answer::Accepted => self.climb(now),
            Answer::Throttled if generation == self.generation => self.cut(now),
            // Let through before the latest cut: that cut has answered it.
            Answer::Throttled => {}
        }
    }

    fn cut(&mut self, now: Instant) {
        let Tuning {
            cubic, min_rate, ..
        } = self.tuning;
        let measured = self.accepted_rate.get();
        let throttled_at = match (&self.phase, measured) {
            // The first cut waits for a measurement to start from.
            (Phase::Measuring, None) => return,
            (Phase::Measuring, Some(measured)) => measured,
            (Phase::Limited { bucket, .. }, Some(measured)) => measured.min(bucket.fill_rate()),
            (Phase::Limited { bucket, .. }, None) => bucket.fill_rate(),
        };
        let rate = cubic.cut(throttled_at).max(min_rate);
        self.generation += 1;
        match &mut self.phase {
            Phase::Measuring => {
                self.phase = Phase::Limited {
                    bucket: TokenBucket::new(rate, now),
                    last_max: throttled_at,
                    last_cut: now,
                };
            }
            Phase::Limited {
                bucket,
                last_max,
                last_cut,
            } => {
                bucket.set_fill_rate(rate, now);
                bucket.forgive_debt(now);
                *last_max = throttled_at;
                *last_cut = now;
            }
        }
        tracing::debug!(throttled_at, rate, generation = self.generation, "rate cut");
    }

    fn climb(&mut self, now: Instant) {
        let Phase::Limited {
            bucket,
            last_max,
            last_cut,
        } = &mut self.phase
        else {
            return;
        };
        let Tuning {
            cubic,
            min_rate,
            headroom,
        } = self.tuning;
        let elapsed = now.saturating_duration_since(*last_cut).as_secs_f64();
        let mut rate = cubic.rate_at(*last_max, elapsed) * (1.0 - headroom);
        if let Some(measured) = self.accepted_rate.get() {
            rate = rate.min(2.0 * measured);
        }
        bucket.set_fill_rate(rate.max(min_rate), now);
    }
}
