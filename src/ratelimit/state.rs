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

/// A cut made by a throttle, in requests per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Cut {
    /// The rate the cut was taken from, which the curve climbs back to.
    pub(crate) from: f64,
    pub(crate) to: f64,
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
///                 throttle before a window is measured
///                    ┌──────┐
///                    ▼      │
/// first throttle ─► Measuring ──── throttle ────► Limited ◄──────────┐
///                    ▲      │                      │  │               │
///                    └──────┘                      │  └───────────────┘
///                    accepted: measure             │  accepted: climb the curve
///                                                  │  throttle, sent since the
///                                                  │  last cut: cut again
///                                                  └─ throttle, sent before the
///                                                     last cut: nothing
/// ```
///
/// A key gets a state on its first throttle. While `Measuring`, requests go
/// out unpaced and the rate the API accepts is measured, so that the first
/// cut starts from the limit rather than from whatever the callers were
/// sending. Once `Limited`, requests wait for tokens of a bucket filled at
/// the rate of the CUBIC curve since the last cut, less the headroom, never
/// below the floor and never above twice the accepted rate (a rate the
/// callers do not use proves nothing). Each cut starts a new generation and
/// cancels the reservations made at the old rate.
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

    /// Learns from the answer to a request let through under `generation`;
    /// the cut, if the answer made one.
    pub(crate) fn learn(&mut self, answer: Answer, generation: u64, now: Instant) -> Option<Cut> {
        self.accepted_rate.record(now, answer == Answer::Accepted);
        match answer {
            Answer::Accepted => {
                self.climb(now);
                None
            }
            Answer::Throttled if generation == self.generation => self.cut(now),
            // Let through before the latest cut: that cut has answered it.
            Answer::Throttled => None,
        }
    }

    /// Paces at `rate` from now on, as if the curve had climbed back to it
    /// since a cut: the start of a process that limited itself with a
    /// shared budget and is left alone (the store is down).
    pub(crate) fn limit_at(&mut self, rate: f64, now: Instant) {
        let Tuning {
            cubic,
            min_rate,
            headroom,
        } = self.tuning;
        let rate = rate.max(min_rate);
        let last_max = rate / (1.0 - headroom);
        let since_cut = std::time::Duration::from_secs_f64(cubic.recovery_time(last_max));
        self.generation += 1;
        self.phase = Phase::Limited {
            bucket: TokenBucket::new(rate, now),
            last_max,
            last_cut: now.checked_sub(since_cut).unwrap_or(now),
        };
    }

    fn cut(&mut self, now: Instant) -> Option<Cut> {
        let Tuning {
            cubic, min_rate, ..
        } = self.tuning;
        let measured = self.accepted_rate.get();
        let throttled_at = match (&self.phase, measured) {
            // The first cut waits for a measurement to start from.
            (Phase::Measuring, None) => return None,
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
        Some(Cut {
            from: throttled_at,
            to: rate,
        })
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    /// The AWS curve without headroom, so that the rates are round.
    const TUNING: Tuning = Tuning {
        cubic: Cubic::new(0.7, 0.4),
        min_rate: 0.5,
        headroom: 0.0,
    };

    fn assert_close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("a rate");
        assert!(
            (actual - expected).abs() < 1e-6,
            "{actual} is not {expected}"
        );
    }

    /// Answers `per_second` requests a second, accepted, for `span`.
    fn accept(key: &mut KeyRate, from: Instant, per_second: u32, span: Duration) -> Instant {
        let step = Duration::from_secs(1) / per_second;
        let mut now = from;
        while now + step <= from + span {
            now += step;
            key.learn(Answer::Accepted, key.generation, now);
        }
        now
    }

    /// A key that accepted 20 a second for a second, then was cut to 14.
    fn limited_at_14() -> (KeyRate, Instant) {
        let start = Instant::now();
        let mut key = KeyRate::new(TUNING, start);
        let now = accept(&mut key, start, 20, Duration::from_secs(1));
        key.learn(Answer::Throttled, 0, now);
        assert_close(key.rate(), 14.0);
        (key, now)
    }

    #[test]
    fn a_new_key_is_measured_and_not_paced() {
        let start = Instant::now();
        let mut key = KeyRate::new(TUNING, start);
        assert!(!key.is_limited());
        assert_eq!(key.rate(), None);
        for _ in 0..100 {
            assert_eq!(key.admit(start), Admission::Now { generation: 0 });
        }
        let now = accept(&mut key, start, 20, Duration::from_secs(2));
        assert!(!key.is_limited(), "accepted answers alone never limit");
        assert_eq!(key.admit(now), Admission::Now { generation: 0 });
    }

    #[test]
    fn a_throttle_before_anything_is_measured_does_not_cut() {
        let start = Instant::now();
        let mut key = KeyRate::new(TUNING, start);
        key.learn(Answer::Throttled, 0, start + 100 * MS);
        key.learn(Answer::Throttled, 0, start + 200 * MS);
        assert!(!key.is_limited());
        assert_eq!(
            key.admit(start + 200 * MS),
            Admission::Now { generation: 0 }
        );
    }

    #[test]
    fn a_throttle_once_measured_cuts_to_beta_of_the_accepted_rate_and_paces() {
        let (mut key, now) = limited_at_14();
        assert!(key.is_limited());
        // The bucket starts empty: one token every 1/14 s.
        let step = Duration::from_secs_f64(1.0 / 14.0);
        assert_eq!(
            key.admit(now),
            Admission::At {
                deadline: now + step,
                generation: 1
            }
        );
        let Admission::At { deadline, .. } = key.admit(now) else {
            panic!("the second waits longer");
        };
        assert!(deadline > now + step.mul_f64(1.99) && deadline < now + step.mul_f64(2.01));
    }

    #[test]
    fn a_key_whose_every_request_is_throttled_is_cut_to_the_floor() {
        // Throttled answers close measurement windows too: the accepted rate
        // is 0, and the first cut falls to the floor.
        let start = Instant::now();
        let mut key = KeyRate::new(TUNING, start);
        for tick in 1..=60 {
            key.learn(Answer::Throttled, 0, start + tick * 10 * MS);
        }
        assert_close(key.rate(), TUNING.min_rate);
    }

    #[test]
    fn a_throttle_of_a_request_sent_before_the_last_cut_is_not_cut_for_again() {
        let (mut key, now) = limited_at_14();
        key.learn(Answer::Throttled, 0, now + 10 * MS);
        key.learn(Answer::Throttled, 0, now + 20 * MS);
        assert_close(key.rate(), 14.0);
        assert_eq!(key.generation, 1);
    }

    #[test]
    fn a_throttle_after_the_cut_cuts_again_and_cancels_the_reservations() {
        let (mut key, now) = limited_at_14();
        let reservations: Vec<_> = (0..5).map(|_| key.admit(now)).collect();
        assert!(
            reservations
                .iter()
                .all(|admission| matches!(admission, Admission::At { generation: 1, .. }))
        );

        let cut = now + 10 * MS;
        key.learn(Answer::Throttled, 1, cut);
        // From the lower of the accepted rate (20) and the rate allowed (14).
        assert_close(key.rate(), 14.0 * 0.7);
        assert_eq!(key.generation, 2);

        // The first cancelled reservation to come back is the first in line
        // at the new rate, not the sixth.
        let step = Duration::from_secs_f64(1.0 / 9.8);
        let first_back = now + Duration::from_secs_f64(1.0 / 14.0);
        assert_eq!(
            key.confirm(1, first_back),
            Admission::At {
                deadline: cut + step,
                generation: 2
            }
        );
        // A reservation of the current generation is confirmed as it is.
        assert_eq!(key.confirm(2, first_back), Admission::Now { generation: 2 });
    }

    #[test]
    fn accepted_answers_climb_back_to_the_last_max_and_probe_beyond() {
        let (mut key, cut) = limited_at_14();
        let k = Duration::from_secs_f64(TUNING.cubic.recovery_time(20.0));

        let now = accept(&mut key, cut, 20, k / 2);
        let halfway = key.rate().unwrap();
        assert!(halfway > 14.0 && halfway < 20.0, "{halfway}");

        // Still 20 accepted a second: twice that does not bind.
        accept(&mut key, now, 20, cut + k - now);
        key.learn(Answer::Accepted, 1, cut + k);
        assert_close(key.rate(), 20.0);
        accept(&mut key, cut + k, 20, Duration::from_secs(2) - MS);
        key.learn(Answer::Accepted, 1, cut + k + Duration::from_secs(2));
        assert_close(key.rate(), 20.0 + 0.4 * 8.0);
    }

    #[test]
    fn headroom_keeps_the_rate_below_the_curve() {
        let start = Instant::now();
        let tuning = Tuning {
            headroom: 0.05,
            ..TUNING
        };
        let mut key = KeyRate::new(tuning, start);
        let now = accept(&mut key, start, 20, Duration::from_secs(1));
        key.learn(Answer::Throttled, 0, now);
        let k = Duration::from_secs_f64(TUNING.cubic.recovery_time(20.0));
        accept(&mut key, now, 20, k - 10 * MS);
        key.learn(Answer::Accepted, 1, now + k);
        assert_close(key.rate(), 19.0);
    }

    #[test]
    fn the_rate_never_climbs_beyond_twice_the_accepted_rate() {
        let (mut key, cut) = limited_at_14();
        // The callers slow down to 2 a second; the curve would be far above.
        let now = accept(&mut key, cut, 2, Duration::from_secs(20));
        assert!(TUNING.cubic.rate_at(20.0, (now - cut).as_secs_f64()) > 1000.0);
        let rate = key.rate().unwrap();
        assert!(rate <= 4.0 + 1e-9 && rate > 3.0, "{rate}");
    }

    #[test]
    fn cuts_stop_at_the_floor() {
        let (mut key, mut now) = limited_at_14();
        for _ in 0..40 {
            now += 100 * MS;
            key.learn(Answer::Throttled, key.generation, now);
        }
        assert_close(key.rate(), TUNING.min_rate);
        assert_eq!(key.generation, 41);
    }

    #[test]
    fn a_released_reservation_is_given_back_unless_a_cut_cancelled_it() {
        let (mut key, now) = limited_at_14();
        key.admit(now);
        let second = key.admit(now);
        key.release(1, now);
        assert_eq!(key.admit(now), second, "the released token is taken again");

        key.learn(Answer::Throttled, 1, now);
        let after_cut = key.admit(now);
        key.release(2, now);
        key.release(1, now);
        key.release(1, now);
        assert_eq!(
            key.admit(now),
            after_cut,
            "only the reservation of this generation was given back"
        );
    }

    #[test]
    fn nothing_is_reserved_or_released_while_measuring() {
        let start = Instant::now();
        let mut key = KeyRate::new(TUNING, start);
        key.release(0, start);
        assert_eq!(key.confirm(0, start), Admission::Now { generation: 0 });
        assert_eq!(key.rate(), None);
    }
}
