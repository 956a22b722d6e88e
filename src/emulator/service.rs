//! [`EmulatorService`]: one call, from the request to the answer, in the
//! order the API gateway checks it.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::auth::{self, Named};
use super::body::EmulatorBody;
use super::cvm::{self, Cvm, CvmCall};
use super::faults::FaultPlan;
use super::log::{Log, LogEntry, Outcome};
use super::params::RawParams;
use super::ratelimit::RateLimiter;
use super::reply::{self, ApiFailure};
use super::stream::{self, Chat};
use super::{EmulatorBuilder, Fault, Injection};
use crate::action::header::X_TC_ACTION;
use crate::sign::Credentials;
use crate::sign::verify::{self, Verifier};
use crate::{BoxError, Code, RequestId};

/// The largest request body the API accepts.
const MAX_REQUEST_BODY: usize = 10 << 20;

/// The emulator as a [`tower::Service`]: what the server runs for every
/// request, callable in process too.
///
/// In process, the emulator needs no socket, and a test on a paused tokio
/// clock drives its rate limits and delays exactly. A
/// [`Fault::DropConnection`] is an `Err` (`io::ErrorKind::ConnectionAborted`),
/// and a [`Fault::TruncatedBody`] a body that fails midway.
///
/// Clones share the fleet, the rate limits, the faults and the [`Log`];
/// [`Emulator::service`](super::Emulator::service) is the service of a
/// running server.
///
/// ```
/// use tower::ServiceBuilder;
/// use tower_tencentcloud::EnvelopeLayer;
/// use tower_tencentcloud::emulator::Emulator;
/// use tower_tencentcloud::sign::{Credentials, SignLayer};
///
/// let credentials = Credentials::new("AKIDEXAMPLE", "emulator-secret-key");
/// let emulator = Emulator::builder().credentials(credentials.clone()).into_service();
/// let client = ServiceBuilder::new()
///     .layer(SignLayer::new(credentials))
///     .layer(EnvelopeLayer::new())
///     .service(emulator.clone());
/// ```
#[derive(Clone)]
pub struct EmulatorService {
    state: Arc<State>,
}

/// Everything the calls share. Its locks are taken even when poisoned: a
/// panic elsewhere (a failed test assertion) leaves no critical section
/// halfway, so the data is still consistent.
struct State {
    verifier: Verifier<Vec<Credentials>>,
    secret_ids: Vec<String>,
    rate_limiter: RateLimiter,
    faults: FaultPlan,
    cvm: Cvm,
    log: Log,
    clock_offset_seconds: i64,
    event_interval: Duration,
    request_ids: Mutex<fastrand::Rng>,
}

impl EmulatorService {
    pub(crate) fn new(builder: EmulatorBuilder) -> Self {
        Self {
            state: Arc::new(State {
                rate_limiter: RateLimiter::new(builder.rate_limit, builder.action_rate_limits),
                faults: FaultPlan::new(builder.fault_rates, builder.seed.wrapping_add(1)),
                cvm: Cvm::seeded(builder.instances, builder.seed),
                log: Log::new(builder.log_capacity, builder.log_params_limit),
                clock_offset_seconds: builder.clock_offset_seconds,
                event_interval: builder.event_interval,
                // Not from the seed: RequestIds must differ between runs and
                // between emulators, as the API's do.
                request_ids: Mutex::new(fastrand::Rng::new()),
                secret_ids: builder
                    .credentials
                    .iter()
                    .map(|credentials| credentials.secret_id().to_owned())
                    .collect(),
                verifier: auth::verifier(builder.credentials),
            }),
        }
    }

    /// The record of every call answered so far.
    pub fn log(&self) -> Log {
        self.state.log.clone()
    }

    /// Answers the next matching call(s) with a fault; see [`Injection`].
    pub fn inject(&self, injection: impl Into<Injection>) {
        self.state.faults.inject(injection.into());
    }
}

impl fmt::Debug for EmulatorService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The ids are all a reader needs.
        f.debug_struct("EmulatorService")
            .field("secret_ids", &self.state.secret_ids)
            .field("calls", &self.state.log.len())
            .finish_non_exhaustive()
    }
}

