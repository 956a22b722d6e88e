//! One HTTP exchange with a source of credentials, bounded in size.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use tower::{Service, ServiceExt};

use super::{CredentialsError, CredentialsErrorKind};
use crate::error::BoxError;

/// The most a source's answer may be: credentials are a few KiB.
pub(crate) const MAX_ANSWER: usize = 64 << 10;

/// Sends `request` and reads the whole answer, at most [`MAX_ANSWER`]
/// bytes. `what` names the request in errors (a URL path, an action),
/// never a credential.
pub(crate) async fn exchange<T, RB>(
    mut transport: T,
    request: Request<Full<Bytes>>,
    what: &str,
) -> Result<(StatusCode, Bytes), CredentialsError>
where
    T: Service<Request<Full<Bytes>>, Response = Response<RB>>,
    T::Error: Into<BoxError>,
    RB: Body,
    RB::Error: Into<BoxError>,
{
    let fetch_failed =
        |err: BoxError| CredentialsError::new(CredentialsErrorKind::Fetch, what).with_source(err);
    let response = transport
        .ready()
        .await
        .map_err(|err| fetch_failed(err.into()))?
        .call(request)
        .await
        .map_err(|err| fetch_failed(err.into()))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(fetch_failed)?
        .to_bytes();
    Ok((status, body))
}

/// A JSON answer that does not parse: the position only, since serde's
/// message may quote a value, and values here are secrets.
pub(crate) fn malformed(what: &str, err: &serde_json::Error) -> CredentialsError {
    CredentialsError::new(
        CredentialsErrorKind::Fetch,
        format!(
            "{what}: malformed answer (line {}, column {})",
            err.line(),
            err.column()
        ),
    )
}
