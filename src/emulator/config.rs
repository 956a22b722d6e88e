//! [`EmulatorBuilder`]: credentials, rate limits, faults, the seeded fleet.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::{Emulator, EmulatorService, Fault};
use crate::sign::Credentials;

/// The seed of the fleet and the fault draws, unless set.
const DEFAULT_SEED: u64 = 0x7e4c_e17e_c10d_0003;

/// The entries the log keeps, unless set.
pub(crate) const DEFAULT_LOG_CAPACITY: usize = 100_000;

/// The bytes of parameters the log keeps, unless set: three of the
/// largest bodies the API accepts.
pub(crate) const DEFAULT_LOG_PARAMS_LIMIT: usize = 32 << 20;

/// Configures an [`Emulator`], or an [`EmulatorService`] to call in process.
///
/// | setting | default |
/// |---|---|
/// | [`credentials`](Self::credentials) | none: every SecretId is `AuthFailure.SecretIdNotFound` |
/// | [`rate_limit`](Self::rate_limit), [`action_rate_limit`](Self::action_rate_limit) | no limit |
/// | [`fault_rate`](Self::fault_rate), [`internal_error_rate`](Self::internal_error_rate) | no random faults |
/// | [`instances`](Self::instances) | 50 instances in `ap-guangzhou` |
/// | [`seed`](Self::seed) | a fixed seed: the same fleet and draws every run |
/// | [`clock_offset_seconds`](Self::clock_offset_seconds) | 0: the system clock |
/// | [`event_interval`](Self::event_interval) | 0: stream events as fast as they are read |
/// | [`log_capacity`](Self::log_capacity) | 100 000 entries |
/// | [`log_params_limit`](Self::log_params_limit) | 32 MiB of parameters |
/// | [`addr`](Self::addr) | `127.0.0.1:0`, an ephemeral port |
///
/// ```
/// use tower_tencentcloud::emulator::{Emulator, Fault};
/// use tower_tencentcloud::sign::Credentials;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let emulator = Emulator::builder()
///     .credentials(Credentials::new("AKIDEXAMPLE", "emulator-secret-key"))
///     .rate_limit(20)
///     .action_rate_limit("RunInstances", 5)
///     .internal_error_rate(0.05)
///     .instances(120)
///     .start()
///     .await?;
/// println!("emulating Tencent Cloud API 3.0 at {}", emulator.endpoint());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    pub(crate) credentials: Vec<Credentials>,
    pub(crate) rate_limit: Option<u32>,
    pub(crate) action_rate_limits: HashMap<String, u32>,
    pub(crate) fault_rates: Vec<(Fault, f64)>,
    pub(crate) instances: usize,
    pub(crate) seed: u64,
    pub(crate) clock_offset_seconds: i64,
    pub(crate) event_interval: Duration,
    pub(crate) log_capacity: usize,
    pub(crate) log_params_limit: usize,
    addr: SocketAddr,
}

impl EmulatorBuilder {
    /// The defaults listed above.
    pub fn new() -> Self {
        Self {
            credentials: Vec::new(),
            rate_limit: None,
            action_rate_limits: HashMap::new(),
            fault_rates: Vec::new(),
            instances: 50,
            seed: DEFAULT_SEED,
            clock_offset_seconds: 0,
            event_interval: Duration::ZERO,
            log_capacity: DEFAULT_LOG_CAPACITY,
            log_params_limit: DEFAULT_LOG_PARAMS_LIMIT,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        }
    }

    /// Accepts requests signed with `credentials`; call it again for more
    /// accounts. With a session token, requests must carry it as
    /// `X-TC-Token` (else `AuthFailure.TokenFailure`).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials.push(credentials);
        self
    }

    /// Limits every (SecretId, action) pair to `per_second` calls a second,
    /// answering `RequestLimitExceeded` beyond. Up to `per_second` calls may
    /// come at once; the allowance refills evenly over the second, on
    /// tokio's clock.
    pub fn rate_limit(mut self, per_second: u32) -> Self {
        self.rate_limit = Some(per_second);
        self
    }

    /// Limits calls of `action` to `per_second` a second per SecretId,
    /// instead of the [`rate_limit`](Self::rate_limit) of every action.
    pub fn action_rate_limit(mut self, action: impl Into<String>, per_second: u32) -> Self {
        self.action_rate_limits.insert(action.into(), per_second);
        self
    }

    /// Answers a call with `fault` at random, with probability `rate`
    /// (clamped to 0..=1). Each call draws at most one fault: the rates of
    /// several faults add up, and a rate set twice for the same fault is
    /// replaced.
    pub fn fault_rate(mut self, fault: Fault, rate: f64) -> Self {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self.fault_rates.retain(|(known, _)| *known != fault);
        self.fault_rates.push((fault, rate));
        self
    }

    /// `fault_rate(Fault::InternalError, rate)`.
    pub fn internal_error_rate(self, rate: f64) -> Self {
        self.fault_rate(Fault::InternalError, rate)
    }

    /// The size of the fleet seeded in `ap-guangzhou`, which
    /// DescribeInstances pages through; other regions start empty.
    pub fn instances(mut self, count: usize) -> Self {
        self.instances = count;
        self
    }

    /// Seeds the fleet's instance ids and the random fault draws.
    /// RequestIds are random whatever the seed, unique across runs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Runs the emulator's clock `seconds` ahead of the system clock
    /// (behind when negative), to test clock-skew handling: beyond 300
    /// seconds, requests signed on the system clock are
    /// `AuthFailure.SignatureExpire`. The `Date` header tells the
    /// emulator's time.
    pub fn clock_offset_seconds(mut self, seconds: i64) -> Self {
        self.clock_offset_seconds = seconds;
        self
    }

    /// Sends the events of a stream `interval` apart, on tokio's clock.
    pub fn event_interval(mut self, interval: Duration) -> Self {
        self.event_interval = interval;
        self
    }

    /// Keeps at most `entries` calls in the [`Log`](super::Log) (at least
    /// one), dropping the oldest beyond.
    pub fn log_capacity(mut self, entries: usize) -> Self {
        self.log_capacity = entries;
        self
    }

    /// Keeps at most `bytes` of request parameters in the
    /// [`Log`](super::Log), dropping the oldest entries beyond (the newest
    /// is kept whatever its size).
    pub fn log_params_limit(mut self, bytes: usize) -> Self {
        self.log_params_limit = bytes;
        self
    }

    /// The address [`start`](Self::start) listens on. Port 0 picks a free
    /// port; [`Emulator::addr`] tells which.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Starts a server on the [`addr`](Self::addr), on the current tokio
    /// runtime. It runs until the returned [`Emulator`] is dropped.
    pub async fn start(self) -> io::Result<Emulator> {
        let addr = self.addr;
        Emulator::bind(self.into_service(), addr).await
    }

    /// The emulator as a [`tower::Service`] to call in process, without a
    /// socket; see [`EmulatorService`].
    pub fn into_service(self) -> EmulatorService {
        EmulatorService::new(self)
    }
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self::new()
    }
}
