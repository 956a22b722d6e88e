//! Who signed a call and what it names, through the signer's public
//! verifier ([`crate::sign::verify`]).
//!
//! A call names its action in one of two ways: TC3 puts `X-TC-Action`,
//! `X-TC-Version` and `X-TC-Region` in headers (the action's parameters in
//! a JSON body, a form-encoded one, or for a GET in the query); an HmacSHA1 / HmacSHA256
//! signature puts `Action`, `Version`, `Region` among the form-encoded
//! parameters, beside the action's own.

use http::HeaderName;
use http::header::{AUTHORIZATION, HOST};
use http::request::Parts;

use super::params::RawParams;
use super::reply::ApiFailure;
use super::{cvm, stream};
use crate::action::header::{X_TC_ACTION, X_TC_REGION, X_TC_VERSION};
use crate::sign::Credentials;
use crate::sign::verify::{
    self, SignatureMethod, Verified, Verifier, VerifyError, VerifyErrorKind,
};

/// The parameters an HmacSHA1 / HmacSHA256 call carries beside the
/// action's own.
const COMMON_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
];

/// What a call names, before its signature is checked.
pub(crate) struct Named {
    pub(crate) action: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) region: Option<String>,
    /// The SecretId the call claims, for the log.
    pub(crate) secret_id: Option<String>,
    pub(crate) params: RawParams,
}

impl Named {
    /// Reads the action, version, region and parameters of a call, the
    /// way its signature method puts them.
    pub(crate) fn read(parts: &Parts, body: &bytes::Bytes) -> Result<Self, ApiFailure> {
        let form = verify::form_params(parts, body);
        let v1 = !parts.headers.contains_key(AUTHORIZATION)
            && form
                .as_ref()
                .is_some_and(|form| form.iter().any(|(name, _)| name == "Signature"));
        if v1 {
            let form = form.unwrap_or_default();
            let param = |name: &str| {
                form.iter()
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.clone())
                    .filter(|value| !value.is_empty())
            };
            let (action, version, region, secret_id) = (
                param("Action"),
                param("Version"),
                param("Region"),
                param("SecretId"),
            );
            let own = form
                .into_iter()
                .filter(|(key, _)| !COMMON_PARAMS.contains(&key.as_str()))
                .collect();
            return Ok(Self {
                action,
                version,
                region,
                secret_id,
                params: RawParams::Form(own),
            });
        }
        // A GET's query, or a form-encoded POST body; else JSON.
        let params = match form {
            Some(form) => RawParams::Form(form),
            None => RawParams::Json(body.clone()),
        };
        Ok(Self {
            action: header(parts, &X_TC_ACTION)?.map(str::to_owned),
            version: header(parts, &X_TC_VERSION)?.map(str::to_owned),
            region: header(parts, &X_TC_REGION)?.map(str::to_owned),
            secret_id: verify::claimed_secret_id(parts).map(str::to_owned),
            params,
        })
    }
}

/// The emulator's verifier: the API's own checks, plus a signature over
/// the host without its port, which the Node.js SDK makes (see the module
/// docs of [`emulator`](super)).
pub(crate) fn verifier(credentials: Vec<Credentials>) -> Verifier<Vec<Credentials>> {
    Verifier::new(credentials).accept_host_without_port(true)
}

/// The service a verified call is for.
///
/// The credential scope names it, unless the SDK made the scope's service
/// from the first label of an endpoint that is an address (the Node.js SDK
/// signs for `127` when its endpoint is `127.0.0.1:8080`); HmacSHA1 /
/// HmacSHA256 signatures name no service, the host does (`cvm.…`). In
/// those two cases an unknown service is the emulated one that has the
/// action: the emulator's actions are unique across its services.
pub(crate) fn service(verified: &Verified, parts: &Parts, action: &str) -> String {
    let host = parts
        .headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| parts.uri.authority().map(|authority| authority.as_str()))
        .unwrap_or("");
    let first_label = host.split('.').next().unwrap_or("");
    let named = match verified.service() {
        Some(service) if verified.method() == SignatureMethod::Tc3HmacSha256 => service,
        _ => first_label,
    };
    if is_emulated(named) || named != first_label {
        return named.to_owned();
    }
    let owner = if cvm::is_action(action) {
        "cvm"
    } else if action == stream::ACTION {
        stream::SERVICE
    } else {
        named
    };
    owner.to_owned()
}

fn is_emulated(service: &str) -> bool {
    service == "cvm" || service == stream::SERVICE
}

/// The API's answer to a call that failed verification.
pub(crate) fn failure(err: &VerifyError) -> ApiFailure {
    let parameter = err.parameter().unwrap_or("");
    match err.kind() {
        VerifyErrorKind::MissingParameter => ApiFailure::missing_parameter(parameter),
        VerifyErrorKind::InvalidParameter => {
            ApiFailure::invalid_parameter_value(parameter, err.detail())
        }
        VerifyErrorKind::InvalidAuthorization => ApiFailure::new(
            err.code(),
            "The Authorization header is not in the TC3-HMAC-SHA256 format.",
        ),
        VerifyErrorKind::SecretIdNotFound => ApiFailure::new(
            err.code(),
            "The SecretId is not found, please ensure that your SecretId is correct.",
        ),
        VerifyErrorKind::SignatureExpired => {
            ApiFailure::new(err.code(), format!("Signature expired: {}.", err.detail()))
        }
        VerifyErrorKind::TokenFailure => ApiFailure::new(
            err.code(),
            "The token is invalid or does not belong to the SecretId.",
        ),
        _ => ApiFailure::new(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. \
             Please check your signature is correct.",
        ),
    }
}

/// A header as text, `None` when absent or empty; a value that is not
/// visible ASCII is a bad parameter.
pub(crate) fn header<'a>(
    parts: &'a Parts,
    name: &HeaderName,
) -> Result<Option<&'a str>, ApiFailure> {
    parts
        .headers
        .get(name)
        .map(|value| {
            value.to_str().map_err(|_| {
                ApiFailure::invalid_parameter_value(name.as_str(), "not visible ASCII")
            })
        })
        .transpose()
        .map(|value| value.filter(|value| !value.is_empty()))
}
