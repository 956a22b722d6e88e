use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::Stream;
use http_body::Body;
use pin_project_lite::pin_project;

use super::parser::{Parser, TooLarge};
use super::{Event, SseBody};
use crate::error::Error;

pin_project! {
    /// The events of an [`SseBody`], as a [`Stream`] of
    /// `Result<Event, Error>`.
    ///
    /// The events are those of the bytes the body yields, framed as the
    /// WHATWG standard says: an event whose data reports an error is not
    /// one of them, the stream yields [`Error::Api`] in its place and ends.
    /// An event that no blank line completed when the body ended is
    /// discarded, as the standard says. A body that is not an event stream
    /// is framed all the same (a JSON envelope yields no event).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use tower::{ServiceBuilder, ServiceExt};
    /// use tower_tencentcloud::sse::SseLayer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // A transport that streams two events, then one reporting an error.
    /// let transport = tower::service_fn(|_: http::Request<String>| async {
    ///     let events = "data: {\"Delta\":\"Hello\"}\n\n\
    ///                   data: {\"Delta\":\" world\"}\n\n\
    ///                   data: {\"ErrorMsg\":{\"Code\":4001,\"Msg\":\"model timeout\"}}\n\n";
    ///     let response = http::Response::builder()
    ///         .header("content-type", "text/event-stream")
    ///         .header("x-tc-requestid", "6f0c5d7e")
    ///         .body(Full::new(Bytes::from(events)))
    ///         .unwrap();
    ///     Ok::<_, std::convert::Infallible>(response)
    /// });
    /// let client = ServiceBuilder::new().layer(SseLayer::new()).service(transport);
    ///
    /// let response = client.oneshot(http::Request::new(String::new())).await.unwrap();
    /// let mut events = response.into_body().into_events();
    /// let mut text = String::new();
    /// let err = loop {
    ///     match events.next().await {
    ///         Some(Ok(event)) => text.push_str(event.json::<serde_json::Value>().unwrap()["Delta"].as_str().unwrap()),
    ///         Some(Err(err)) => break err,
    ///         None => panic!("the stream ended without its error"),
    ///     }
    /// };
    /// assert_eq!(text, "Hello world");
    /// assert_eq!(err.code().unwrap(), "4001");
    /// assert_eq!(err.request_id().unwrap(), "6f0c5d7e");
    /// assert!(events.next().await.is_none());
    /// # }
    /// ```
    pub struct Events<B> {
        #[pin]
        body: SseBody<B>,
        parser: Parser,
        done: bool,
    }
}

impl<B> Events<B> {
    /// The events of `body`, from where its bytes are.
    pub fn new(body: SseBody<B>) -> Self {
        let parser = Parser::new(body.max_event_size());
        Self {
            body,
            parser,
            done: false,
        }
    }

    /// The body underneath.
    pub fn get_ref(&self) -> &SseBody<B> {
        &self.body
    }
}

impl<B> Events<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Error>,
{
    /// The next event; `None` once the stream has ended.
    ///
    /// The same as `StreamExt::next` of `futures` or `tokio-stream`,
    /// without either.
    pub async fn next(&mut self) -> Option<Result<Event, Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<B> Stream for Events<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Error>,
{
    type Item = Result<Event, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            if *this.done {
                return Poll::Ready(None);
            }
            match this.parser.next_event() {
                Ok(Some(event)) => return Poll::Ready(Some(Ok(Event::from(event)))),
                Ok(None) => {}
                Err(TooLarge) => {
                    *this.done = true;
                    let limit = this.body.max_event_size();
                    return Poll::Ready(Some(Err(this.body.head().too_large(limit))));
                }
            }
            match ready!(this.body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => {
                    // Trailers carry no events.
                    if let Ok(data) = frame.into_data() {
                        this.parser.push(data);
                    }
                }
                Some(Err(err)) => {
                    *this.done = true;
                    return Poll::Ready(Some(Err(err)));
                }
                None => {
                    *this.done = true;
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl<B> std::fmt::Debug for Events<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("body", &self.body)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::Full;

    use super::*;

    fn other(body: &'static str, limit: usize) -> Events<Full<Bytes>> {
        let (parts, ()) = http::Response::builder()
            .header("content-type", "application/json")
            .header("x-tc-requestid", "r-2")
            .body(())
            .unwrap()
            .into_parts();
        Events::new(SseBody::other(Full::new(Bytes::from(body)), &parts, limit))
    }

    #[tokio::test]
    async fn a_body_that_is_not_an_event_stream_is_framed_all_the_same() {
        let mut events = other(r#"{"Response":{"RequestId":"r-2"}}"#, 1024);
        assert!(events.next().await.is_none());

        let mut events = other("data: a\n\n", 1024);
        assert_eq!(events.next().await.unwrap().unwrap().data(), "a");
        assert!(events.next().await.is_none());
    }

    #[tokio::test]
    async fn an_event_over_the_limit_ends_the_events() {
        let mut events = other("data: a\n\ndata: 0123456789\n\ndata: b\n\n", 12);
        assert_eq!(events.next().await.unwrap().unwrap().data(), "a");
        let err = events.next().await.unwrap().unwrap_err();
        assert!(
            err.as_layer()
                .is_some_and(|err| err.downcast_ref::<crate::sse::EventTooLarge>().is_some()),
            "{err:?}"
        );
        assert_eq!(err.request_id().unwrap(), "r-2");
        assert!(events.next().await.is_none());
    }
}
