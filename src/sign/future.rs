use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::SystemTime;

use http::Request;
use http::header::DATE;
use pin_project_lite::pin_project;
use tower::Service;

use super::service::sign_and_call;
use super::{Clock, SignableBody};
use crate::credentials::CredentialsFuture;
use crate::error::{ApiError, Error};

pin_project! {
    /// The future of [`Sign`](super::Sign): the credentials, when they are
    /// not at hand, then the inner service's future, watched for
    /// `AuthFailure.SignatureExpire`.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S, B>,
    }
}

pin_project! {
    #[project = StateProj]
    pub(super) enum State<S, B>
    where
        S: Service<Request<B>>,
    {
        Waiting {
            credentials: CredentialsFuture,
            inner: Option<S>,
            request: Option<Request<B>>,
            clock: Clock,
        },
        Signed {
            #[pin]
            future: S::Future,
            clock: Clock,
            sent: SystemTime,
        },
        Failed {
            error: Option<Error>,
        },
    }
}

impl<S, B> State<S, B>
where
    S: Service<Request<B>>,
{
    pub(super) fn waiting(
        credentials: CredentialsFuture,
        inner: S,
        request: Request<B>,
        clock: Clock,
    ) -> Self {
        Self::Waiting {
            credentials,
            inner: Some(inner),
            request: Some(request),
            clock,
        }
    }

    pub(super) fn signed(future: S::Future, clock: Clock, sent: SystemTime) -> Self {
        Self::Signed {
            future,
            clock,
            sent,
        }
    }

    pub(super) fn failed(error: Error) -> Self {
        Self::Failed { error: Some(error) }
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    pub(super) fn new(state: State<S, B>) -> Self {
        Self { state }
    }
}

impl<S, B, R> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = R, Error = Error>,
    B: SignableBody,
{
    type Output = Result<R, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Waiting {
                    credentials,
                    inner,
                    request,
                    clock,
                } => {
                    let credentials = ready!(Pin::new(credentials).poll(cx));
                    let (mut inner, request) = inner
                        .take()
                        .zip(request.take())
                        .expect("ResponseFuture polled after completion");
                    let next = match credentials {
                        Ok(credentials) => sign_and_call(&mut inner, request, &credentials, clock),
                        Err(err) => {
                            tracing::debug!(error = %err, "no credentials: request not sent");
                            State::failed(err.into())
                        }
                    };
                    state.set(next);
                }
                StateProj::Signed {
                    future,
                    clock,
                    sent,
                } => {
                    let result = ready!(future.poll(cx));
                    if let Err(Error::Api(err)) = &result
                        && err.retry_class().is_clock_skew()
                    {
                        learn_server_time(clock, *sent, err);
                    }
                    return Poll::Ready(result);
                }
                StateProj::Failed { error } => {
                    let error = error
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Err(error));
                }
            }
        }
    }
}

impl<S, B> std::fmt::Debug for ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

/// Corrects `clock` from the `Date` header of a SignatureExpire response.
fn learn_server_time(clock: &Clock, sent: SystemTime, err: &ApiError) {
    let received = clock.local_now();
    let server_date = err
        .headers()
        .get(DATE)
        .and_then(|date| date.to_str().ok())
        .and_then(|date| httpdate::parse_http_date(date).ok());
    match server_date {
        Some(server_date) => {
            let offset_millis = clock.correct_from_server_date(server_date, sent, received);
            tracing::warn!(
                offset_millis,
                request_id = ?err.request_id(),
                "signature expired: the local clock is off; signing with the server's time from now on"
            );
        }
        None => tracing::warn!(
            request_id = ?err.request_id(),
            "signature expired, and the response has no usable Date header to correct the clock"
        ),
    }
}
