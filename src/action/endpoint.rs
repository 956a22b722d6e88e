//! Where an action is sent: [`Endpoint`], and the ring of domains that the
//! same endpoint is also served under.

use http::uri::{Scheme, Uri};

use super::request::{ActionRequestError, ActionRequestErrorKind};

/// The domain under which every service has its endpoint `{service}.{domain}`.
pub const DEFAULT_ROOT_DOMAIN: &str = DOMAIN_RING[0];

/// The domains that serve the same endpoints, in the order failover tries
/// them: the ring of the official SDKs' failover pull requests (Go, C++).
///
/// An endpoint's host keeps everything before the domain, so that
/// `cvm.ap-guangzhou.tencentcloudapi.com`, `hunyuan.ai.tencentcloudapi.com`
/// and `cvm.internal.tencentcloudapi.com` each turn around a ring of their
/// own; see [`domain_ring`].
pub const DOMAIN_RING: [&str; 3] = [
    "tencentcloudapi.com",
    "tencentcloudapi.com.cn",
    "tencentcloudapi.cn",
];

/// Where the requests of a client go, chosen once and used for every
/// [`ActionRequest`](super::ActionRequest) through
/// [`endpoint`](super::ActionRequest::endpoint).
///
/// | endpoint | host of service `cvm` |
/// |---|---|
/// | [`nearest`](Self::nearest) (the default) | `cvm.tencentcloudapi.com`, resolved to the nearest region |
/// | [`region`](Self::region)`("ap-guangzhou")` | `cvm.ap-guangzhou.tencentcloudapi.com` |
/// | [`intl`](Self::intl) | `cvm.intl.tencentcloudapi.com`, the international site |
/// | [`internal`](Self::internal) | `cvm.internal.tencentcloudapi.com`, from inside Tencent Cloud's network |
/// | [`custom`](Self::custom)`("http://127.0.0.1:8080")` | `127.0.0.1:8080`, whatever the service |
///
/// The request's `Host` header is the URI's authority, and that header is
/// what [`SignLayer`](crate::sign::SignLayer) signs: the signature always
/// names the host the request goes to.
///
/// ```
/// use tower_tencentcloud::action::{ActionRequest, Endpoint};
///
/// let endpoint = Endpoint::region("ap-guangzhou");
/// assert_eq!(endpoint.url("cvm")?, "https://cvm.ap-guangzhou.tencentcloudapi.com/");
///
/// let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
///     .endpoint(endpoint.clone())
///     .build()?;
/// assert_eq!(request.headers()["host"], "cvm.ap-guangzhou.tencentcloudapi.com");
///
/// // A string is a custom endpoint, the emulator's for instance.
/// let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
///     .endpoint("http://127.0.0.1:8080")
///     .build()?;
/// assert_eq!(request.headers()["host"], "127.0.0.1:8080");
/// # Ok::<_, tower_tencentcloud::action::ActionRequestError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint(Kind);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kind {
    Nearest,
    Region(String),
    Intl,
    Internal,
    Custom(String),
}

impl Endpoint {
    /// `https://{service}.tencentcloudapi.com`: the API resolves it to the
    /// nearest region. Finance regions need [`region`](Self::region).
    pub fn nearest() -> Self {
        Self(Kind::Nearest)
    }

    /// `https://{service}.{region}.tencentcloudapi.com`, pinned to `region`
    /// (`ap-guangzhou`, `ap-shanghai-fsi`).
    pub fn region(region: impl Into<String>) -> Self {
        Self(Kind::Region(region.into()))
    }

    /// `https://{service}.intl.tencentcloudapi.com`, the international site.
    pub fn intl() -> Self {
        Self(Kind::Intl)
    }

    /// `https://{service}.internal.tencentcloudapi.com`, reachable from
    /// Tencent Cloud's own network only.
    pub fn internal() -> Self {
        Self(Kind::Internal)
    }

    /// Any `http(s)://host[:port][/]`, for every service: a proxy, a local
    /// emulator (`http://127.0.0.1:8080`). Checked when a request is built.
    pub fn custom(url: impl Into<String>) -> Self {
        Self(Kind::Custom(url.into()))
    }

    /// The URL of `service` at this endpoint, `https://cvm.tencentcloudapi.com/`.
    ///
    /// An invalid service name, region or custom URL is an
    /// [`ActionRequestError`].
    pub fn url(&self, service: &str) -> Result<String, ActionRequestError> {
        self.uri(service).map(|uri| uri.to_string())
    }

    pub(crate) fn uri(&self, service: &str) -> Result<Uri, ActionRequestError> {
        let host = match &self.0 {
            Kind::Custom(url) => return custom_uri(url),
            Kind::Nearest => format!("{service}.{DEFAULT_ROOT_DOMAIN}"),
            Kind::Region(region) => {
                if !is_label(region) {
                    return Err(ActionRequestError::new(
                        ActionRequestErrorKind::Endpoint,
                        format!("{region:?} is not a region"),
                    ));
                }
                format!("{service}.{region}.{DEFAULT_ROOT_DOMAIN}")
            }
            Kind::Intl => format!("{service}.intl.{DEFAULT_ROOT_DOMAIN}"),
            Kind::Internal => format!("{service}.internal.{DEFAULT_ROOT_DOMAIN}"),
        };
        format!("https://{host}/").parse().map_err(|_| {
            ActionRequestError::new(
                ActionRequestErrorKind::Service,
                format!("{service:?} makes no valid host"),
            )
        })
    }
}

impl Default for Endpoint {
    fn default() -> Self {
        Self::nearest()
    }
}

