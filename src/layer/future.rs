use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::response::Parts;
use http::{HeaderMap, Response};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use pin_project_lite::pin_project;

use super::EnvelopeBody;
use super::media_type::is_streaming;
use crate::RequestId;
use crate::envelope::decode;
use crate::error::{
    ApiError, BodyError, BodyTooLarge, BoxError, Error, NotEnvelope, TransportError,
};

pin_project! {
    /// The future of [`Envelope`](super::Envelope): waits for the response
    /// head, then reads and decides the body.
    pub struct ResponseFuture<F, B>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        #[pin]
        state: State<F, B>,
        max_body_size: usize,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        Head {
            #[pin]
            future: F,
        },
        Body {
            #[pin]
            collect: Collect<Limited<B>>,
            head: Option<Parts>,
            header_request_id: Option<RequestId>,
        },
    }
}

impl<F, B> ResponseFuture<F, B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
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
                    let (mut head, body) = response.into_parts();
                    let header_request_id = RequestId::from_headers(&head.headers);
                    if is_streaming(&head.headers) {
                        let body =
                            EnvelopeBody::stream(body, head.status, header_request_id.clone());
                        if let Some(id) = header_request_id {
                            head.extensions.insert(id);
                        }
                        return Poll::Ready(Ok(Response::from_parts(head, body)));
                    }
                    let limit = *this.max_body_size;
                    if exceeds(&head.headers, &body, limit) {
                        let err = BodyTooLarge::new(head.status, header_request_id, limit);
                        return Poll::Ready(Err(Error::BodyTooLarge(err)));
                    }
                    this.state.set(State::Body {
                        collect: Limited::new(body, limit).collect(),
                        head: Some(head),
                        header_request_id,
                    });
                }
                StateProj::Body {
                    collect,
                    head,
                    header_request_id,
                } => {
                    let collected = ready!(collect.poll(cx));
                    let head = head.take().expect("ResponseFuture polled after completion");
                    let header_request_id = header_request_id.take();
                    let body = match collected {
                        Ok(collected) => collected.to_bytes(),
                        Err(err) => {
                            return Poll::Ready(Err(body_error(
                                err,
                                &head,
                                header_request_id,
                                *this.max_body_size,
                            )));
                        }
                    };
                    return Poll::Ready(decide(head, body, header_request_id));
                }
            }
        }
    }
}

/// Whether Content-Length or the body's own size hint already says too much.
fn exceeds<B: Body>(headers: &HeaderMap, body: &B, limit: usize) -> bool {
    let limit = u64::try_from(limit).unwrap_or(u64::MAX);
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    declared.is_some_and(|len| len > limit) || body.size_hint().lower() > limit
}

fn body_error(err: BoxError, head: &Parts, request_id: Option<RequestId>, limit: usize) -> Error {
    if err.is::<LengthLimitError>() {
        Error::BodyTooLarge(BodyTooLarge::new(head.status, request_id, limit))
    } else {
        Error::Body(BodyError::new(head.status, request_id, err))
    }
}

/// Turns a whole body into the layer's outcome.
// `Error` is returned by value everywhere in the crate; whether to box its
// large variants is a decision for the whole error type.
#[allow(clippy::result_large_err)]
fn decide<B>(
    mut head: Parts,
    body: Bytes,
    header_request_id: Option<RequestId>,
) -> Result<Response<EnvelopeBody<B>>, Error> {
    let decoded = match decode(&body) {
        Ok(decoded) => decoded,
        Err(reason) => {
            let err = NotEnvelope::new(head.status, header_request_id, &body, reason);
            tracing::debug!(status = %err.status(), request_id = ?err.request_id(), "not an API 3.0 envelope");
            return Err(Error::NotEnvelope(err));
        }
    };
    let request_id = decoded
        .request_id()
        .map(RequestId::from)
        .or(header_request_id);
    if let Some(fields) = decoded.error() {
        let mut err =
            ApiError::new(head.status, fields.code(), fields.message()).with_headers(head.headers);
        if let Some(id) = request_id {
            err = err.with_request_id(id);
        }
        tracing::debug!(code = %err.code(), request_id = ?err.request_id(), "API error");
        return Err(Error::Api(err));
    }
    if let Some(id) = request_id {
        head.extensions.insert(id);
    }
    Ok(Response::from_parts(head, EnvelopeBody::full(body)))
}
