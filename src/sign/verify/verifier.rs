//! [`Verifier`]: which signature a request carries, and whether it holds.

use std::fmt;

use http::header::AUTHORIZATION;
use http::request::Parts;

use super::{CredentialsLookup, VerifyError, tc3, v1};

/// How far a request's timestamp may be from the server's clock, as the
/// API allows: five minutes.
pub const DEFAULT_MAX_SKEW_SECONDS: u64 = 300;

/// Verifies the signatures of requests against the credentials of a
/// [`CredentialsLookup`], as the API gateway does.
///
/// A request with an `Authorization` header is checked as TC3-HMAC-SHA256;
/// one without, whose form-encoded parameters (the query of a GET, the
/// `application/x-www-form-urlencoded` body of a POST) carry a `Signature`,
/// as HmacSHA1 / HmacSHA256. Anything else fails as TC3 would, naming the
/// first thing missing.
///
/// ```
/// use tower_tencentcloud::sign::Credentials;
/// use tower_tencentcloud::sign::verify::{Verifier, VerifyErrorKind};
///
/// let verifier = Verifier::new(Credentials::new("AKIDEXAMPLE", "secret-key"))
///     .max_skew_seconds(60);
/// let (head, ()) = http::Request::post("http://127.0.0.1:8080/").body(())?.into_parts();
/// let err = verifier.verify(&head, b"{}", 1_700_000_000).unwrap_err();
/// assert_eq!(err.kind(), VerifyErrorKind::MissingParameter);
/// assert_eq!(err.parameter(), Some("x-tc-timestamp"));
/// # Ok::<_, http::Error>(())
/// ```
#[derive(Clone)]
pub struct Verifier<L> {
    pub(super) lookup: L,
    pub(super) max_skew_seconds: u64,
    pub(super) host_without_port: bool,
}

impl<L: CredentialsLookup> Verifier<L> {
    /// A verifier of the credentials `lookup` finds, allowing
    /// [`DEFAULT_MAX_SKEW_SECONDS`] of clock skew, strict about the host.
    pub fn new(lookup: L) -> Self {
        Self {
            lookup,
            max_skew_seconds: DEFAULT_MAX_SKEW_SECONDS,
            host_without_port: false,
        }
    }

    /// Refuses timestamps more than `seconds` from the server's clock
    /// ([`VerifyErrorKind::SignatureExpired`](super::VerifyErrorKind::SignatureExpired)).
    pub fn max_skew_seconds(mut self, seconds: u64) -> Self {
        self.max_skew_seconds = seconds;
        self
    }

    /// Also accepts a signature over the `Host` header without its port.
    ///
    /// The official Node.js SDK (`tencentcloud-sdk-nodejs-common`) signs
    /// `host:127.0.0.1` but sends `Host: 127.0.0.1:8080`, so a server on a
    /// port other than the scheme's refuses all its calls unless it accepts
    /// this. The real API never sees the case (it listens on 443); a
    /// request signed over the full `Host` verifies either way.
    pub fn accept_host_without_port(mut self, accept: bool) -> Self {
        self.host_without_port = accept;
        self
    }

    /// Verifies the request `head` with its whole `body`, as of `now`
    /// (seconds since the Unix epoch on the server's clock).
    pub fn verify(&self, head: &Parts, body: &[u8], now: u64) -> Result<Verified, VerifyError> {
        if !head.headers.contains_key(AUTHORIZATION)
            && let Some(params) = v1::form_params(head, body)
            && params.iter().any(|(name, _)| name == "Signature")
        {
            return v1::verify(self, head, &params, now);
        }
        tc3::verify(self, head, body, now)
    }

    /// The host values a signature may cover: the `Host` header, and with
    /// [`accept_host_without_port`](Self::accept_host_without_port) the
    /// same without its port.
    pub(super) fn hosts<'a>(&self, host: &'a str) -> impl Iterator<Item = &'a str> {
        let without_port = self
            .host_without_port
            .then(|| host_without_port(host))
            .flatten();
        std::iter::once(host).chain(without_port)
    }

    pub(super) fn check_skew(&self, timestamp: u64, now: u64) -> Result<(), VerifyError> {
        if timestamp.abs_diff(now) > self.max_skew_seconds {
            return Err(VerifyError::new(
                super::VerifyErrorKind::SignatureExpired,
                format!(
                    "timestamp {timestamp}, server time {now}, at most {} seconds apart",
                    self.max_skew_seconds
                ),
            ));
        }
        Ok(())
    }
}

/// `127.0.0.1` of `127.0.0.1:8080`, `[::1]` of `[::1]:8080`; `None` when
/// there is no port.
fn host_without_port(host: &str) -> Option<&str> {
    let (name, port) = host.rsplit_once(':')?;
    let is_port = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    // A colon inside brackets belongs to an IPv6 literal.
    (is_port && (!name.contains(':') || name.ends_with(']'))).then_some(name)
}

impl<L> fmt::Debug for Verifier<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The lookup holds secret keys: it is not shown.
        f.debug_struct("Verifier")
            .field("max_skew_seconds", &self.max_skew_seconds)
            .field("host_without_port", &self.host_without_port)
            .finish_non_exhaustive()
    }
}

/// Who signed a request that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub(super) secret_id: String,
    pub(super) service: Option<String>,
    pub(super) method: SignatureMethod,
    pub(super) timestamp: u64,
}

impl Verified {
    /// The SecretId whose key made the signature.
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The service the signature is for: the credential scope's
    /// (`cvm` of `…/2024-05-01/cvm/tc3_request`); HmacSHA1 / HmacSHA256
    /// signatures name none.
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }

    /// How the request was signed.
    pub fn method(&self) -> SignatureMethod {
        self.method
    }

    /// The request's timestamp, seconds since the Unix epoch.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }
}

/// The signature methods of API 3.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureMethod {
    /// `TC3-HMAC-SHA256`, in the `Authorization` header.
    Tc3HmacSha256,
    /// `HmacSHA256`, a `Signature` among the form-encoded parameters.
    HmacSha256,
    /// `HmacSHA1`, the same with SHA-1 (the API's default when the
    /// parameters name no `SignatureMethod`).
    HmacSha1,
}

impl SignatureMethod {
    /// The name the API uses: `TC3-HMAC-SHA256`, `HmacSHA256`, `HmacSHA1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tc3HmacSha256 => "TC3-HMAC-SHA256",
            Self::HmacSha256 => "HmacSHA256",
            Self::HmacSha1 => "HmacSHA1",
        }
    }
}

impl fmt::Display for SignatureMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_come_off_hosts_and_ipv6_literals_stay_whole() {
        assert_eq!(host_without_port("127.0.0.1:8080"), Some("127.0.0.1"));
        assert_eq!(host_without_port("localhost:1"), Some("localhost"));
        assert_eq!(host_without_port("[::1]:8080"), Some("[::1]"));
        assert_eq!(host_without_port("[::1]"), None);
        assert_eq!(host_without_port("::1"), None);
        assert_eq!(host_without_port("cvm.tencentcloudapi.com"), None);
        assert_eq!(host_without_port("host:"), None);
    }
}
