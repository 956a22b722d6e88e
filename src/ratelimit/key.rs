//! [`RateKey`]: what a learned rate belongs to.

use std::fmt;

use http::header::HOST;
use http::uri::Authority;
use http::{HeaderValue, Request};

use crate::action::header::{X_TC_ACTION, X_TC_REGION};

/// The endpoint, region and action of a request: the API limits the rate
/// of each action separately, and one client may call several endpoints
/// and regions.
///
/// Read from the URI's authority (else the `Host` header), `X-TC-Region`
/// and `X-TC-Action`; a part a request lacks is `None`, and requests
/// lacking the same parts share a rate. Making a key clones three shared
/// buffers and copies nothing.
///
/// ```
/// use tower_tencentcloud::ratelimit::RateKey;
/// use tower_tencentcloud::action::ActionRequest;
///
/// let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
///     .region("ap-guangzhou")
///     .build()?;
/// let key = RateKey::from_request(&request);
/// assert_eq!(key.endpoint(), Some("cvm.tencentcloudapi.com"));
/// assert_eq!(key.region(), Some("ap-guangzhou"));
/// assert_eq!(key.action(), Some("DescribeZones"));
/// # Ok::<_, tower_tencentcloud::action::ActionRequestError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RateKey {
    endpoint: Option<Authority>,
    region: Option<HeaderValue>,
    action: Option<HeaderValue>,
}

impl RateKey {
    /// The key of `request`.
    pub fn from_request<B>(request: &Request<B>) -> Self {
        let headers = request.headers();
        let endpoint = request.uri().authority().cloned().or_else(|| {
            headers
                .get(HOST)
                .and_then(|host| Authority::try_from(host.as_bytes()).ok())
        });
        Self {
            endpoint,
            region: headers.get(X_TC_REGION).cloned(),
            action: headers.get(X_TC_ACTION).cloned(),
        }
    }

    /// The endpoint's host and port, as in `cvm.tencentcloudapi.com`.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_ref().map(Authority::as_str)
    }

    /// The `X-TC-Region`, if the request names one and it is text.
    pub fn region(&self) -> Option<&str> {
        self.region.as_ref().and_then(|region| region.to_str().ok())
    }

    /// The `X-TC-Action`, if the request names one and it is text.
    pub fn action(&self) -> Option<&str> {
        self.action.as_ref().and_then(|action| action.to_str().ok())
    }
}

impl fmt::Debug for RateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateKey")
            .field("endpoint", &self.endpoint())
            .field("region", &self.region())
            .field("action", &self.action())
            .finish()
    }
}

impl fmt::Display for RateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let part = |part: Option<&str>| part.unwrap_or("-").to_owned();
        write!(
            f,
            "{} {} {}",
            part(self.endpoint()),
            part(self.region()),
            part(self.action())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, headers: &[(&str, &str)]) -> Request<()> {
        let mut builder = Request::post(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn endpoint_region_and_action_tell_keys_apart() {
        let base = request(
            "https://cvm.tencentcloudapi.com/",
            &[
                ("x-tc-region", "ap-guangzhou"),
                ("x-tc-action", "DescribeZones"),
            ],
        );
        let same = request(
            "https://CVM.tencentcloudapi.com/",
            &[
                ("X-TC-Region", "ap-guangzhou"),
                ("X-TC-Action", "DescribeZones"),
            ],
        );
        assert_eq!(RateKey::from_request(&base), RateKey::from_request(&same));
        for other in [
            request(
                "https://cvm.ap-shanghai.tencentcloudapi.com/",
                &[
                    ("x-tc-region", "ap-guangzhou"),
                    ("x-tc-action", "DescribeZones"),
                ],
            ),
            request(
                "https://cvm.tencentcloudapi.com/",
                &[
                    ("x-tc-region", "ap-shanghai"),
                    ("x-tc-action", "DescribeZones"),
                ],
            ),
            request(
                "https://cvm.tencentcloudapi.com/",
                &[
                    ("x-tc-region", "ap-guangzhou"),
                    ("x-tc-action", "DescribeRegions"),
                ],
            ),
            request(
                "https://cvm.tencentcloudapi.com/",
                &[("x-tc-action", "DescribeZones")],
            ),
        ] {
            assert_ne!(RateKey::from_request(&base), RateKey::from_request(&other));
        }
    }

    #[test]
    fn the_host_header_names_the_endpoint_of_a_relative_uri() {
        let key = RateKey::from_request(&request(
            "/",
            &[("host", "127.0.0.1:8080"), ("x-tc-action", "DescribeZones")],
        ));
        assert_eq!(key.endpoint(), Some("127.0.0.1:8080"));
        assert_eq!(key.region(), None);
        assert_eq!(key.to_string(), "127.0.0.1:8080 - DescribeZones");
    }
}
