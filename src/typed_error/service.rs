use std::task::{Context, Poll};

use tower::Service;

use super::ResponseFuture;
use crate::error::{BoxError, Error};

/// Makes the errors of the inner service, boxed or not, typed
/// [`Error`]s with [`Error::from_boxed`].
///
/// ```
/// use tower::{Service, ServiceExt};
/// use tower_tencentcloud::typed_error::TypedError;
/// use tower_tencentcloud::{BoxError, Error};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let failing = tower::service_fn(|_: ()| async {
///     Err::<(), BoxError>(Box::new(tower::timeout::error::Elapsed::new()))
/// });
/// let err: Error = TypedError::new(failing).oneshot(()).await.unwrap_err();
/// assert!(err.is_transport());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TypedError<S> {
    inner: S,
}

impl<S> TypedError<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }

    define_inner_service_accessors!();
}

impl<S, Req> Service<Req> for TypedError<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|err| Error::from_boxed(err.into()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        ResponseFuture::new(self.inner.call(request))
    }
}
