use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Request;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};
use tower::Service;

use super::RateKey;
use super::last_throttle::LastThrottle;
use super::rates::{KeyState, Rates};
use super::shared::{Admit, Fallback, LeaseFuture, Ticket};
use super::state::{Admission, Answer, Cut};
use crate::action::Deadline;
use crate::action::telemetry;
use crate::error::Error;

pin_project! {
    /// The future of [`AdaptiveRateLimit`](super::AdaptiveRateLimit): the
    /// wait for a token, if any, then the inner service's future, whose
    /// answer the learned rate learns from.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B, S::Future>,
        feedback: Feedback,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, B, F> {
        // Under a shared budget: the token comes from the store.
        Leasing {
            lease: LeaseFuture,
            service: Option<S>,
            request: Option<Request<B>>,
        },
        // A reservation of the local limiter, or none for a shared token.
        Waiting {
            #[pin]
            sleep: Sleep,
            service: Option<S>,
            request: Option<Request<B>>,
            reservation: Option<Reservation>,
            since: Instant,
        },
        Sent {
            #[pin]
            future: F,
        },
        // The request's Deadline comes before its token: not sent.
        Refused {
            error: Option<Error>,
        },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    pub(crate) fn sent(future: S::Future, feedback: Feedback) -> Self {
        Self {
            state: State::Sent { future },
            feedback,
        }
    }

    pub(crate) fn leasing(
        lease: LeaseFuture,
        service: S,
        request: Request<B>,
        feedback: Feedback,
    ) -> Self {
        Self {
            state: State::Leasing {
                lease,
                service: Some(service),
                request: Some(request),
            },
            feedback,
        }
    }

    pub(crate) fn refused(error: Error, feedback: Feedback) -> Self {
        Self {
            state: State::Refused { error: Some(error) },
            feedback,
        }
    }

    pub(crate) fn waiting(
        service: S,
        request: Request<B>,
        deadline: Instant,
        reservation: Reservation,
        feedback: Feedback,
    ) -> Self {
        Self {
            state: State::Waiting {
                sleep: tokio::time::sleep_until(deadline),
                service: Some(service),
                request: Some(request),
                reservation: Some(reservation),
                since: Instant::now(),
            },
            feedback,
        }
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Error = Error>,
{
    type Output = Result<S::Response, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Waiting {
                    mut sleep,
                    service,
                    request,
                    reservation,
                    since,
                } => {
                    let back = this
                        .feedback
                        .fallback
                        .as_mut()
                        .is_some_and(|fallback| fallback.poll_back(cx).is_ready());
                    if !back {
                        ready!(sleep.as_mut().poll(cx));
                    }
                    if let Some(fallback) = this.feedback.fallback.take_if(|_| back) {
                        // The store is back while this request waited for a
                        // local token: sent on it, it would add the local
                        // rate to the budget's, which the fleet shares
                        // again. Dropping the reservation gives it back.
                        let lease = fallback.lease(this.feedback.key.clone());
                        this.feedback.state = None;
                        let next = State::Leasing {
                            lease,
                            service: service.take(),
                            request: request.take(),
                        };
                        this.state.set(next);
                        continue;
                    }
                    if let Some(held) = reservation.as_mut()
                        && let Some(token_at) = held.confirm(Instant::now())
                    {
                        // A cut cancelled the reservation; the new one is later,
                        // maybe too late.
                        let request = request
                            .as_ref()
                            .expect("ResponseFuture polled after completion");
                        if let Some(error) = held.refusal(request, token_at) {
                            // Dropping the reservation gives its token back.
                            this.state.set(State::Refused { error: Some(error) });
                            continue;
                        }
                        sleep.reset(token_at);
                        continue;
                    }
                    let service = service
                        .as_mut()
                        .expect("ResponseFuture polled after completion");
                    ready!(service.poll_ready(cx))?;
                    if let Some(held) = reservation.take() {
                        this.feedback.generation = held.redeem();
                    }
                    let request = request
                        .take()
                        .expect("ResponseFuture polled after completion");
                    this.feedback.waited(since.elapsed());
                    let future = service.call(request);
                    this.state.set(State::Sent { future });
                }
                StateProj::Leasing {
                    lease,
                    service,
                    request,
                } => {
                    let admit = ready!(Pin::new(lease).poll(cx));
                    let service = service
                        .take()
                        .expect("ResponseFuture polled after completion");
                    let request = request
                        .take()
                        .expect("ResponseFuture polled after completion");
                    let next = match admit {
                        Admit::At { at, ticket } => {
                            this.feedback.ticket = Some(ticket);
                            State::waiting_at(at, service, request, None)
                        }
                        Admit::Refused(error) => State::Refused { error: Some(error) },
                        Admit::Local(fallback) => {
                            this.feedback.fallback = Some(fallback);
                            this.feedback.admit_locally(service, request)
                        }
                    };
                    this.state.set(next);
                }
                StateProj::Sent { future } => {
                    let result = ready!(future.poll(cx));
                    this.feedback.learn(&result);
                    return Poll::Ready(result);
                }
                StateProj::Refused { error } => {
                    let error = error
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Err(error));
                }
            }
        }
    }
}

