//! The names of the `X-TC-*` headers of API 3.0, defined once for every
//! layer, the signer and the emulator.
//!
//! ```
//! use tower_tencentcloud::action::header::X_TC_ACTION;
//!
//! let request = http::Request::builder()
//!     .header(X_TC_ACTION, "DescribeInstances")
//!     .body(())
//!     .unwrap();
//! assert_eq!(request.headers()["x-tc-action"], "DescribeInstances");
//! ```

use http::{HeaderMap, HeaderName};

/// The action of a request (`DescribeInstances`).
pub const X_TC_ACTION: HeaderName = HeaderName::from_static("x-tc-action");
/// The API version of the action (`2017-03-12`).
pub const X_TC_VERSION: HeaderName = HeaderName::from_static("x-tc-version");
/// The region the action acts in (`ap-guangzhou`).
pub const X_TC_REGION: HeaderName = HeaderName::from_static("x-tc-region");
/// The language of error messages (`zh-CN`, `en-US`).
pub const X_TC_LANGUAGE: HeaderName = HeaderName::from_static("x-tc-language");
/// The Unix time in seconds the signature was made at.
pub const X_TC_TIMESTAMP: HeaderName = HeaderName::from_static("x-tc-timestamp");
/// The session token of temporary credentials.
pub const X_TC_TOKEN: HeaderName = HeaderName::from_static("x-tc-token");
/// `UNSIGNED-PAYLOAD` exempts the body from the signature.
pub const X_TC_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-tc-content-sha256");
/// The RequestId of a streaming answer (and of some gateway pages).
pub const X_TC_REQUESTID: HeaderName = HeaderName::from_static("x-tc-requestid");

/// The value of `name`, when present and visible ASCII.
fn text(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name)?.to_str().ok()
}

/// The `X-TC-Action` of a request head, when present and text.
///
/// ```
/// use tower_tencentcloud::action::header::action;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("X-TC-Action", "DescribeZones".parse().unwrap());
/// assert_eq!(action(&headers), Some("DescribeZones"));
/// ```
pub fn action(headers: &HeaderMap) -> Option<&str> {
    text(headers, X_TC_ACTION)
}

/// The `X-TC-Region` of a request head, when present and text.
///
/// ```
/// use tower_tencentcloud::action::header::region;
///
/// assert_eq!(region(&http::HeaderMap::new()), None);
/// ```
pub fn region(headers: &HeaderMap) -> Option<&str> {
    text(headers, X_TC_REGION)
}

/// The `X-TC-Version` of a request head, when present and text.
///
/// ```
/// use tower_tencentcloud::action::header::version;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("X-TC-Version", "2017-03-12".parse().unwrap());
/// assert_eq!(version(&headers), Some("2017-03-12"));
/// ```
pub fn version(headers: &HeaderMap) -> Option<&str> {
    text(headers, X_TC_VERSION)
}