impl<B> tower::Service<Request<B>> for EmulatorService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<EmulatorBody>;
    type Error = io::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let state = Arc::clone(&self.state);
        ResponseFuture(Box::pin(async move { state.answer(request).await }))
    }
}

/// The future of an [`EmulatorService`] call.
pub struct ResponseFuture(
    Pin<Box<dyn Future<Output = Result<Response<EmulatorBody>, io::Error>> + Send>>,
);

impl Future for ResponseFuture {
    type Output = Result<Response<EmulatorBody>, io::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

/// Where a call goes once it is signed and named.
enum Route {
    Cvm,
    Chat(Chat),
}

/// What a call is answered with, before faults.
enum Answer {
    Envelope(Bytes),
    Events(Vec<Bytes>),
}

/// A call that passed every check: who, what, and where to.
struct Admitted {
    secret_id: String,
    action: String,
    region: Option<String>,
    params: RawParams,
    route: Route,
}

impl State {
    /// The emulator's clock: the system's, shifted by the configured offset.
    fn now(&self) -> SystemTime {
        let offset = Duration::from_secs(self.clock_offset_seconds.unsigned_abs());
        let now = SystemTime::now();
        let shifted = if self.clock_offset_seconds >= 0 {
            now.checked_add(offset)
        } else {
            now.checked_sub(offset)
        };
        shifted.unwrap_or(now)
    }

    async fn answer<B>(&self, request: Request<B>) -> Result<Response<EmulatorBody>, io::Error>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let request_id = reply::new_request_id(
            &mut self
                .request_ids
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        let mut entry = LogEntry {
            request_id: request_id.clone(),
            secret_id: verify::claimed_secret_id(&parts).map(str::to_owned),
            action: auth::header(&parts, &X_TC_ACTION)
                .ok()
                .flatten()
                .map(str::to_owned),
            outcome: Outcome::Success,
            delay: None,
            params: Bytes::new(),
        };
        let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
            Ok(collected) => {
                let body = collected.to_bytes();
                entry.params = match parts.uri.query() {
                    Some(query) if parts.method == Method::GET => {
                        Bytes::copy_from_slice(query.as_bytes())
                    }
                    _ => body.clone(),
                };
                Some(body)
            }
            Err(err) if err.is::<LengthLimitError>() => None,
            // The client went away or sent garbage: nobody to answer.
            Err(err) => return Err(io::Error::other(err)),
        };
        let now = self.now();
        let unix_now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();

        let Some(body) = body else {
            let too_large = ApiFailure::new(
                "RequestSizeLimitExceeded",
                format!("The request body is larger than {MAX_REQUEST_BODY} bytes."),
            );
            return Ok(self.fail(entry, &request_id, &too_large, now));
        };
        let named = match Named::read(&parts, &body) {
            Ok(named) => named,
            Err(failure) => return Ok(self.fail(entry, &request_id, &failure, now)),
        };
        entry.secret_id.clone_from(&named.secret_id);
        entry.action.clone_from(&named.action);
        let admitted = match self.admit(&parts, &body, named, unix_now) {
            Ok(admitted) => admitted,
            Err(failure) => return Ok(self.fail(entry, &request_id, &failure, now)),
        };

