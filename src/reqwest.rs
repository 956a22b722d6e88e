//! `reqwest::Client` as the transport of the stack (feature `reqwest`).
//!
//! [`ReqwestService`] makes a [`reqwest::Client`] a
//! `tower::Service<http::Request<B>>` answering `http::Response<reqwest::Body>`,
//! so that the same layers wrap it as wrap hyper-util's client:
//!
//! ```no_run
//! use tower::retry::RetryLayer;
//! use tower::{ServiceBuilder, ServiceExt};
//! use tower_tencentcloud::reqwest::ReqwestService;
//! use tower_tencentcloud::retry::RetryPolicy;
//! use tower_tencentcloud::action::ActionRequest;
//! use tower_tencentcloud::sign::{Credentials, SignLayer};
//! use tower_tencentcloud::{EnvelopeLayer, RequestId};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let client = ServiceBuilder::new()
//!     .layer(RetryLayer::new(RetryPolicy::default()))
//!     .layer(SignLayer::new(Credentials::from_env()?))
//!     .layer(EnvelopeLayer::new())
//!     .service(ReqwestService::new(reqwest::Client::new()));
//!
//! let request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions").build()?;
//! let response = client.oneshot(request).await?;
//! println!("{:?}", response.extensions().get::<RequestId>());
//! # Ok(())
//! # }
//! ```
//!
//! Errors are [`reqwest::Error`]s; [`EnvelopeLayer`](crate::EnvelopeLayer)
//! keeps them as the causes of [`Error::Transport`](crate::Error::Transport)
//! and [`Error::Body`](crate::Error::Body) (`get_ref()`), named in their
//! `Display`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use pin_project_lite::pin_project;
use tower::Service;

use crate::BoxError;

/// A [`reqwest::Client`] as a `tower::Service<http::Request<B>>`.
///
/// Each request is converted with `reqwest::Request::try_from`, its body
/// wrapped with [`reqwest::Body::wrap`], and each response with
/// `http::Response::from`. Readiness is the client's own. Any body whose
/// size is known ([`Full`](http_body_util::Full), as
/// [`ActionRequest`](crate::action::ActionRequest) builds) is sent with a
/// `Content-Length`.
///
/// The client's own settings (timeouts, proxies, TLS) apply; leave its
/// redirect policy and retries to their defaults, as the API answers
/// neither with redirects nor with anything reqwest would retry.
///
/// ```
/// use tower_tencentcloud::reqwest::ReqwestService;
///
/// let service = ReqwestService::new(reqwest::Client::new());
/// let client: &reqwest::Client = service.get_ref();
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReqwestService {
    client: ::reqwest::Client,
}

impl ReqwestService {
    /// Wraps `client`.
    pub fn new(client: ::reqwest::Client) -> Self {
        Self { client }
    }

    /// The client.
    pub fn get_ref(&self) -> &::reqwest::Client {
        &self.client
    }

    /// Unwraps the client.
    pub fn into_inner(self) -> ::reqwest::Client {
        self.client
    }
}

impl From<::reqwest::Client> for ReqwestService {
    fn from(client: ::reqwest::Client) -> Self {
        Self::new(client)
    }
}

impl<B> Service<http::Request<B>> for ReqwestService
where
    B: http_body::Body + Send + Sync + 'static,
    B::Data: Into<Bytes>,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<::reqwest::Body>;
    type Error = ::reqwest::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<::reqwest::Request>::poll_ready(&mut self.client, cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let state = match ::reqwest::Request::try_from(request.map(::reqwest::Body::wrap)) {
            Ok(request) => State::Sending {
                future: self.client.call(request),
            },
            // An URI that reqwest cannot take (no scheme, no host): fails
            // like a request that reqwest itself refused to build.
            Err(error) => State::Refused { error: Some(error) },
        };
        ResponseFuture { state }
    }
}

type ClientFuture = <::reqwest::Client as Service<::reqwest::Request>>::Future;

pin_project! {
    /// The future of a [`ReqwestService`] call.
    pub struct ResponseFuture {
        #[pin]
        state: State,
    }
}

pin_project! {
    #[project = StateProjection]
    enum State {
        Sending { #[pin] future: ClientFuture },
        Refused { error: Option<::reqwest::Error> },
    }
}

impl Future for ResponseFuture {
    type Output = Result<http::Response<::reqwest::Body>, ::reqwest::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProjection::Sending { future } => future.poll(cx).map_ok(http::Response::from),
            StateProjection::Refused { error } => {
                Poll::Ready(Err(error.take().expect("polled after completion")))
            }
        }
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
