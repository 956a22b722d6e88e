//! The HmacSHA1 / HmacSHA256 signature of form-encoded parameters, which
//! the official SDKs still offer (`signMethod`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use http::Method;
use http::header::{CONTENT_TYPE, HOST};
use http::request::Parts;
use sha1::Sha1;
use sha2::Sha256;

use super::tc3::constant_time_eq;
use super::{CredentialsLookup, SignatureMethod, Verified, Verifier, VerifyError, VerifyErrorKind};
use crate::action::media_type::FORM_URLENCODED;

/// The form-encoded parameters of a request, decoded: the query of a GET,
/// the body of a POST sent as `application/x-www-form-urlencoded`; `None`
/// for other requests.
///
/// The official SDKs send a GET's action parameters this way (flattened:
/// `Filters.0.Values.1=...`), and with an HmacSHA1 / HmacSHA256 signature
/// also `Action`, `Version`, `Signature` and the rest.
///
/// ```
/// use tower_tencentcloud::sign::verify::form_params;
///
/// let (head, ()) = http::Request::get("/?Action=DescribeZones&Limit=1").body(())?.into_parts();
/// let params = form_params(&head, b"").unwrap();
/// assert_eq!(params[0], ("Action".to_owned(), "DescribeZones".to_owned()));
/// # Ok::<_, http::Error>(())
/// ```
pub fn form_params(head: &Parts, body: &[u8]) -> Option<Vec<(String, String)>> {
    let encoded = if head.method == Method::GET {
        head.uri.query().unwrap_or("").as_bytes()
    } else {
        let content_type = head.headers.get(CONTENT_TYPE)?.to_str().ok()?;
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        if !media_type.eq_ignore_ascii_case(FORM_URLENCODED) {
            return None;
        }
        body
    };
    Some(form_urlencoded::parse(encoded).into_owned().collect())
}

pub(super) fn verify<L: CredentialsLookup>(
    verifier: &Verifier<L>,
    head: &Parts,
    params: &[(String, String)],
    now: u64,
) -> Result<Verified, VerifyError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let signature = param("Signature").ok_or_else(|| VerifyError::missing("Signature"))?;
    let secret_id = param("SecretId")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| VerifyError::missing("SecretId"))?;
    let timestamp: u64 = param("Timestamp")
        .ok_or_else(|| VerifyError::missing("Timestamp"))?
        .parse()
        .map_err(|_| VerifyError::invalid("Timestamp", "not a Unix timestamp in seconds"))?;
    let method = match param("SignatureMethod") {
        None | Some("HmacSHA1") => SignatureMethod::HmacSha1,
        Some("HmacSHA256") => SignatureMethod::HmacSha256,
        Some(_) => {
            return Err(VerifyError::invalid(
                "SignatureMethod",
                "neither HmacSHA1 nor HmacSHA256",
            ));
        }
    };
    let credentials = verifier
        .lookup
        .lookup(secret_id)
        .ok_or_else(|| VerifyError::new(VerifyErrorKind::SecretIdNotFound, ""))?;
    verifier.check_skew(timestamp, now)?;

    let host = match head.headers.get(HOST) {
        Some(host) => host
            .to_str()
            .map_err(|_| VerifyError::invalid("Host", "not visible ASCII"))?,
        None => head
            .uri
            .authority()
            .map(|authority| authority.as_str())
            .ok_or_else(|| VerifyError::missing("Host"))?,
    };
    // Sorted by name, with `_` in names read as `.`, as the SDKs sign them;
    // values as decoded.
    let mut signed: Vec<(String, &str)> = params
        .iter()
        .filter(|(key, _)| key != "Signature")
        .map(|(key, value)| (key.replace('_', "."), value.as_str()))
        .collect();
    signed.sort_unstable();
    let mut query = String::new();
    for (key, value) in &signed {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(key);
        query.push('=');
        query.push_str(value);
    }
    let Ok(signature) = STANDARD.decode(signature) else {
        return Err(VerifyError::new(
            VerifyErrorKind::SignatureFailure,
            "the Signature is not base64",
        ));
    };
    let path = head.uri.path();
    let signed = verifier.hosts(host).any(|host| {
        let string_to_sign = format!("{}{host}{path}?{query}", head.method);
        let expected = hmac(method, credentials.secret_key(), &string_to_sign);
        constant_time_eq(&expected, &signature)
    });
    if !signed {
        return Err(VerifyError::new(VerifyErrorKind::SignatureFailure, ""));
    }

    if credentials.session_token() != param("Token").filter(|token| !token.is_empty()) {
        return Err(VerifyError::new(VerifyErrorKind::TokenFailure, ""));
    }
    Ok(Verified {
        secret_id: secret_id.to_owned(),
        service: None,
        method,
        timestamp,
    })
}

fn hmac(method: SignatureMethod, key: &str, message: &str) -> Vec<u8> {
    // HMAC accepts keys of any length: these cannot fail.
    if method == SignatureMethod::HmacSha256 {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
        mac.update(message.as_bytes());
        mac.finalize().into_bytes().to_vec()
    } else {
        let mut mac =
            <Hmac<Sha1> as KeyInit>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
        mac.update(message.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}
