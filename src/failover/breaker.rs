//! The circuit breaker of one host: closed, open, half-open.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// The failure window is kept as this many buckets, so that the breaker
/// holds a fixed amount of memory whatever the rate of calls.
const BUCKETS: u64 = 10;

/// The shortest window: a bucket must last at least a millisecond.
const MIN_WINDOW: Duration = Duration::from_millis(BUCKETS);

/// Thresholds and durations of the circuit breaker that
/// [`FailoverLayer`](super::FailoverLayer) keeps for each host.
///
/// | setting | default | meaning |
/// |---|---|---|
/// | [`window`](Self::window) | 60 s | outcomes older than this are forgotten (in tenths of it) |
/// | [`min_failures`](Self::min_failures) | 5 | a closed breaker opens only after at least this many failures in the window... |
/// | [`failure_ratio`](Self::failure_ratio) | 0.75 | ...that are at least this share of the window's outcomes |
/// | [`cool_down`](Self::cool_down) | 60 s | an open breaker admits nothing for this long, then turns half-open |
/// | [`half_open_probes`](Self::half_open_probes) | 1 | a half-open breaker admits this many calls at once |
/// | [`close_after`](Self::close_after) | 3 | successes in a row that close a half-open breaker; one failure opens it again |
///
/// The window, the thresholds and the cool-down are the Go SDK's
/// (`maxFailNum` 5, `maxFailPercentage` 75, 60 s), with its faults fixed:
/// a success counts as a success, and one half-open success does not close
/// the breaker.
///
/// ```
/// use std::time::Duration;
///
/// use tower_tencentcloud::failover::{BreakerConfig, FailoverLayer};
///
/// let layer = FailoverLayer::new().breaker(
///     BreakerConfig::new()
///         .min_failures(3)
///         .cool_down(Duration::from_secs(10)),
/// );
/// # drop(layer);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    window: Duration,
    min_failures: u32,
    failure_ratio: f64,
    cool_down: Duration,
    half_open_probes: u32,
    close_after: u32,
}

impl BreakerConfig {
    /// The defaults listed above.
    pub fn new() -> Self {
        Self {
            window: Duration::from_secs(60),
            min_failures: 5,
            failure_ratio: 0.75,
            cool_down: Duration::from_secs(60),
            half_open_probes: 1,
            close_after: 3,
        }
    }

    /// How long outcomes count; at least 10 ms.
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window.max(MIN_WINDOW);
        self
    }

    /// The fewest failures in the window that open the breaker; at least 1.
    pub fn min_failures(mut self, failures: u32) -> Self {
        self.min_failures = failures.max(1);
        self
    }

    /// The share of failures among the window's outcomes at or above which
    /// the breaker opens, between 0 and 1 (a value outside is clamped, NaN
    /// is ignored).
    pub fn failure_ratio(mut self, ratio: f64) -> Self {
        if !ratio.is_nan() {
            self.failure_ratio = ratio.clamp(0.0, 1.0);
        }
        self
    }

    /// How long an open breaker turns calls away before it lets probes in.
    pub fn cool_down(mut self, cool_down: Duration) -> Self {
        self.cool_down = cool_down;
        self
    }

    /// How many calls a half-open breaker lets through at once; at least 1.
    pub fn half_open_probes(mut self, probes: u32) -> Self {
        self.half_open_probes = probes.max(1);
        self
    }

    /// How many successful probes in a row close a half-open breaker; at
    /// least 1.
    pub fn close_after(mut self, successes: u32) -> Self {
        self.close_after = successes.max(1);
        self
    }

    fn bucket_len(&self) -> Duration {
        self.window / BUCKETS as u32
    }
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// The state of a host's circuit breaker; see [`BreakerConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BreakerState {
    /// Calls go through; outcomes are counted.
    Closed,
    /// The host failed: calls go elsewhere until the cool-down ends.
    Open,
    /// The cool-down is over: a few probes go through to test the host.
    HalfOpen,
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Closed => "closed",
            Self::Open => "open",
            Self::HalfOpen => "half-open",
        })
    }
}

/// What an attempt says about the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The host answered (an API error included).
    Success,
    /// The host failed: no connection, a gateway page, a timeout.
    Failure,
    /// Nothing about the host: the call was cancelled, or failed on the
    /// client's side.
    Neither,
}

/// The right to send one attempt, handed back with its outcome.
#[derive(Debug)]
pub(crate) struct Permit {
    generation: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    index: u64,
    successes: u32,
    failures: u32,
}

#[derive(Debug)]
enum State {
    Closed { buckets: [Bucket; BUCKETS as usize] },
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
}

