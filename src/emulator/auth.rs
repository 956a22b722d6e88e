//! TC3-HMAC-SHA256 verification, with the signer's own computation.

use http::header::AUTHORIZATION;
use http::request::Parts;

use super::reply::ApiFailure;
use crate::action::header::{X_TC_CONTENT_SHA256, X_TC_TIMESTAMP, X_TC_TOKEN};
use crate::sign::{
    ALGORITHM, Credentials, canonical_request, payload_hash, tc3_signature, utc_date,
};

/// How far the timestamp of a request may be from the server's clock.
pub(crate) const MAX_SKEW_SECONDS: u64 = 300;

/// Who signed a request, and for which service.
#[derive(Debug)]
pub(crate) struct Caller {
    pub(crate) secret_id: String,
    pub(crate) service: String,
}

/// The parts of an `Authorization` header:
/// `TC3-HMAC-SHA256 Credential={id}/{date}/{service}/tc3_request, SignedHeaders={a;b}, Signature={hex}`.
struct Authorization<'a> {
    secret_id: &'a str,
    date: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    fn parse(value: &'a str) -> Option<Self> {
        let rest = value.strip_prefix(ALGORITHM)?.strip_prefix(' ')?;
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (key, value) = part.trim().split_once('=')?;
            match key {
                "Credential" => credential = Some(value),
                "SignedHeaders" => signed_headers = Some(value),
                "Signature" => signature = Some(value),
                _ => return None,
            }
        }
        let mut scope = credential?.split('/');
        let (secret_id, date, service, terminator) =
            (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
        if terminator != "tc3_request" || scope.next().is_some() || secret_id.is_empty() {
            return None;
        }
        Some(Self {
            secret_id,
            date,
            service,
            signed_headers: signed_headers?,
            signature: signature?,
        })
    }
}

/// The SecretId a request claims, for the log, even when it fails to verify.
pub(crate) fn claimed_secret_id(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    Authorization::parse(value).map(|authorization| authorization.secret_id.to_owned())
}

/// Verifies the signature of a request against `credentials`, as of `now`
/// (seconds since the Unix epoch on the emulator's clock).
pub(crate) fn verify(
    parts: &Parts,
    body: &[u8],
    credentials: &[Credentials],
    now: u64,
) -> Result<Caller, ApiFailure> {
    let timestamp = header(parts, X_TC_TIMESTAMP.as_str())?
        .ok_or_else(|| ApiFailure::missing_parameter("X-TC-Timestamp"))?;
    let timestamp: u64 = timestamp.parse().map_err(|_| {
        ApiFailure::invalid_parameter_value("X-TC-Timestamp", "not a Unix timestamp in seconds")
    })?;
    let authorization = header(parts, AUTHORIZATION.as_str())?
        .ok_or_else(|| ApiFailure::missing_parameter("Authorization"))?;
    let authorization = Authorization::parse(authorization).ok_or_else(|| {
        ApiFailure::new(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is not in the TC3-HMAC-SHA256 format.",
        )
    })?;

    let Some(credentials) = credentials
        .iter()
        .find(|credentials| credentials.secret_id() == authorization.secret_id)
    else {
        return Err(ApiFailure::new(
            "AuthFailure.SecretIdNotFound",
            "The SecretId is not found, please ensure that your SecretId is correct.",
        ));
    };
    if timestamp.abs_diff(now) > MAX_SKEW_SECONDS {
        return Err(ApiFailure::new(
            "AuthFailure.SignatureExpire",
            format!(
                "Signature expired. Timestamp date is {timestamp}, server date is {now}; \
                 the difference must be within {MAX_SKEW_SECONDS} seconds."
            ),
        ));
    }

    let signature_failure = || {
        ApiFailure::new(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. \
             Please check your signature is correct.",
        )
    };
    // The server dates the scope from the timestamp, not from the client's word.
    if authorization.date != utc_date(timestamp) {
        return Err(signature_failure());
    }
    let mut signed_headers = Vec::new();
    for name in authorization.signed_headers.split(';') {
        let value = header(parts, name)
            .map_err(|_| signature_failure())?
            .ok_or_else(signature_failure)?;
        signed_headers.push((name, value));
    }
    let unsigned_payload = header(parts, X_TC_CONTENT_SHA256.as_str())? == Some("UNSIGNED-PAYLOAD");
    let canonical_request = canonical_request(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        signed_headers,
        &payload_hash(body, unsigned_payload),
    );
    let expected = tc3_signature(
        credentials.secret_key(),
        timestamp,
        authorization.service,
        &canonical_request,
    );
    if !constant_time_eq(
        expected.signature.as_bytes(),
        authorization.signature.as_bytes(),
    ) {
        return Err(signature_failure());
    }

    if credentials.session_token() != header(parts, X_TC_TOKEN.as_str())?.filter(|t| !t.is_empty())
    {
        return Err(ApiFailure::new(
            "AuthFailure.TokenFailure",
            "The token is invalid or does not belong to the SecretId.",
        ));
    }
    Ok(Caller {
        secret_id: authorization.secret_id.to_owned(),
        service: authorization.service.to_owned(),
    })
}

/// A header as text; a value that is not visible ASCII is a bad parameter.
pub(crate) fn header<'a>(parts: &'a Parts, name: &str) -> Result<Option<&'a str>, ApiFailure> {
    parts
        .headers
        .get(name)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| ApiFailure::invalid_parameter_value(name, "not visible ASCII"))
        })
        .transpose()
}

/// Compares signatures without revealing, by timing, how much of a guess
/// was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_headers_parse_as_the_sdks_write_them() {
        let header = "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2024-05-01/cvm/tc3_request, \
                      SignedHeaders=content-type;host, Signature=abc123";
        let parsed = Authorization::parse(header).unwrap();
        assert_eq!(parsed.secret_id, "AKIDEXAMPLE");
        assert_eq!(parsed.date, "2024-05-01");
        assert_eq!(parsed.service, "cvm");
        assert_eq!(parsed.signed_headers, "content-type;host");
        assert_eq!(parsed.signature, "abc123");
    }

    #[test]
    fn malformed_authorization_headers_are_refused() {
        for header in [
            "",
            "TC3-HMAC-SHA256",
            "HMAC-SHA1 Credential=A/2024-05-01/cvm/tc3_request, SignedHeaders=host, Signature=x",
            "TC3-HMAC-SHA256 Credential=A/2024-05-01/cvm, SignedHeaders=host, Signature=x",
            "TC3-HMAC-SHA256 Credential=A/2024-05-01/cvm/tc3_request, Signature=x",
            "TC3-HMAC-SHA256 Credential=/2024-05-01/cvm/tc3_request, SignedHeaders=host, Signature=x",
            "TC3-HMAC-SHA256 Credential=A/2024-05-01/cvm/tc3_request, SignedHeaders=host, Signature=x, Extra=y",
        ] {
            assert!(Authorization::parse(header).is_none(), "{header:?}");
        }
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