impl From<String> for Endpoint {
    fn from(url: String) -> Self {
        Self::custom(url)
    }
}

impl From<&str> for Endpoint {
    fn from(url: &str) -> Self {
        Self::custom(url)
    }
}

impl From<&String> for Endpoint {
    fn from(url: &String) -> Self {
        Self::custom(url.as_str())
    }
}

/// The hosts that serve the same endpoint as `host`, `host` first, then the
/// other domains of [`DOMAIN_RING`] in ring order; `None` for a host that
/// is not `{prefix}.{domain}` of the ring (an IP address, a proxy).
///
/// ```
/// use tower_tencentcloud::action::domain_ring;
///
/// assert_eq!(
///     domain_ring("hunyuan.ai.tencentcloudapi.com.cn").unwrap(),
///     [
///         "hunyuan.ai.tencentcloudapi.com.cn",
///         "hunyuan.ai.tencentcloudapi.cn",
///         "hunyuan.ai.tencentcloudapi.com",
///     ]
/// );
/// assert_eq!(domain_ring("127.0.0.1:8080"), None);
/// ```
pub fn domain_ring(host: &str) -> Option<Vec<String>> {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => (name, Some(port)),
        _ => (host, None),
    };
    let (index, prefix) = DOMAIN_RING.iter().enumerate().find_map(|(index, domain)| {
        let prefix = name.strip_suffix(domain)?.strip_suffix('.')?;
        Some((index, prefix))
    })?;
    if prefix.is_empty() || prefix.split('.').any(|label| !is_label(label)) {
        return None;
    }
    let ring = (0..DOMAIN_RING.len())
        .map(|step| {
            let domain = DOMAIN_RING[(index + step) % DOMAIN_RING.len()];
            match port {
                Some(port) => format!("{prefix}.{domain}:{port}"),
                None => format!("{prefix}.{domain}"),
            }
        })
        .collect();
    Some(ring)
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn custom_uri(endpoint: &str) -> Result<Uri, ActionRequestError> {
    let invalid = |why: &str| {
        ActionRequestError::new(
            ActionRequestErrorKind::Endpoint,
            format!("{endpoint:?}: {why}"),
        )
    };
    let uri: Uri = endpoint.parse().map_err(|_| invalid("not a URI"))?;
    let scheme = uri
        .scheme()
        .ok_or_else(|| invalid("no scheme (http:// or https://)"))?;
    if *scheme != Scheme::HTTP && *scheme != Scheme::HTTPS {
        return Err(invalid("the scheme is neither http nor https"));
    }
    let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
    if authority.as_str().contains('@') {
        return Err(invalid("user information is not allowed"));
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(invalid("API 3.0 is served at `/`, without a query"));
    }
    Uri::builder()
        .scheme(scheme.clone())
        .authority(authority.clone())
        .path_and_query("/")
        .build()
        .map_err(|_| invalid("not a URI"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_names_its_host() {
        let url = |endpoint: Endpoint| endpoint.url("cvm").unwrap();
        assert_eq!(url(Endpoint::nearest()), "https://cvm.tencentcloudapi.com/");
        assert_eq!(
            url(Endpoint::region("ap-shanghai-fsi")),
            "https://cvm.ap-shanghai-fsi.tencentcloudapi.com/"
        );
        assert_eq!(
            url(Endpoint::intl()),
            "https://cvm.intl.tencentcloudapi.com/"
        );
        assert_eq!(
            url(Endpoint::internal()),
            "https://cvm.internal.tencentcloudapi.com/"
        );
        assert_eq!(
            url(Endpoint::custom("http://127.0.0.1:9")),
            "http://127.0.0.1:9/"
        );
    }

    #[test]
    fn bad_regions_and_urls_are_endpoint_errors() {
        for endpoint in [
            Endpoint::region("ap-guangzhou.evil.example"),
            Endpoint::region(""),
            Endpoint::custom("ftp://127.0.0.1"),
            Endpoint::custom("http://user@127.0.0.1"),
            Endpoint::custom("http://127.0.0.1/path"),
            Endpoint::custom("127.0.0.1:8080"),
        ] {
            let err = endpoint.url("cvm").unwrap_err();
            assert_eq!(err.kind(), ActionRequestErrorKind::Endpoint, "{endpoint:?}");
        }
    }

    #[test]
    fn the_ring_keeps_the_prefix_and_rotates_the_domain() {
        assert_eq!(
            domain_ring("cvm.tencentcloudapi.com").unwrap(),
            [
                "cvm.tencentcloudapi.com",
                "cvm.tencentcloudapi.com.cn",
                "cvm.tencentcloudapi.cn"
            ]
        );
        assert_eq!(
            domain_ring("cvm.ap-guangzhou.tencentcloudapi.cn:443").unwrap(),
            [
                "cvm.ap-guangzhou.tencentcloudapi.cn:443",
                "cvm.ap-guangzhou.tencentcloudapi.com:443",
                "cvm.ap-guangzhou.tencentcloudapi.com.cn:443"
            ]
        );
        assert_eq!(
            domain_ring("cvm.internal.tencentcloudapi.com").unwrap()[1],
            "cvm.internal.tencentcloudapi.com.cn"
        );
        for host in [
            "tencentcloudapi.com",
            ".tencentcloudapi.com",
            "a..tencentcloudapi.com",
            "cvmtencentcloudapi.com",
            "cvm.tencentcloudapi.com.evil.example",
            "127.0.0.1:8080",
        ] {
            assert_eq!(domain_ring(host), None, "{host}");
        }
    }
}
