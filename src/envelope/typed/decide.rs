//! The typed layer's decision on a whole body, as a function.

use bytes::Bytes;
use http::response::Parts;
use http::{Response, StatusCode};
use serde::Deserialize;

use super::pass::{Pass, one_pass};
use crate::envelope::future::decide;
use crate::error::{ApiError, DeserializeError, Error};
use crate::request_id::RequestId;

/// Decides a response whose body was read whole, as
/// [`TypedEnvelope`](super::TypedEnvelope) does, and deserializes
/// `Response`'s members, all but `Error` and `RequestId`, into `T`: one
/// pass over the body.
///
/// The verdict is [`Envelope`](crate::Envelope)'s on the same response
/// (`Error::Api`, `Error::NotEnvelope`, the RequestId from the body or else
/// the `X-TC-RequestId` header, in the extensions on success); a success
/// whose fields do not fit `T` is [`Error::Deserialize`]. `T` may borrow
/// from the body.
///
/// ```
/// use bytes::Bytes;
/// use serde::Deserialize;
/// use tower_tencentcloud::RequestId;
///
/// #[derive(Debug, Deserialize)]
/// struct DescribeRegions<'a> {
///     #[serde(rename = "TotalCount")]
///     total_count: u32,
///     #[serde(rename = "RegionSet", borrow)]
///     regions: Vec<&'a str>,
/// }
///
/// let body = Bytes::from_static(br#"{"Response":{"TotalCount":1,"RegionSet":["ap-guangzhou"],"RequestId":"r-1"}}"#);
/// let response = tower_tencentcloud::envelope::decode_response::<DescribeRegions>(http::Response::new(&body)).unwrap();
/// assert_eq!(response.body().regions, ["ap-guangzhou"]);
/// assert_eq!(response.extensions().get::<RequestId>().unwrap(), "r-1");
///
/// let body = Bytes::from_static(br#"{"Response":{"Error":{"Code":"InvalidAction","Message":"No such action."},"RequestId":"r-2"}}"#);
/// let err = tower_tencentcloud::envelope::decode_response::<DescribeRegions>(http::Response::new(&body)).unwrap_err();
/// assert_eq!(err.code().unwrap(), "InvalidAction");
/// ```
pub fn decode_response<'de, T: Deserialize<'de>>(
    response: Response<&'de Bytes>,
) -> Result<Response<T>, Error> {
    let (head, body) = response.into_parts();
    decide_with(head, body, |value| value)
}

/// [`decode_response`] on a head and its body, the fields made into the
/// response's body by `wrap`: the head is moved once.
#[inline]
pub(super) fn decide_with<'de, T: Deserialize<'de>, U>(
    mut head: Parts,
    body: &'de Bytes,
    wrap: impl FnOnce(T) -> U,
) -> Result<Response<U>, Error> {
    match one_pass::<T>(body) {
        Ok(Pass::Value(value, request_id)) => {
            if let Some(id) = or_header(request_id, &head) {
                head.extensions.insert(id);
            }
            Ok(Response::from_parts(head, wrap(value)))
        }
        Ok(Pass::Api(code, message, request_id)) => {
            let request_id = or_header(request_id, &head);
            let err = ApiError::from_parts(head.status, code, message, request_id, head.headers);
            tracing::debug!(code = %err.code(), request_id = ?err.request_id(), "API error");
            Err(Error::Api(err))
        }
        Ok(Pass::Unfit(source, request_id)) => {
            let request_id = or_header(request_id, &head);
            Err(unfit::<T>(head.status, request_id, body, source))
        }
        // The untyped layer's own verdict, built as it builds it.
        Err(source) => match decide::<()>(head, body.clone()) {
            Err(err) => Err(err),
            Ok(success) => {
                let Parts {
                    status, extensions, ..
                } = success.into_parts().0;
                let request_id = extensions.get::<RequestId>().cloned();
                Err(unfit::<T>(status, request_id, body, source))
            }
        },
    }
}

/// Read from the headers only where the body lacks one.
fn or_header(request_id: Option<RequestId>, head: &Parts) -> Option<RequestId> {
    request_id.or_else(|| RequestId::from_headers(&head.headers))
}

fn unfit<T>(
    status: StatusCode,
    request_id: Option<RequestId>,
    body: &Bytes,
    source: serde_json::Error,
) -> Error {
    let err = DeserializeError::new(status, request_id, body, std::any::type_name::<T>(), source);
    tracing::debug!(request_id = ?err.request_id(), error = %err.get_ref(), "fields do not fit");
    Error::Deserialize(err)
}
