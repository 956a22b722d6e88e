use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use http::response::Parts;
use http_body::Body;
use pin_project_lite::pin_project;
use serde::de::DeserializeOwned;

use super::TypedBody;
use super::decide::decide_with;
use crate::action::media_type::is_streaming;
use crate::envelope::EnvelopeBody;
use crate::envelope::buffer::BodyBuffer;
use crate::envelope::collect::{Collected, poll_collect};
use crate::envelope::future::expected_len;
use crate::error::{BodyError, BodyTooLarge, BoxError, Error, TransportError};
use crate::request_id::RequestId;

pin_project! {
    /// The future of [`TypedEnvelope`](super::TypedEnvelope): waits for
    /// the response head, then reads the body and decides it.
    pub struct TypedResponseFuture<F, B, T> {
        #[pin]
        state: State<F, B>,
        max_body_size: usize,
        fields: PhantomData<fn() -> T>,
    }
}

pin_project! {
    #[project = StateProj]
    #[project_replace = StateProjReplace]
    enum State<F, B> {
        Head {
            #[pin]
            future: F,
        },
        Body {
            #[pin]
            body: B,
            buffer: BodyBuffer,
            head: Parts,
        },
        Done,
    }
}

impl<F, B, T> TypedResponseFuture<F, B, T> {
    pub(crate) fn new(future: F, max_body_size: usize) -> Self {
        Self {
            state: State::Head { future },
            max_body_size,
            fields: PhantomData,
        }
    }
}

impl<F, B, E, T> Future for TypedResponseFuture<F, B, T>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
    T: DeserializeOwned,
{
    type Output = Result<Response<TypedBody<T, B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Head { future } => {
                    let response = ready!(future.poll(cx))
                        .map_err(|err| Error::Transport(TransportError::new(err)))?;
                    let (mut head, body) = response.into_parts();
                    if is_streaming(&head.headers) {
                        let header_request_id = RequestId::from_headers(&head.headers);
                        let body =
                            EnvelopeBody::stream(body, head.status, header_request_id.clone());
                        if let Some(id) = header_request_id {
                            head.extensions.insert(id);
                        }
                        let body = TypedBody::stream(body);
                        return Poll::Ready(Ok(Response::from_parts(head, body)));
                    }
                    let limit = *this.max_body_size;
                    let expected = expected_len(&head.headers, &body);
                    if expected > limit as u64 {
                        let id = RequestId::from_headers(&head.headers);
                        let err = BodyTooLarge::new(head.status, id, limit);
                        return Poll::Ready(Err(Error::BodyTooLarge(err)));
                    }
                    this.state.set(State::Body {
                        body,
                        buffer: BodyBuffer::new(expected as usize, limit),
                        head,
                    });
                }
                StateProj::Body { body, buffer, .. } => {
                    let collected = ready!(poll_collect(body, buffer, cx));
                    let StateProjReplace::Body { head, buffer, .. } =
                        this.state.project_replace(State::Done)
                    else {
                        unreachable!("the state was Body")
                    };
                    // Read from the headers only where the body lacks one.
                    let header_request_id = || RequestId::from_headers(&head.headers);
                    return Poll::Ready(match collected {
                        Collected::Whole => {
                            decide_with::<T, _>(head, &buffer.into_bytes(), TypedBody::value)
                        }
                        Collected::OverLimit => Err(Error::BodyTooLarge(BodyTooLarge::new(
                            head.status,
                            header_request_id(),
                            *this.max_body_size,
                        ))),
                        Collected::Failed(err) => Err(Error::Body(BodyError::new(
                            head.status,
                            header_request_id(),
                            err,
                        ))),
                    });
                }
                StateProj::Done => panic!("polled after completion"),
            }
        }
    }
}
