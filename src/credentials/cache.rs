//! [`CredentialsCache`]: expiring credentials fetched once per lifetime,
//! ahead of expiry, one fetch at a time.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::watch;
use tokio::time::Instant;

use super::{
    Credentials, CredentialsError, CredentialsErrorKind, CredentialsFuture, ProvideCredentials,
};

/// How long before expiry a refresh starts, for credentials that live
/// longer than twice as long.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How long one fetch may take.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The wait after the first failed refresh; it doubles with each failure.
pub const DEFAULT_MIN_BACKOFF: Duration = Duration::from_secs(1);

/// The longest wait between failed refreshes.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A provider's credentials, kept until they near their expiry.
///
/// - **Ahead of expiry.** Credentials with an expiry are refreshed when
///   [`refresh_margin`](CredentialsCacheBuilder::refresh_margin) (5 minutes) remains, or half
///   of what remained when they were fetched if that is less, so that
///   10-minute credentials refresh after 5 and 2-minute ones after 1.
///   Credentials without an expiry are kept for good.
/// - **In the background, one at a time.** The refresh runs as a tokio
///   task; however many callers there are, at most one fetch is under way.
///   Callers keep getting the credentials in hand, without waiting, as
///   long as they are valid.
/// - **Failures are not kept.** A failed refresh is retried after a wait
///   that doubles from 1 second up to 60 while the credentials in hand are
///   valid. Once none are valid, each caller waits for the fetch under way,
///   or starts one, but not within the least backoff (1 second) of a
///   failed one, when it fails at once with that failure: the source sees
///   one request at a time and at most one a second, and the first call
///   after it recovers succeeds (past that second).
/// - **Never stale.** Credentials past their expiry are never answered: the
///   caller gets [`CredentialsErrorKind::Expired`] whose source is the
///   failed refresh.
/// - **Bounded.** Every fetch is given up after
///   [`fetch_timeout`](CredentialsCacheBuilder::fetch_timeout) (10 seconds):
///   [`CredentialsErrorKind::Timeout`].
///
/// Expiry is measured on tokio's clock from what remained at the fetch, so
/// a test on a paused clock moves through lifetimes exactly. Clones share
/// the credentials. A tokio runtime must be running.
///
/// ```
/// use std::time::Duration;
/// use tower_tencentcloud::credentials::{CredentialsCache, CvmRoleProvider};
/// use tower_tencentcloud::sign::SignLayer;
///
/// # fn run() {
/// let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
///     .build_http::<http_body_util::Full<bytes::Bytes>>();
/// let cache = CredentialsCache::builder(CvmRoleProvider::new(client))
///     .fetch_timeout(Duration::from_secs(2))
///     .build();
/// let layer = SignLayer::with_cache(cache.clone());
/// // Later: when do the credentials in hand expire?
/// println!("{:?}", cache.expiry());
/// # }
/// ```
#[derive(Clone)]
pub struct CredentialsCache {
    shared: Arc<Shared>,
}

struct Shared {
    provider: Box<dyn ProvideCredentials>,
    settings: Settings,
    state: Mutex<State>,
    /// The outcome of the last fetch, for the callers waiting on it.
    outcome: watch::Sender<Option<Result<Credentials, CredentialsError>>>,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    refresh_margin: Duration,
    fetch_timeout: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
}

#[derive(Default)]
struct State {
    current: Option<Entry>,
    fetching: bool,
    failures: u32,
    retry_at: Option<Instant>,
    /// When the last fetch failed, and why; cleared by a success.
    last_failure: Option<(Instant, CredentialsError)>,
    fetches: u64,
}

struct Entry {
    credentials: Credentials,
    expires_at: Option<Instant>,
    refresh_at: Option<Instant>,
}

impl State {
    /// The error for a caller with no valid credentials: `Expired`, if
    /// some expired, with the fetch's failure as the source.
    fn failure(&self, err: CredentialsError) -> CredentialsError {
        match self.current {
            Some(_) => CredentialsError::new(CredentialsErrorKind::Expired, "").with_source(err),
            None => err,
        }
    }
}

