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
use super::state::{Admission, Answer, Cut};
use crate::retry::Deadline;
use crate::{Error, RetryClass};

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
        Waiting {
            #[pin]
            sleep: Sleep,
            service: S,
            request: Option<Request<B>>,
            reservation: Option<Reservation>,
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
                service,
                request: Some(request),
                reservation: Some(reservation),
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
                } => {
                    ready!(sleep.as_mut().poll(cx));
                    let held = reservation
                        .as_mut()
                        .expect("ResponseFuture polled after completion");
                    if let Some(token_at) = held.confirm(Instant::now()) {
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
                    ready!(service.poll_ready(cx))?;
                    let generation = reservation
                        .take()
                        .expect("ResponseFuture polled after completion")
                        .redeem();
                    this.feedback.generation = generation;
                    let request = request
                        .take()
                        .expect("ResponseFuture polled after completion");
                    let future = service.call(request);
                    this.state.set(State::Sent { future });
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

impl<S, B> fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
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
        }
    }

    fn learn<R>(&self, result: &Result<R, Error>) {
        let answer = match result {
            Err(error) if error.retry_class() == RetryClass::Throttled => Answer::Throttled,
            // Any answer of the API's but a throttle says the rate was accepted.
            Ok(_) | Err(Error::Api(_)) => Answer::Accepted,
            // No answer (transport, body, signing failures): nothing to learn.
            Err(_) => return,
        };
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
    }
}