impl<S, B, F> State<S, B, F> {
    fn waiting_at(
        at: Instant,
        service: S,
        request: Request<B>,
        reservation: Option<Reservation>,
    ) -> Self {
        State::Waiting {
            sleep: tokio::time::sleep_until(at),
            service: Some(service),
            request: Some(request),
            reservation,
            since: Instant::now(),
        }
    }
}

impl<S, B> fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Leasing { .. } => "leasing a token of the shared budget".to_owned(),
            State::Waiting { sleep, .. } => format!("waiting until {:?}", sleep.deadline()),
            State::Sent { .. } => "sent".to_owned(),
            State::Refused { .. } => "refused: its deadline comes before its token".to_owned(),
        };
        f.debug_struct("ResponseFuture")
            .field("key", &self.feedback.key)
            .field("state", &state)
            .finish()
    }
}

/// A token reserved ahead; given back unless redeemed.
pub(crate) struct Reservation {
    state: Arc<KeyState>,
    generation: u64,
    redeemed: bool,
}

impl Reservation {
    pub(crate) fn new(state: Arc<KeyState>, generation: u64) -> Self {
        Self {
            state,
            generation,
            redeemed: false,
        }
    }

    /// `None` when the reserved token is there; else the deadline of a
    /// reservation made anew, a cut having cancelled this one.
    fn confirm(&mut self, now: Instant) -> Option<Instant> {
        match self.state.confirm(self.generation, now) {
            Admission::Now { generation } => {
                self.generation = generation;
                None
            }
            Admission::At {
                deadline,
                generation,
            } => {
                self.generation = generation;
                Some(deadline)
            }
        }
    }

    /// The error to end `request` with instead of sending it at `token_at`:
    /// the key's last throttle, when the request's [`Deadline`] comes first.
    pub(crate) fn refusal<B>(&self, request: &Request<B>, token_at: Instant) -> Option<Error> {
        refusal(&self.state, request, token_at)
    }

    /// Spends the token on a request; returns the generation it is sent under.
    fn redeem(mut self) -> u64 {
        self.redeemed = true;
        self.generation
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.redeemed {
            self.state.release(self.generation, Instant::now());
        }
    }
}

/// The key's last throttle, when `request` carries a [`Deadline`] before
/// `token_at`; `None` lets it wait.
pub(crate) fn refusal<B>(
    state: &KeyState,
    request: &Request<B>,
    token_at: Instant,
) -> Option<Error> {
    let deadline = request.extensions().get::<Deadline>()?;
    if deadline.is_before(token_at) {
        state.last_throttle()
    } else {
        None
    }
}