impl Entry {
    fn valid(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|expires_at| now < expires_at)
    }
}

impl CredentialsCache {
    /// Caches what `provider` answers, with the defaults above.
    pub fn new(provider: impl ProvideCredentials) -> Self {
        Self::builder(provider).build()
    }

    /// Configures a cache of `provider`'s credentials.
    pub fn builder(provider: impl ProvideCredentials) -> CredentialsCacheBuilder {
        CredentialsCacheBuilder {
            provider: Box::new(provider),
            settings: Settings {
                refresh_margin: DEFAULT_REFRESH_MARGIN,
                fetch_timeout: DEFAULT_FETCH_TIMEOUT,
                min_backoff: DEFAULT_MIN_BACKOFF,
                max_backoff: DEFAULT_MAX_BACKOFF,
            },
        }
    }

    /// When the credentials in hand expire: `None` before the first fetch
    /// and for credentials that do not expire.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.shared.lock().current.as_ref()?.credentials.expiry()
    }

    /// How many fetches were started so far.
    pub fn fetches(&self) -> u64 {
        self.shared.lock().fetches
    }
}

/// Configures a [`CredentialsCache`]; made by [`CredentialsCache::builder`].
///
/// ```
/// use std::time::Duration;
/// use tower_tencentcloud::credentials::CredentialsCache;
/// use tower_tencentcloud::sign::Credentials;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let cache = CredentialsCache::builder(Credentials::new("AKIDEXAMPLE", "key"))
///     .refresh_margin(Duration::from_secs(60))
///     .fetch_timeout(Duration::from_secs(2))
///     .backoff(Duration::from_millis(500), Duration::from_secs(30))
///     .build();
/// # let _ = cache;
/// # }
/// ```
pub struct CredentialsCacheBuilder {
    provider: Box<dyn ProvideCredentials>,
    settings: Settings,
}

impl CredentialsCacheBuilder {
    /// Starts refreshing when `margin` remains before expiry (or half the
    /// remaining lifetime, if less).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.settings.refresh_margin = margin;
        self
    }

    /// Gives up on a fetch after `timeout`.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.settings.fetch_timeout = timeout;
        self
    }

    /// Waits `min` after the first failed refresh, doubling up to `max`.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.settings.min_backoff = min;
        self.settings.max_backoff = max.max(min);
        self
    }

    /// The cache, empty until the first call.
    pub fn build(self) -> CredentialsCache {
        CredentialsCache {
            shared: Arc::new(Shared {
                provider: self.provider,
                settings: self.settings,
                state: Mutex::new(State::default()),
                outcome: watch::Sender::new(None),
            }),
        }
    }
}

