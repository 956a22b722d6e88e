//! Failures on demand: injected for the next calls, or drawn at random rates.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// A failure the emulator can answer with instead of the action's answer.
///
/// A fault applies to a call that passed the signature check and the rate
/// limit, as a failure behind the API gateway would.
///
/// ```
/// use std::time::Duration;
/// use tower_tencentcloud::emulator::{Emulator, Fault, Injection};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let emulator = Emulator::builder()
///     // One call in ten, at random, is answered with InternalError.
///     .fault_rate(Fault::InternalError, 0.1)
///     .start()
///     .await?;
/// // The next two DescribeInstances calls get a 502 page.
/// emulator.inject(Injection::new(Fault::BadGateway).action("DescribeInstances").times(2));
/// // The next streamed answer fails after three events.
/// emulator.inject(Fault::StreamError { after_events: 3 });
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// An `InternalError` envelope (HTTP 200), as when a backend fails.
    InternalError,
    /// A `RequestLimitExceeded` envelope (HTTP 200), as the rate limit
    /// answers, whatever the caller's rate.
    Throttled,
    /// An HTML `502 Bad Gateway` page without an envelope, as the gateway
    /// sends when it cannot reach the backend.
    BadGateway,
    /// The action runs, but the connection closes halfway through the body
    /// (for a stream, after the first event); the `Content-Length` promises
    /// the whole body.
    TruncatedBody,
    /// The action's answer, after a delay on tokio's clock.
    Delay(Duration),
    /// The connection closes without an answer, before the action runs.
    DropConnection,
    /// For a streaming action: `after_events` events, then an event that
    /// reports an error as Hunyuan does, `"ErrorMsg": {"Code": 4000, "Msg":
    /// ...}` in its data, then the end of the stream.
    /// Calls that do not stream are not affected.
    StreamError {
        /// How many events of the answer are sent before the error event.
        after_events: usize,
    },
}

impl Fault {
    fn applies_to(&self, streaming: bool) -> bool {
        streaming || !matches!(self, Self::StreamError { .. })
    }
}

/// A [`Fault`] for the next calls: for any action or one action, once or
/// several times.
///
/// [`Emulator::inject`](super::Emulator::inject) takes an `Injection` or a
/// bare `Fault` (once, any action). Injected faults come before the random
/// rates, first injected first served.
///
/// ```
/// use tower_tencentcloud::emulator::{Fault, Injection};
///
/// let injection = Injection::new(Fault::DropConnection).action("RunInstances").times(3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injection {
    fault: Fault,
    action: Option<String>,
    times: u32,
}

impl Injection {
    /// `fault` once, for the next call of any action.
    pub fn new(fault: Fault) -> Self {
        Self {
            fault,
            action: None,
            times: 1,
        }
    }

    /// Only for calls of `action` (`DescribeInstances`).
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// For the next `times` matching calls instead of one; 0 injects nothing.
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    fn matches(&self, action: &str, streaming: bool) -> bool {
        self.times > 0
            && self.fault.applies_to(streaming)
            && self.action.as_deref().is_none_or(|wanted| wanted == action)
    }
}

impl From<Fault> for Injection {
    fn from(fault: Fault) -> Self {
        Self::new(fault)
    }
}

/// The faults of one emulator: the injected ones and the random rates.
pub(crate) struct FaultPlan {
    injected: Mutex<VecDeque<Injection>>,
    rates: Vec<(Fault, f64)>,
    rng: Mutex<fastrand::Rng>,
}

impl FaultPlan {
    pub(crate) fn new(rates: Vec<(Fault, f64)>, seed: u64) -> Self {
        Self {
            injected: Mutex::new(VecDeque::new()),
            rates,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        }
    }

    pub(crate) fn inject(&self, injection: Injection) {
        if injection.times == 0 {
            return;
        }
        self.injected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(injection);
    }

    /// The fault for a call of `action`, if any: the first matching
    /// injection, else at most one fault drawn from the rates.
    pub(crate) fn draw(&self, action: &str, streaming: bool) -> Option<Fault> {
        {
            let mut injected = self.injected.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(index) = injected
                .iter()
                .position(|injection| injection.matches(action, streaming))
            {
                let injection = &mut injected[index];
                injection.times -= 1;
                let fault = injection.fault.clone();
                if injection.times == 0 {
                    injected.remove(index);
                }
                return Some(fault);
            }
        }
        if self.rates.is_empty() {
            return None;
        }
        // One draw decides among all faults: their rates add up, so that a
        // call suffers at most one.
        let mut draw = self
            .rng
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .f64();
        for (fault, rate) in &self.rates {
            if draw < *rate {
                return fault.applies_to(streaming).then(|| fault.clone());
            }
            draw -= rate;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injections_match_their_action_and_run_out() {
        let plan = FaultPlan::new(Vec::new(), 1);
        plan.inject(
            Injection::new(Fault::BadGateway)
                .action("DescribeZones")
                .times(2),
        );
        plan.inject(Fault::InternalError.into());
        assert_eq!(
            plan.draw("DescribeZones", false),
            Some(Fault::BadGateway),
            "first injected, first served"
        );
        assert_eq!(
            plan.draw("DescribeRegions", false),
            Some(Fault::InternalError)
        );
        assert_eq!(plan.draw("DescribeRegions", false), None);
        assert_eq!(plan.draw("DescribeZones", false), Some(Fault::BadGateway));
        assert_eq!(plan.draw("DescribeZones", false), None);
    }

    #[test]
    fn stream_errors_wait_for_a_streaming_call() {
        let plan = FaultPlan::new(Vec::new(), 1);
        plan.inject(Fault::StreamError { after_events: 2 }.into());
        assert_eq!(plan.draw("DescribeZones", false), None);
        assert_eq!(
            plan.draw("ChatCompletions", true),
            Some(Fault::StreamError { after_events: 2 })
        );
    }

    #[test]
    fn rates_draw_at_most_one_fault_in_proportion() {
        let plan = FaultPlan::new(
            vec![(Fault::InternalError, 0.25), (Fault::BadGateway, 0.25)],
            7,
        );
        let draws: Vec<_> = (0..4000)
            .map(|_| plan.draw("DescribeZones", false))
            .collect();
        let count = |fault: &Fault| draws.iter().filter(|d| d.as_ref() == Some(fault)).count();
        let internal = count(&Fault::InternalError);
        let gateway = count(&Fault::BadGateway);
        assert!((800..1200).contains(&internal), "{internal}");
        assert!((800..1200).contains(&gateway), "{gateway}");
    }

    #[test]
    fn rates_of_zero_and_one() {
        let never = FaultPlan::new(vec![(Fault::InternalError, 0.0)], 3);
        assert!((0..100).all(|_| never.draw("DescribeZones", false).is_none()));
        let always = FaultPlan::new(vec![(Fault::DropConnection, 1.0)], 3);
        assert!(
            (0..100).all(|_| always.draw("DescribeZones", false) == Some(Fault::DropConnection))
        );
    }
}