/// One host's breaker. Time is passed in, so that tests drive it on tokio's
/// paused clock or on instants of their own.
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    epoch: Instant,
    state: State,
    // Changes with every transition: an outcome of an attempt admitted in
    // an earlier state says nothing about the current one.
    generation: u64,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig, now: Instant) -> Self {
        Self {
            config,
            epoch: now,
            state: closed(),
            generation: 0,
        }
    }

    /// The state at `now`: an open breaker whose cool-down is over is
    /// half-open.
    pub(crate) fn state(&self, now: Instant) -> BreakerState {
        match self.state {
            State::Closed { .. } => BreakerState::Closed,
            State::Open { until } if now < until => BreakerState::Open,
            State::Open { .. } | State::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// A permit for one attempt, or `None` when the breaker turns it away.
    pub(crate) fn admit(&mut self, now: Instant) -> Option<Permit> {
        if let State::Open { until } = self.state {
            if now < until {
                return None;
            }
            self.transition(State::HalfOpen {
                in_flight: 0,
                successes: 0,
            });
        }
        if let State::HalfOpen { in_flight, .. } = &mut self.state {
            if *in_flight >= self.config.half_open_probes {
                return None;
            }
            *in_flight += 1;
        }
        Some(Permit {
            generation: self.generation,
        })
    }

    /// Records the outcome of the attempt `permit` was given for.
    pub(crate) fn record(&mut self, permit: Permit, outcome: Outcome, now: Instant) {
        if permit.generation != self.generation {
            return;
        }
        let config = self.config;
        match &mut self.state {
            State::Closed { buckets } => {
                let index = bucket_index(self.epoch, now, config.bucket_len());
                let bucket = &mut buckets[(index % BUCKETS) as usize];
                if bucket.index != index {
                    *bucket = Bucket {
                        index,
                        ..Bucket::default()
                    };
                }
                match outcome {
                    Outcome::Success => bucket.successes = bucket.successes.saturating_add(1),
                    Outcome::Failure => bucket.failures = bucket.failures.saturating_add(1),
                    Outcome::Neither => return,
                }
                if outcome == Outcome::Failure {
                    let (successes, failures) = totals(buckets, index);
                    let total = f64::from(successes) + f64::from(failures);
                    if failures >= config.min_failures
                        && f64::from(failures) >= config.failure_ratio * total
                    {
                        self.transition(State::Open {
                            until: now + config.cool_down,
                        });
                    }
                }
            }
            State::HalfOpen {
                in_flight,
                successes,
            } => {
                *in_flight = in_flight.saturating_sub(1);
                match outcome {
                    Outcome::Success => {
                        *successes += 1;
                        if *successes >= config.close_after {
                            self.transition(closed());
                        }
                    }
                    Outcome::Failure => self.transition(State::Open {
                        until: now + config.cool_down,
                    }),
                    Outcome::Neither => {}
                }
            }
            // No permit of an open breaker's generation exists.
            State::Open { .. } => {}
        }
    }

    fn transition(&mut self, state: State) {
        self.state = state;
        self.generation += 1;
    }
}

fn closed() -> State {
    State::Closed {
        buckets: [Bucket::default(); BUCKETS as usize],
    }
}

fn bucket_index(epoch: Instant, now: Instant, bucket_len: Duration) -> u64 {
    let elapsed = now.saturating_duration_since(epoch).as_nanos();
    // Index 0 is reserved for a bucket never written, so that an empty
    // bucket never passes for the current one.
    (elapsed / bucket_len.as_nanos().max(1)) as u64 + 1
}

/// (successes, failures) of the buckets within the window ending at bucket
/// `current`.
fn totals(buckets: &[Bucket], current: u64) -> (u32, u32) {
    buckets
        .iter()
        .filter(|bucket| bucket.index + BUCKETS > current && bucket.index <= current)
        .fold((0u32, 0u32), |(successes, failures), bucket| {
            (
                successes.saturating_add(bucket.successes),
                failures.saturating_add(bucket.failures),
            )
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tokio::time::advance;

    use super::*;

    fn config() -> BreakerConfig {
        BreakerConfig::new()
    }

    fn fail(breaker: &mut Breaker, times: u32) {
        for _ in 0..times {
            let permit = breaker.admit(Instant::now()).unwrap();
            breaker.record(permit, Outcome::Failure, Instant::now());
        }
    }

    fn succeed(breaker: &mut Breaker, times: u32) {
        for _ in 0..times {
            let permit = breaker.admit(Instant::now()).unwrap();
            breaker.record(permit, Outcome::Success, Instant::now());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn closed_opens_after_five_failures_at_three_quarters() {
        let mut breaker = Breaker::new(config(), Instant::now());
        fail(&mut breaker, 4);
        assert_eq!(breaker.state(Instant::now()), BreakerState::Closed);
        fail(&mut breaker, 1);
        assert_eq!(breaker.state(Instant::now()), BreakerState::Open);
        assert!(breaker.admit(Instant::now()).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn successes_count_as_successes() {
        // Five failures among ten outcomes are 50%: below 75%, stays closed.
        let mut breaker = Breaker::new(config(), Instant::now());
        succeed(&mut breaker, 5);
        fail(&mut breaker, 5);
        assert_eq!(breaker.state(Instant::now()), BreakerState::Closed);
        // Ten more failures: 15 of 20 are 75%, it opens.
        fail(&mut breaker, 9);
        assert_eq!(breaker.state(Instant::now()), BreakerState::Closed);
        fail(&mut breaker, 1);
        assert_eq!(breaker.state(Instant::now()), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn failures_older_than_the_window_are_forgotten() {
        let mut breaker = Breaker::new(config(), Instant::now());
        fail(&mut breaker, 4);
        advance(Duration::from_secs(61)).await;
        fail(&mut breaker, 4);
        assert_eq!(breaker.state(Instant::now()), BreakerState::Closed);
        fail(&mut breaker, 1);
        assert_eq!(breaker.state(Instant::now()), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn open_turns_half_open_after_the_cool_down() {
        let mut breaker = Breaker::new(config(), Instant::now());
        fail(&mut breaker, 5);
        advance(Duration::from_secs(59)).await;
        assert_eq!(breaker.state(Instant::now()), BreakerState::Open);
        assert!(breaker.admit(Instant::now()).is_none());
        advance(Duration::from_secs(1)).await;
        assert_eq!(breaker.state(Instant::now()), BreakerState::HalfOpen);
    }

    #[tokio::test(start_paused = true)]
    async fn half_open_admits_bounded_probes_and_closes_after_three_successes() {
        let mut breaker = Breaker::new(config().half_open_probes(2), Instant::now());
        fail(&mut breaker, 5);
        advance(Duration::from_secs(60)).await;
        let now = Instant::now();
        let first = breaker.admit(now).unwrap();
        let second = breaker.admit(now).unwrap();
        assert!(breaker.admit(now).is_none(), "a third probe at once");
        breaker.record(first, Outcome::Success, now);
        breaker.record(second, Outcome::Success, now);
        assert_eq!(breaker.state(now), BreakerState::HalfOpen);
        let third = breaker.admit(now).unwrap();
        breaker.record(third, Outcome::Success, now);
        assert_eq!(breaker.state(now), BreakerState::Closed);
        // Closed afresh: the failures before it opened are gone.
        fail(&mut breaker, 4);
        assert_eq!(breaker.state(Instant::now()), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_probe_opens_again_for_a_full_cool_down() {
        let mut breaker = Breaker::new(config(), Instant::now());
        fail(&mut breaker, 5);
        advance(Duration::from_secs(60)).await;
        succeed(&mut breaker, 2);
        fail(&mut breaker, 1);
        assert_eq!(breaker.state(Instant::now()), BreakerState::Open);
        advance(Duration::from_secs(59)).await;
        assert!(breaker.admit(Instant::now()).is_none());
        advance(Duration::from_secs(1)).await;
        assert!(breaker.admit(Instant::now()).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_probe_frees_its_place_and_stale_outcomes_are_ignored() {
        let mut breaker = Breaker::new(config(), Instant::now());
        let stale = breaker.admit(Instant::now()).unwrap();
        fail(&mut breaker, 5);
        advance(Duration::from_secs(60)).await;
        let probe = breaker.admit(Instant::now()).unwrap();
        assert!(breaker.admit(Instant::now()).is_none());
        breaker.record(probe, Outcome::Neither, Instant::now());
        // Admitted while closed, it ends while half-open: it counts for nothing.
        breaker.record(stale, Outcome::Failure, Instant::now());
        assert_eq!(breaker.state(Instant::now()), BreakerState::HalfOpen);
        assert!(breaker.admit(Instant::now()).is_some());
    }

    /// The breaker restated plainly: every outcome kept with its time.
    struct Model {
        config: BreakerConfig,
        epoch: Instant,
        state: ModelState,
        generation: u64,
    }

    enum ModelState {
        Closed(Vec<(u64, bool)>),
        Open(Instant),
        HalfOpen { in_flight: u32, successes: u32 },
    }

    impl Model {
        fn admit(&mut self, now: Instant) -> Option<u64> {
            if let ModelState::Open(until) = self.state {
                if now < until {
                    return None;
                }
                self.state = ModelState::HalfOpen {
                    in_flight: 0,
                    successes: 0,
                };
                self.generation += 1;
            }
            if let ModelState::HalfOpen { in_flight, .. } = &mut self.state {
                if *in_flight == self.config.half_open_probes {
                    return None;
                }
                *in_flight += 1;
            }
            Some(self.generation)
        }

        fn record(&mut self, generation: u64, outcome: Outcome, now: Instant) {
            if generation != self.generation {
                return;
            }
            let bucket_len = self.config.window.as_nanos() / u128::from(BUCKETS);
            let bucket =
                |at: Instant| (at.duration_since(self.epoch).as_nanos() / bucket_len) as u64;
            let next = match &mut self.state {
                ModelState::Closed(outcomes) => {
                    if outcome == Outcome::Neither {
                        return;
                    }
                    let current = bucket(now);
                    outcomes.push((current, outcome == Outcome::Failure));
                    let recent: Vec<bool> = outcomes
                        .iter()
                        .filter(|(at, _)| at + BUCKETS > current)
                        .map(|(_, failed)| *failed)
                        .collect();
                    let failures = recent.iter().filter(|failed| **failed).count();
                    let opens = outcome == Outcome::Failure
                        && failures >= self.config.min_failures as usize
                        && failures as f64 >= self.config.failure_ratio * recent.len() as f64;
                    opens.then(|| ModelState::Open(now + self.config.cool_down))
                }
                ModelState::HalfOpen {
                    in_flight,
                    successes,
                } => {
                    *in_flight -= 1;
                    match outcome {
                        Outcome::Success => {
                            *successes += 1;
                            (*successes == self.config.close_after)
                                .then(|| ModelState::Closed(Vec::new()))
                        }
                        Outcome::Failure => Some(ModelState::Open(now + self.config.cool_down)),
                        Outcome::Neither => None,
                    }
                }
                ModelState::Open(_) => None,
            };
            if let Some(next) = next {
                self.state = next;
                self.generation += 1;
            }
        }

        fn state(&self, now: Instant) -> BreakerState {
            match self.state {
                ModelState::Closed(_) => BreakerState::Closed,
                ModelState::Open(until) if now < until => BreakerState::Open,
                _ => BreakerState::HalfOpen,
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Admit,
        Finish(usize, Outcome),
        Wait(Duration),
    }

    fn op() -> impl Strategy<Value = Op> {
        let outcome = prop_oneof![
            3 => Just(Outcome::Failure),
            2 => Just(Outcome::Success),
            1 => Just(Outcome::Neither),
        ];
        prop_oneof![
            3 => Just(Op::Admit),
            4 => (any::<usize>(), outcome).prop_map(|(index, outcome)| Op::Finish(index, outcome)),
            // Mostly within a bucket (6 s), sometimes across the window.
            2 => (0u64..7_000).prop_map(|ms| Op::Wait(Duration::from_millis(ms))),
            1 => (0u64..70_000).prop_map(|ms| Op::Wait(Duration::from_millis(ms))),
        ]
    }

    proptest! {
        #[test]
        fn the_breaker_agrees_with_the_model(
            ops in proptest::collection::vec(op(), 1..300),
            probes in 1u32..4,
            close_after in 1u32..4,
            min_failures in 1u32..8,
        ) {
            let config = BreakerConfig::new()
                .half_open_probes(probes)
                .close_after(close_after)
                .min_failures(min_failures)
                .cool_down(Duration::from_secs(30));
            let epoch = Instant::now();
            let mut now = epoch;
            let mut breaker = Breaker::new(config, epoch);
            let mut model = Model { config, epoch, state: ModelState::Closed(Vec::new()), generation: 0 };
            let mut in_flight: Vec<(Permit, u64)> = Vec::new();
            for op in ops {
                match op {
                    Op::Admit => {
                        let permit = breaker.admit(now);
                        let expected = model.admit(now);
                        prop_assert_eq!(permit.is_some(), expected.is_some());
                        if let (Some(permit), Some(generation)) = (permit, expected) {
                            in_flight.push((permit, generation));
                        }
                    }
                    Op::Finish(index, outcome) if !in_flight.is_empty() => {
                        let (permit, generation) = in_flight.swap_remove(index % in_flight.len());
                        breaker.record(permit, outcome, now);
                        model.record(generation, outcome, now);
                    }
                    Op::Finish(..) => {}
                    Op::Wait(duration) => now += duration,
                }
                prop_assert_eq!(breaker.state(now), model.state(now));
            }
        }
    }
}