impl fmt::Debug for CredentialsCacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsCacheBuilder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // No critical section is left halfway by a panic: the state holds.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn start_fetch(self: &Arc<Self>, state: &mut State) -> Result<(), CredentialsError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            CredentialsError::new(
                CredentialsErrorKind::Fetch,
                "no tokio runtime to fetch credentials on",
            )
        })?;
        state.fetching = true;
        state.fetches += 1;
        let shared = Arc::clone(self);
        runtime.spawn(async move {
            let timeout = shared.settings.fetch_timeout;
            let fetched =
                tokio::time::timeout(timeout, shared.provider.provide_credentials()).await;
            let fetched = fetched.unwrap_or_else(|_| {
                Err(CredentialsError::new(
                    CredentialsErrorKind::Timeout,
                    format!("no credentials within {timeout:?}"),
                ))
            });
            shared.finish(fetched);
        });
        Ok(())
    }

    fn finish(&self, fetched: Result<Credentials, CredentialsError>) {
        let now = Instant::now();
        let mut state = self.lock();
        state.fetching = false;
        let fetched = fetched.and_then(|credentials| self.entry(credentials, now));
        let outcome = match fetched {
            Ok(entry) => {
                state.failures = 0;
                state.retry_at = None;
                state.last_failure = None;
                let credentials = entry.credentials.clone();
                tracing::debug!(
                    secret_id = credentials.secret_id(),
                    expiry = ?credentials.expiry(),
                    "fetched credentials"
                );
                state.current = Some(entry);
                Ok(credentials)
            }
            Err(err) => {
                state.failures = state.failures.saturating_add(1);
                let wait = self.backoff(state.failures);
                state.retry_at = Some(now + wait);
                let valid = state.current.as_ref().is_some_and(|entry| entry.valid(now));
                tracing::warn!(
                    error = %err,
                    failures = state.failures,
                    retry_in = ?wait,
                    still_valid = valid,
                    "fetching credentials failed"
                );
                state.last_failure = Some((now, err.clone()));
                // Nobody waits while the credentials in hand are valid.
                Err(if valid { err } else { state.failure(err) })
            }
        };
        self.outcome.send_replace(Some(outcome));
    }

    fn entry(&self, credentials: Credentials, now: Instant) -> Result<Entry, CredentialsError> {
        let Some(expiry) = credentials.expiry() else {
            return Ok(Entry {
                credentials,
                expires_at: None,
                refresh_at: None,
            });
        };
        let remaining = expiry.duration_since(SystemTime::now()).unwrap_or_default();
        if remaining.is_zero() {
            return Err(CredentialsError::new(
                CredentialsErrorKind::Fetch,
                "the source answered credentials that have expired already",
            ));
        }
        let margin = self.settings.refresh_margin.min(remaining / 2);
        let expires_at = now + remaining;
        Ok(Entry {
            credentials,
            expires_at: Some(expires_at),
            refresh_at: Some(expires_at - margin),
        })
    }

    fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32
            .checked_shl(failures.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.settings
            .min_backoff
            .saturating_mul(factor)
            .min(self.settings.max_backoff)
    }
}

impl ProvideCredentials for CredentialsCache {
    fn provide_credentials(&self) -> CredentialsFuture {
        let now = Instant::now();
        let mut state = self.shared.lock();
        if let Some(entry) = &state.current
            && entry.valid(now)
        {
            let credentials = entry.credentials.clone();
            let due = entry.refresh_at.is_some_and(|at| now >= at)
                && !state.fetching
                && state.retry_at.is_none_or(|at| now >= at);
            if due {
                // A refresh that cannot start is retried by the next caller;
                // this one signs with what is valid.
                let _ = self.shared.start_fetch(&mut state);
            }
            return CredentialsFuture::ready(Ok(credentials));
        }
        if !state.fetching {
            // Callers without credentials fetch one at a time, and no more
            // than once per least backoff: a hot loop of calls against a
            // failing source fails fast instead of hammering it.
            if let Some((failed_at, err)) = &state.last_failure
                && now < *failed_at + self.shared.settings.min_backoff
            {
                let err = state.failure(err.clone());
                return CredentialsFuture::ready(Err(err));
            }
            if let Err(err) = self.shared.start_fetch(&mut state) {
                return CredentialsFuture::ready(Err(err));
            }
        }
        // Subscribed under the lock the fetch reports under: its outcome
        // cannot slip by.
        let mut outcome = self.shared.outcome.subscribe();
        drop(state);
        CredentialsFuture::new(async move {
            match outcome.changed().await {
                Ok(()) => outcome
                    .borrow_and_update()
                    .clone()
                    .expect("a finished fetch reports an outcome"),
                Err(_) => Err(CredentialsError::new(
                    CredentialsErrorKind::Fetch,
                    "the fetch was dropped",
                )),
            }
        })
    }
}

impl fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("CredentialsCache")
            .field(
                "credentials",
                &state.current.as_ref().map(|e| &e.credentials),
            )
            .field("fetching", &state.fetching)
            .field("failures", &state.failures)
            .field("settings", &self.shared.settings)
            .finish()
    }
}