/// What the answer to a request teaches its key's rate.
pub(crate) struct Feedback {
    rates: Arc<Rates>,
    key: RateKey,
    state: Option<Arc<KeyState>>,
    generation: u64,
    /// Set when the shared budget admitted the request: it learns instead.
    ticket: Option<Ticket>,
    /// Set while the request waits for a token of the local limiter, the
    /// shared budget's store being down.
    fallback: Option<Fallback>,
}

impl Feedback {
    pub(crate) fn new(
        rates: Arc<Rates>,
        key: RateKey,
        state: Option<Arc<KeyState>>,
        generation: u64,
    ) -> Self {
        Self {
            rates,
            key,
            state,
            generation,
            ticket: None,
            fallback: None,
        }
    }

    /// Admits a request on the local limiter, as
    /// [`AdaptiveRateLimit`](super::AdaptiveRateLimit) does without a
    /// shared budget: the store is down and the budget fails open.
    fn admit_locally<S, B, F>(&mut self, service: S, request: Request<B>) -> State<S, B, F> {
        let now = Instant::now();
        let Some(state) = self.rates.get(&self.key) else {
            return State::waiting_at(now, service, request, None);
        };
        match state.admit(now) {
            Admission::Now { generation } => {
                self.generation = generation;
                self.state = Some(state);
                State::waiting_at(now, service, request, None)
            }
            Admission::At {
                deadline,
                generation,
            } => {
                if let Some(error) = refusal(&state, &request, deadline) {
                    state.release(generation, now);
                    return State::Refused { error: Some(error) };
                }
                self.generation = generation;
                self.state = Some(state.clone());
                let reservation = Reservation::new(state, generation);
                State::waiting_at(deadline, service, request, Some(reservation))
            }
        }
    }

    fn learn<R>(&self, result: &Result<R, Error>) {
        let answer = match result {
            Err(error) if error.retry_class().asks_to_slow_down() => Answer::Throttled,
            // Any answer of the API's but a throttle says the rate was accepted.
            Ok(_) | Err(Error::Api(_)) => Answer::Accepted,
            // No answer (transport, body, signing failures): nothing to learn.
            Err(_) => return,
        };
        if let Some(ticket) = &self.ticket {
            ticket.learn(answer == Answer::Throttled);
            return;
        }
        let now = Instant::now();
        let cut = match &self.state {
            Some(state) => state.learn(answer, self.generation, now),
            None if answer == Answer::Throttled => {
                self.rates.throttled(&self.key, self.generation, now)
            }
            // Never throttled: nothing to keep.
            None => None,
        };
        if let Some(Cut { from, to }) = cut {
            tracing::debug!(key = %self.key, from, to, "throttled: rate cut");
        }
        if answer == Answer::Throttled
            && let Err(error) = result
            && let Some(throttle) = LastThrottle::of(error)
        {
            let state = self.state.clone().or_else(|| self.rates.get(&self.key));
            if let Some(state) = state {
                state.remember(throttle);
            }
        }
        #[cfg(feature = "metrics")]
        if (self.state.is_some() || answer == Answer::Throttled) && telemetry::recording() {
            let rate = self.rates.get(&self.key).and_then(|state| state.rate());
            if let Some(rate) = rate {
                metrics::gauge!(telemetry::RATE_LIMIT_RATE, "action" => telemetry::bounded(self.key.action()))
                    .set(rate);
            }
        }
    }

    /// Reports a wait for a token: into the current span (the attempt's,
    /// under `trace::AttemptLayer`) and, with `metrics`, a histogram.
    fn waited(&self, waited: std::time::Duration) {
        tracing::Span::current().record(telemetry::RATE_LIMIT_WAIT_FIELD, waited.as_secs_f64());
        #[cfg(feature = "metrics")]
        if telemetry::recording() {
            metrics::histogram!(telemetry::RATE_LIMIT_WAIT, "action" => telemetry::bounded(self.key.action()))
                .record(waited);
        }
    }
}
