//! [`ServiceName`]: which service a request is for.

/// The Tencent Cloud service a request is for (`cvm`, `cbs`, ...), as a
/// request extension.
///
/// The signature's credential scope names the service. The signer takes it
/// from this extension, which [`ActionRequest`](super::ActionRequest) sets,
/// or else from the first label of the host (`cvm` in
/// `cvm.tencentcloudapi.com`), which fails for an IP endpoint.
///
/// ```
/// use tower_tencentcloud::action::ServiceName;
///
/// let mut request = http::Request::new(String::new());
/// request.extensions_mut().insert(ServiceName::new("cvm"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceName(Box<str>);

impl ServiceName {
    /// The service, as in its domain `{service}.tencentcloudapi.com`.
    pub fn new(service: impl Into<Box<str>>) -> Self {
        Self(service.into())
    }

    /// The service name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
