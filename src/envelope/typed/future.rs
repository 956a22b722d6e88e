use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::Response;
use http_body::Body;
use pin_project_lite::pin_project;
use serde::de::DeserializeOwned;

use super::TypedBody;
use super::decide::decide_with;
use crate::envelope::collect::{Head, State, StateProj, StateProjReplace, poll_collect, read_head};
use crate::error::{BoxError, Error, TransportError};

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
                    match read_head(response, *this.max_body_size) {
                        Head::Stream(response) => {
                            return Poll::Ready(Ok(response.map(TypedBody::stream)));
                        }
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
                        None => decide_with::<T, _>(head, &buffer.into_bytes(), TypedBody::value),
                        Some(err) => Err(err),
                    });
                }
                StateProj::Done => panic!("polled after completion"),
            }
        }
    }
}
