//! TC3-HMAC-SHA256: the canonical request, the string to sign, the key
//! derivation and the headers, as the official SDKs compute them.

use std::fmt::Write as _;
use std::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderName, HeaderValue, Request};
use sha2::{Digest, Sha256};

use super::{Credentials, SignError, SignErrorKind, SignableBody};
use crate::action::ServiceName;
use crate::action::header::{X_TC_CONTENT_SHA256, X_TC_TIMESTAMP, X_TC_TOKEN};
pub(super) use crate::date::utc_date;

/// The signature algorithm, as it opens the `Authorization` header.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The value of `X-TC-Content-SHA256` that exempts the body from the signature.
pub(super) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The headers the signature covers, in canonical order.
const SIGNED_HEADERS: &str = "content-type;host";

/// Signs `request` as of `timestamp` (seconds since the Unix epoch): sets
/// `Authorization`, `X-TC-Timestamp`, `X-TC-Token` when the credentials
/// have a session token, and `Host` when only the URI had it.
///
/// The signature covers the method, the URI's path and query, the
/// `Content-Type` and `Host` headers, and the SHA-256 of the body (or of
/// `UNSIGNED-PAYLOAD` when the request carries `X-TC-Content-SHA256:
/// UNSIGNED-PAYLOAD`). The service comes from the [`ServiceName`]
/// extension, or else from the host.
///
/// The same request, credentials and timestamp always give the same
/// signature; [`SignLayer`](super::SignLayer) calls this with the time of its
/// [`Clock`](super::Clock).
///
/// ```
/// use tower_tencentcloud::action::ActionRequest;
/// use tower_tencentcloud::sign::{Credentials, sign_request};
///
/// let mut request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions").build()?;
/// let credentials = Credentials::new("AKIDEXAMPLE", "secret-key");
/// sign_request(&mut request, &credentials, 1_700_000_000)?;
///
/// assert_eq!(request.headers()["x-tc-timestamp"], "1700000000");
/// let authorization = request.headers()["authorization"].to_str()?;
/// assert!(authorization.starts_with(
///     "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/cvm/tc3_request, \
///      SignedHeaders=content-type;host, Signature="
/// ));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
pub fn sign_request<B>(
    request: &mut Request<B>,
    credentials: &Credentials,
    timestamp: u64,
) -> Result<(), SignError>
where
    B: SignableBody,
{
    let host = host(request)?;
    let content_type = header_str(request, CONTENT_TYPE)?
        .ok_or_else(|| SignError::new(SignErrorKind::MissingContentType, ""))?;
    let service = match request.extensions().get::<ServiceName>() {
        Some(service) => service.as_str().to_owned(),
        None => service_from_host(&host)?.to_owned(),
    };
    let unsigned_payload = header_str(request, X_TC_CONTENT_SHA256)? == Some(UNSIGNED_PAYLOAD);
    let payload_hash = payload_hash(request.body().payload().as_ref(), unsigned_payload);
    let canonical_request = canonical_request(
        request.method().as_str(),
        request.uri().path(),
        request.uri().query().unwrap_or(""),
        [("content-type", content_type), ("host", host.as_str())],
        &payload_hash,
    );
    let Tc3Signature { scope, signature } = tc3_signature(
        credentials.secret_key(),
        timestamp,
        &service,
        &canonical_request,
    );

    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
        credentials.secret_id()
    );
    let authorization = sensitive_value(&authorization, "the secret id or the service name")?;
    let token = credentials
        .session_token()
        .map(|token| sensitive_value(token, "the session token"))
        .transpose()?;

    // What is signed must be what is sent: pin the Host header rather than
    // leave the transport to derive it from the URI.
    let missing_host = if request.headers().contains_key(HOST) {
        None
    } else {
        let host = HeaderValue::from_str(&host)
            .map_err(|_| SignError::new(SignErrorKind::InvalidHeader, "Host"))?;
        Some(host)
    };

    // Nothing below fails: a request is either signed whole or left as it was.
    let headers = request.headers_mut();
    if let Some(host) = missing_host {
        headers.insert(HOST, host);
    }
    headers.insert(AUTHORIZATION, authorization);
    headers.insert(X_TC_TIMESTAMP, HeaderValue::from(timestamp));
    // A replay may carry the token of credentials it was first signed with.
    headers.remove(X_TC_TOKEN);
    if let Some(token) = token {
        headers.insert(X_TC_TOKEN, token);
    }
    Ok(())
}

