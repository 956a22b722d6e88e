//! TC3-HMAC-SHA256 verification, with the signer's own computation.

use http::header::{AUTHORIZATION, HOST};
use http::request::Parts;

use super::{CredentialsLookup, SignatureMethod, Verified, Verifier, VerifyError, VerifyErrorKind};
use crate::action::header::{X_TC_CONTENT_SHA256, X_TC_TIMESTAMP, X_TC_TOKEN};
use crate::sign::signer::{
    ALGORITHM, UNSIGNED_PAYLOAD, canonical_request, payload_hash, tc3_signature, utc_date,
};

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

/// The SecretId a TC3 request claims in its `Authorization` header, read
/// without verifying anything: for a server's log of refused calls.
///
/// ```
/// use tower_tencentcloud::sign::verify::claimed_secret_id;
///
/// let (head, ()) = http::Request::post("/")
///     .header(
///         "authorization",
///         "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2024-05-01/cvm/tc3_request, \
///          SignedHeaders=content-type;host, Signature=0",
///     )
///     .body(())?
///     .into_parts();
/// assert_eq!(claimed_secret_id(&head), Some("AKIDEXAMPLE"));
/// # Ok::<_, http::Error>(())
/// ```
pub fn claimed_secret_id(head: &Parts) -> Option<&str> {
    let value = head.headers.get(AUTHORIZATION)?.to_str().ok()?;
    Authorization::parse(value).map(|authorization| authorization.secret_id)
}

pub(super) fn verify<L: CredentialsLookup>(
    verifier: &Verifier<L>,
    head: &Parts,
    body: &[u8],
    now: u64,
) -> Result<Verified, VerifyError> {
    let timestamp = header(head, X_TC_TIMESTAMP.as_str())?
        .ok_or_else(|| VerifyError::missing(X_TC_TIMESTAMP.as_str()))?;
    let timestamp: u64 = timestamp.parse().map_err(|_| {
        VerifyError::invalid(X_TC_TIMESTAMP.as_str(), "not a Unix timestamp in seconds")
    })?;
    let authorization = header(head, AUTHORIZATION.as_str())?
        .ok_or_else(|| VerifyError::missing(AUTHORIZATION.as_str()))?;
    let authorization = Authorization::parse(authorization).ok_or_else(|| {
        VerifyError::new(
            VerifyErrorKind::InvalidAuthorization,
            "not in the TC3-HMAC-SHA256 format",
        )
    })?;
    let credentials = verifier
        .lookup
        .lookup(authorization.secret_id)
        .ok_or_else(|| VerifyError::new(VerifyErrorKind::SecretIdNotFound, ""))?;
    verifier.check_skew(timestamp, now)?;

    let signature_failure = || VerifyError::new(VerifyErrorKind::SignatureFailure, "");
    // The server dates the scope from the timestamp, not from the client's word.
    if authorization.date != utc_date(timestamp) {
        return Err(VerifyError::new(
            VerifyErrorKind::SignatureFailure,
            "the credential scope's date is not the timestamp's",
        ));
    }
    let mut signed_headers = Vec::new();
    for name in authorization.signed_headers.split(';') {
        let value = head
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(signature_failure)?;
        signed_headers.push((name, value));
    }
    let unsigned_payload = header(head, X_TC_CONTENT_SHA256.as_str())? == Some(UNSIGNED_PAYLOAD);
    let payload_hash = payload_hash(body, unsigned_payload);
    let host = signed_headers
        .iter()
        .position(|(name, _)| *name == HOST.as_str());
    let hosts: Vec<&str> = match host {
        Some(index) => verifier.hosts(signed_headers[index].1).collect(),
        None => vec![""],
    };
    let signed = hosts.into_iter().any(|candidate| {
        let headers = signed_headers
            .iter()
            .enumerate()
            .map(|(index, &(name, value))| {
                (
                    name,
                    if Some(index) == host {
                        candidate
                    } else {
                        value
                    },
                )
            });
        let canonical_request = canonical_request(
            head.method.as_str(),
            head.uri.path(),
            head.uri.query().unwrap_or(""),
            headers,
            &payload_hash,
        );
        let expected = tc3_signature(
            credentials.secret_key(),
            timestamp,
            authorization.service,
            &canonical_request,
        );
        constant_time_eq(
            expected.signature.as_bytes(),
            authorization.signature.as_bytes(),
        )
    });
    if !signed {
        return Err(signature_failure());
    }

    let token = header(head, X_TC_TOKEN.as_str())?.filter(|token| !token.is_empty());
    if credentials.session_token() != token {
        return Err(VerifyError::new(VerifyErrorKind::TokenFailure, ""));
    }
    Ok(Verified {
        secret_id: authorization.secret_id.to_owned(),
        service: Some(authorization.service.to_owned()),
        method: SignatureMethod::Tc3HmacSha256,
        timestamp,
    })
}

/// A header as text; a value that is not visible ASCII is a bad parameter.
fn header<'a>(head: &'a Parts, name: &str) -> Result<Option<&'a str>, VerifyError> {
    head.headers
        .get(name)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| VerifyError::invalid(name, "not visible ASCII"))
        })
        .transpose()
}

/// Compares signatures without revealing, by timing, how much of a guess
/// was right.
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