        let streaming = matches!(&admitted.route, Route::Chat(chat) if chat.streaming());
        let fault = self.faults.draw(&admitted.action, streaming);
        match fault {
            Some(Fault::InternalError) => {
                return Ok(self.fail(entry, &request_id, &ApiFailure::internal_error(), now));
            }
            Some(Fault::BadGateway) => {
                entry.outcome = Outcome::BadGateway;
                self.log.record(entry);
                return Ok(reply::bad_gateway(now));
            }
            Some(Fault::DropConnection) => {
                entry.outcome = Outcome::ConnectionDropped;
                self.log.record(entry);
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the emulator dropped the connection (Fault::DropConnection)",
                ));
            }
            Some(Fault::Delay(delay)) => {
                entry.delay = Some(delay);
                tokio::time::sleep(delay).await;
            }
            _ => {}
        }
        // A delayed answer dates itself when it is sent.
        let now = self.now();
        let unix_now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();

        let call = CvmCall {
            action: &admitted.action,
            region: admitted.region.as_deref(),
            secret_id: &admitted.secret_id,
            request_id: &request_id,
            now: unix_now,
        };
        let answer = match &admitted.route {
            Route::Cvm => match self.cvm.call(&call, &admitted.params) {
                Ok(envelope) => Answer::Envelope(envelope),
                // Still subject to a truncation: the fault is spent either way.
                Err(failure) => {
                    entry.outcome = Outcome::Error(Code::new(failure.code.as_str()));
                    Answer::Envelope(reply::error_envelope(&request_id, &failure))
                }
            },
            Route::Chat(chat) if chat.streaming() => {
                let error_after = match fault {
                    Some(Fault::StreamError { after_events }) => {
                        entry.outcome = Outcome::StreamError { after_events };
                        Some(after_events)
                    }
                    _ => None,
                };
                Answer::Events(chat.events(&request_id, unix_now, error_after))
            }
            Route::Chat(chat) => Answer::Envelope(chat.envelope(&request_id, unix_now)),
        };

        let truncated = fault == Some(Fault::TruncatedBody);
        if truncated {
            entry.outcome = Outcome::BodyTruncated;
        }
        self.log.record(entry);
        Ok(match answer {
            Answer::Envelope(envelope) if truncated => {
                reply::json(EmulatorBody::truncated(envelope), now)
            }
            Answer::Envelope(envelope) => reply::json(EmulatorBody::full(envelope), now),
            Answer::Events(mut events) => {
                if truncated {
                    events.truncate(1);
                }
                let body = EmulatorBody::events(events, self.event_interval, truncated);
                reply::event_stream(body, &request_id, now)
            }
        })
    }

    /// The gateway's checks, in its order: the call is named, signed, known,
    /// and within its rate.
    fn admit(
        &self,
        parts: &http::request::Parts,
        body: &[u8],
        named: Named,
        now: u64,
    ) -> Result<Admitted, ApiFailure> {
        if parts.method != Method::POST && parts.method != Method::GET {
            return Err(ApiFailure::new(
                "UnsupportedOperation",
                format!(
                    "The emulator accepts POST and GET requests, not {}.",
                    parts.method
                ),
            ));
        }
        let action = named
            .action
            .ok_or_else(|| ApiFailure::missing_parameter("Action"))?;
        let version = named
            .version
            .ok_or_else(|| ApiFailure::missing_parameter("Version"))?;

        let verified = self
            .verifier
            .verify(parts, body, now)
            .map_err(|err| auth::failure(&err))?;
        let service = auth::service(&verified, parts, &action);

        let no_such_version = || {
            ApiFailure::new(
                "NoSuchVersion",
                format!("The requested version `{version}` of service `{service}` does not exist."),
            )
        };
        let invalid_action = || {
            ApiFailure::new(
                "InvalidAction",
                format!(
                    "The action `{action}` of service `{service}` is not valid for this version."
                ),
            )
        };
        let route = match service.as_str() {
            "cvm" if version != cvm::VERSION => return Err(no_such_version()),
            "cvm" if cvm::is_action(&action) => Route::Cvm,
            stream::SERVICE if version != stream::VERSION => return Err(no_such_version()),
            stream::SERVICE if action == stream::ACTION => Route::Chat(Chat::parse(&named.params)?),
            _ => return Err(invalid_action()),
        };

        let secret_id = verified.secret_id().to_owned();
        if let Err(limit) = self.rate_limiter.acquire(&secret_id, &action) {
            return Err(ApiFailure::new(
                "RequestLimitExceeded",
                format!(
                    "Your current request times exceed the frequency limit `{limit}` for a second \
                     of `{action}`. Please reduce the frequency of calls."
                ),
            ));
        }
        Ok(Admitted {
            secret_id,
            action,
            region: named.region,
            params: named.params,
            route,
        })
    }

    /// Answers with an error envelope, and logs it.
    fn fail(
        &self,
        mut entry: LogEntry,
        request_id: &RequestId,
        failure: &ApiFailure,
        now: SystemTime,
    ) -> Response<EmulatorBody> {
        entry.outcome = Outcome::Error(Code::new(failure.code.as_str()));
        self.log.record(entry);
        reply::json(
            EmulatorBody::full(reply::error_envelope(request_id, failure)),
            now,
        )
    }
}