/// The SHA-256 the canonical request ends with: of the body, or of
/// `UNSIGNED-PAYLOAD` when the request exempts its body.
pub(super) fn payload_hash(body: &[u8], unsigned_payload: bool) -> String {
    if unsigned_payload {
        sha256_hex(UNSIGNED_PAYLOAD.as_bytes())
    } else {
        sha256_hex(body)
    }
}

/// The canonical request of TC3 over `signed_headers`, given as (lowercase
/// name, value) in the order of the `SignedHeaders` list.
///
/// Shared with the verifier, so that what is checked is what is signed.
pub(super) fn canonical_request<'a>(
    method: &str,
    path: &str,
    query: &str,
    signed_headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    payload_hash: &str,
) -> String {
    let mut headers = String::new();
    let mut names = String::new();
    for (name, value) in signed_headers {
        // Values are lowercased and trimmed, as the API's signature
        // documentation prescribes; the SDKs' own values are already so.
        let _ = writeln!(headers, "{name}:{}", value.trim().to_ascii_lowercase());
        if !names.is_empty() {
            names.push(';');
        }
        names.push_str(name);
    }
    format!("{method}\n{path}\n{query}\n{headers}\n{names}\n{payload_hash}")
}

/// The credential scope and the signature of a canonical request.
pub(super) struct Tc3Signature {
    /// `{date}/{service}/tc3_request`.
    pub(super) scope: String,
    /// Lowercase hex.
    pub(super) signature: String,
}

/// Signs `canonical_request` for `service` as of `timestamp`.
pub(super) fn tc3_signature(
    secret_key: &str,
    timestamp: u64,
    service: &str,
    canonical_request: &str,
) -> Tc3Signature {
    let date = utc_date(timestamp);
    let scope = format!("{date}/{service}/tc3_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let signature = signature(secret_key, &date, service, &string_to_sign);
    Tc3Signature { scope, signature }
}

/// The `Host` header, or else the URI's authority.
fn host<B>(request: &Request<B>) -> Result<String, SignError> {
    if let Some(host) = header_str(request, HOST)? {
        return Ok(host.to_owned());
    }
    request
        .uri()
        .authority()
        .map(|authority| authority.as_str().to_owned())
        .ok_or_else(|| SignError::new(SignErrorKind::MissingHost, ""))
}

fn header_str<B>(request: &Request<B>, name: HeaderName) -> Result<Option<&str>, SignError> {
    request
        .headers()
        .get(&name)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| SignError::new(SignErrorKind::InvalidHeader, name.as_str()))
        })
        .transpose()
}

/// `cvm` from `cvm.tencentcloudapi.com` or `cvm.ap-guangzhou.tencentcloudapi.com:443`.
fn service_from_host(host: &str) -> Result<&str, SignError> {
    let unknown = || SignError::new(SignErrorKind::UnknownService, format!("host {host:?}"));
    let name = match host.rsplit_once(':') {
        // A bracketed IPv6 literal has colons of its own.
        Some((name, port)) if !host.ends_with(']') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    if name.starts_with('[') || name.parse::<IpAddr>().is_ok() {
        return Err(unknown());
    }
    match name.split_once('.') {
        Some((service, _)) if !service.is_empty() => Ok(service),
        _ => Err(unknown()),
    }
}

fn sensitive_value(value: &str, what: &str) -> Result<HeaderValue, SignError> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| SignError::new(SignErrorKind::InvalidHeader, what))?;
    // Keeps the value out of HTTP/2 header compression tables.
    value.set_sensitive(true);
    Ok(value)
}

/// The key derivation `"TC3" + key → date → service → "tc3_request"`, then
/// the HMAC of the string to sign, in lowercase hex.
fn signature(secret_key: &str, date: &str, service: &str, string_to_sign: &str) -> String {
    let mut key = zeroize::Zeroizing::new(format!("TC3{secret_key}").into_bytes());
    for part in [date, service, "tc3_request"] {
        let derived = zeroize::Zeroizing::new(hmac_sha256(&key, part.as_bytes()).to_vec());
        key = derived;
    }
    hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()))
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_from_the_first_label_of_a_domain() {
        assert_eq!(service_from_host("cvm.tencentcloudapi.com"), Ok("cvm"));
        assert_eq!(
            service_from_host("cvm.ap-guangzhou.tencentcloudapi.com:443"),
            Ok("cvm")
        );
    }

    #[test]
    fn no_service_from_addresses_or_single_labels() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:8080",
            "localhost",
            "localhost:80",
            ".example.com",
        ] {
            let err = service_from_host(host).unwrap_err();
            assert_eq!(err.kind(), SignErrorKind::UnknownService, "{host}");
        }
    }
}
