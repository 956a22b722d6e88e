use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use http::response::Parts;
use http_body::Body;
use pin_project_lite::pin_project;

use super::EnvelopeBody;
use super::collect::{Head, State, StateProj, StateProjReplace, poll_collect, read_head};
use super::decode_owned;
use crate::error::{ApiError, BoxError, Error, NotEnvelope, TransportError};
use crate::request_id::RequestId;

pin_project! {
    /// The future of [`Envelope`](super::Envelope): waits for the response
    /// head, then reads and decides the body.
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
        max_body_size: usize,
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn new(future: F, max_body_size: usize) -> Self {
        Self {
            state: State::Head { future },
            max_body_size,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<EnvelopeBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Head { future } => {
                    let response = ready!(future.poll(cx))
                        .map_err(|err| Error::Transport(TransportError::new(err)))?;
                    match read_head(response, *this.max_body_size) {
                        Head::Stream(response) => return Poll::Ready(Ok(response)),
                        Head::TooLarge(err) => return Poll::Ready(Err(err)),
                        Head::Read { head, body, buffer } => {
                            this.state.set(State::Body { body, buffer, head });
                        }
                    }
                }
                StateProj::Body { body, buffer, .. } => {
                    let collected = ready!(poll_collect(body, buffer, cx));
                    let StateProjReplace::Body { head, buffer, .. } =
                        this.state.project_replace(State::Done)
                    else {
                        unreachable!("the state was Body")
                    };
                    return Poll::Ready(match collected.into_error(&head, *this.max_body_size) {
                        None => decide(head, buffer.into_bytes()),
                        Some(err) => Err(err),
                    });
                }
                StateProj::Done => panic!("polled after completion"),
            }
        }
    }
}

/// Turns a whole body into the layer's outcome.
pub(super) fn decide<B>(mut head: Parts, body: Bytes) -> Result<Response<EnvelopeBody<B>>, Error> {
    let (request_id, error) = match decode_owned(&body) {
        Ok(decoded) => decoded,
        Err(reason) => {
            let err = NotEnvelope::new(head.status, &head.headers, &body, reason);
            tracing::debug!(status = %err.status(), request_id = ?err.request_id(), "not an API 3.0 envelope");
            return Err(Error::NotEnvelope(err));
        }
    };
    // Read from the headers only where the body lacks one.
    let request_id = request_id.or_else(|| RequestId::from_headers(&head.headers));
    if let Some((code, message)) = error {
        let err = ApiError::from_parts(head.status, code, message, request_id, head.headers);
        tracing::debug!(code = %err.code(), request_id = ?err.request_id(), "API error");
        return Err(Error::Api(err));
    }
    if let Some(id) = request_id {
        head.extensions.insert(id);
    }
    Ok(Response::from_parts(head, EnvelopeBody::full(body)))
}
