use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::HOST;
use http::{HeaderValue, Request, Uri};
use pin_project_lite::pin_project;
use tokio::time::Instant;
use tower::Service;

use super::breaker::Outcome;
use super::host_fault::judge;
use super::hosts::{Admission, Hosts, Origin, Ticket};
use crate::action::header::action;
use crate::error::Error;

pin_project! {
    /// The response future of [`Failover`](super::Failover): one attempt
    /// per endpoint of the ring at most.
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        state: State<S::Future>,
        inner: S,
        hosts: Arc<Hosts>,
        request: Request<B>,
        // The request's own endpoint alone until another is needed: a call
        // to a healthy host never computes its ring.
        ring: Vec<Origin>,
        ring_complete: bool,
        next: usize,
        attempted: bool,
        replay_safe: bool,
        ticket: Option<Ticket>,
        last_error: Option<Error>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        // The inner service is ready for the next attempt.
        Ready,
        // The inner service must be polled ready first.
        Waiting,
        Calling { #[pin] future: F },
    }
}

impl<S, B> ResponseFuture<S, B>
where
    S: Service<Request<B>>,
{
    pub(crate) fn new(inner: S, hosts: Arc<Hosts>, request: Request<B>, replay_safe: bool) -> Self {
        let ring: Vec<Origin> = Origin::of(request.uri()).into_iter().collect();
        Self {
            ring_complete: ring.is_empty(),
            state: State::Ready,
            inner,
            hosts,
            request,
            ring,
            next: 0,
            attempted: false,
            replay_safe,
            ticket: None,
            last_error: None,
        }
    }
}

impl<S, B> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Error = Error>,
    B: Clone,
{
    type Output = Result<S::Response, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Waiting => {
                    ready!(this.inner.poll_ready(cx))?;
                    this.state.set(State::Ready);
                }
                StateProj::Ready => {
                    let now = Instant::now();
                    let mut attempt = None;
                    while attempt.is_none()
                        && has_next(
                            this.ring,
                            this.ring_complete,
                            this.hosts,
                            this.request.uri(),
                            *this.next,
                        )
                    {
                        let origin = &this.ring[*this.next];
                        *this.next += 1;
                        if let Admission::Admitted(ticket) = this.hosts.admit(origin, now) {
                            attempt = Some(ticket);
                        }
                    }
                    if attempt.is_none() && !*this.attempted {
                        // Every breaker of the ring is open: the call still
                        // gets its one attempt, at its own endpoint.
                        *this.next = usize::MAX;
                        attempt = this
                            .ring
                            .first()
                            .map(|origin| Ticket::untracked(this.hosts.clone(), origin.clone()));
                        if attempt.is_none() {
                            // No scheme or host to fail over from.
                            *this.attempted = true;
                            let request = clone_request(this.request);
                            let future = this.inner.call(request);
                            this.state.set(State::Calling { future });
                            continue;
                        }
                    }
                    let Some(ticket) = attempt else {
                        // The endpoints left refused: the last failure stands.
                        let err = this.last_error.take().unwrap_or_else(|| {
                            Error::from_boxed("failover: no endpoint admitted the call".into())
                        });
                        return Poll::Ready(Err(err));
                    };
                    *this.attempted = true;
                    let request = to_origin(clone_request(this.request), ticket.origin());
                    *this.ticket = Some(ticket);
                    let future = this.inner.call(request);
                    this.state.set(State::Calling { future });
                }
                StateProj::Calling { future } => {
                    let result = ready!(future.poll(cx));
                    let verdict = judge(&result);
                    let ticket = this.ticket.take();
                    let from = ticket.as_ref().map(|ticket| ticket.origin().to_string());
                    if let Some(ticket) = ticket {
                        ticket.finish(verdict.outcome);
                    }
                    let goes_on = verdict.outcome == Outcome::Failure
                        && (*this.replay_safe || verdict.never_sent)
                        && has_next(
                            this.ring,
                            this.ring_complete,
                            this.hosts,
                            this.request.uri(),
                            *this.next,
                        );
                    let err = match result {
                        Err(err) if goes_on => err,
                        result => return Poll::Ready(result),
                    };
                    tracing::debug!(
                        action = action(this.request.headers()).unwrap_or_default(),
                        from = from.as_deref().unwrap_or_default(),
                        error = %err,
                        "failover: the host failed, trying the next endpoint"
                    );
                    *this.last_error = Some(err);
                    this.state.set(State::Waiting);
                }
            }
        }
    }
}

/// Whether the ring has an endpoint at `next`, computing the ring the
/// first time an endpoint beyond the request's own is asked for.
fn has_next(
    ring: &mut Vec<Origin>,
    complete: &mut bool,
    hosts: &Hosts,
    uri: &Uri,
    next: usize,
) -> bool {
    if next >= ring.len() && !*complete {
        *ring = hosts.ring_for(uri);
        *complete = true;
    }
    next < ring.len()
}

fn clone_request<B: Clone>(request: &Request<B>) -> Request<B> {
    let mut clone = Request::new(request.body().clone());
    *clone.method_mut() = request.method().clone();
    *clone.uri_mut() = request.uri().clone();
    *clone.version_mut() = request.version();
    *clone.headers_mut() = request.headers().clone();
    *clone.extensions_mut() = request.extensions().clone();
    clone
}

/// `request` sent to `origin`: its URI's scheme and authority and its
/// `Host` header rewritten, so that the signature below names the host the
/// request goes to. A request already addressed there keeps its `Host`.
fn to_origin<B>(mut request: Request<B>, origin: &Origin) -> Request<B> {
    let uri = request.uri();
    if uri.scheme() == Some(&origin.scheme) && uri.authority() == Some(&origin.authority) {
        return request;
    }
    let mut parts = uri.clone().into_parts();
    parts.scheme = Some(origin.scheme.clone());
    parts.authority = Some(origin.authority.clone());
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    if let Ok(host) = HeaderValue::from_str(origin.authority.as_str()) {
        request.headers_mut().insert(HOST, host);
    }
    request
}
