use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::SystemTime;

use http::header::DATE;
use pin_project_lite::pin_project;

use super::{Clock, SignError};
use crate::{ApiError, Error};

pin_project! {
    /// The future of [`Sign`](super::Sign): the inner service's future,
    /// watched for `AuthFailure.SignatureExpire`.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Signed {
            #[pin]
            future: F,
            clock: Clock,
            sent: SystemTime,
        },
        Unsigned {
            error: Option<SignError>,
        },
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn signed(future: F, clock: Clock, sent: SystemTime) -> Self {
        Self {
            state: State::Signed {
                future,
                clock,
                sent,
            },
        }
    }

    pub(crate) fn unsigned(error: SignError) -> Self {
        Self {
            state: State::Unsigned { error: Some(error) },
        }
    }
}

impl<F, R> Future for ResponseFuture<F>
where
    F: Future<Output = Result<R, Error>>,
{
    type Output = Result<R, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
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
                Poll::Ready(result)
            }
            StateProj::Unsigned { error } => {
                let error = error
                    .take()
                    .expect("ResponseFuture polled after completion");
                Poll::Ready(Err(error.into()))
            }
        }
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
