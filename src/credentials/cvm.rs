//! [`CvmRoleProvider`]: the temporary credentials of the CAM role bound to
//! a CVM instance, from the instance metadata server.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use serde::Deserialize;
use tower::Service;

use super::transport::{exchange, malformed};
use super::{
    Credentials, CredentialsError, CredentialsErrorKind, CredentialsFuture, ProvideCredentials,
};
use crate::error::BoxError;

/// Where the metadata server answers on every CVM instance.
pub const METADATA_ENDPOINT: &str = "http://metadata.tencentyun.com/latest/meta-data/";

/// The path, below the metadata endpoint, that lists the instance's role
/// and, followed by the role's name, answers its credentials.
pub const SECURITY_CREDENTIALS_PATH: &str = "cam/security-credentials/";

/// How long one metadata request may take: the server is on the host and
/// answers in milliseconds.
pub const DEFAULT_METADATA_TIMEOUT: Duration = Duration::from_secs(1);

/// The credentials of the CAM role bound to this CVM instance.
///
/// Asks `{endpoint}cam/security-credentials/` for the role's name (once,
/// unless [`role`](Self::role) names it), then
/// `{endpoint}cam/security-credentials/{role}` for `TmpSecretId`,
/// `TmpSecretKey`, `Token` and `ExpiredTime`, refusing an answer whose
/// `Code` is not `Success`. Every request has a timeout
/// ([`DEFAULT_METADATA_TIMEOUT`]), which the official SDKs lack.
///
/// It fetches on every call: sign through
/// [`SignLayer::with_provider`](crate::sign::SignLayer::with_provider),
/// which caches it.
///
/// `transport` is any HTTP client service, such as hyper-util's.
///
/// ```
/// use tower_tencentcloud::credentials::CvmRoleProvider;
/// use tower_tencentcloud::sign::SignLayer;
///
/// # fn run() {
/// let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
///     .build_http::<http_body_util::Full<bytes::Bytes>>();
/// let layer = SignLayer::with_provider(CvmRoleProvider::new(client));
/// # let _ = layer;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CvmRoleProvider<T> {
    transport: T,
    endpoint: Arc<str>,
    timeout: Duration,
    /// The role's name: given, or learnt from the server and forgotten
    /// when the server no longer knows it.
    role: Arc<Mutex<Option<Arc<str>>>>,
}

impl<T> CvmRoleProvider<T> {
    /// Asks the metadata server at [`METADATA_ENDPOINT`] through `transport`.
    pub fn new(transport: T) -> Self {
        Self {
            transport,
            endpoint: Arc::from(METADATA_ENDPOINT),
            timeout: DEFAULT_METADATA_TIMEOUT,
            role: Arc::new(Mutex::new(None)),
        }
    }

    /// Asks the metadata server at `endpoint` instead (the
    /// `…/latest/meta-data/` URL; a missing final `/` is added), such as
    /// an [`Emulator`](crate::emulator::Emulator)'s
    /// `{endpoint}/latest/meta-data/`.
    pub fn endpoint(mut self, endpoint: impl AsRef<str>) -> Self {
        let endpoint = endpoint.as_ref();
        self.endpoint = if endpoint.ends_with('/') {
            Arc::from(endpoint)
        } else {
            Arc::from(format!("{endpoint}/"))
        };
        self
    }

    /// Uses the role `name` without asking for it.
    pub fn role(self, name: impl Into<String>) -> Self {
        *self.role.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::from(name.into()));
        self
    }

    /// Gives up on a metadata request after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl<T, RB> CvmRoleProvider<T>
where
    T: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone,
    T::Error: Into<BoxError>,
    RB: Body,
    RB::Error: Into<BoxError>,
{
    /// The credentials the metadata server answers now.
    pub async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let cached = self
            .role
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let role = match cached {
            Some(role) => role,
            None => {
                let role = self.role_name().await?;
                *self.role.lock().unwrap_or_else(PoisonError::into_inner) = Some(role.clone());
                role
            }
        };
        let what = format!("metadata {SECURITY_CREDENTIALS_PATH}{role}");
        let (status, body) = self
            .get(&format!("{SECURITY_CREDENTIALS_PATH}{role}"), &what)
            .await?;
        if status == StatusCode::NOT_FOUND {
            // The role was unbound or replaced: ask for its name next time.
            *self.role.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
        if !status.is_success() {
            return Err(http_error(&what, status));
        }
        parse_role_credentials(&what, &body)
    }

    async fn role_name(&self) -> Result<Arc<str>, CredentialsError> {
        let what = format!("metadata {SECURITY_CREDENTIALS_PATH}");
        let (status, body) = self.get(SECURITY_CREDENTIALS_PATH, &what).await?;
        if status == StatusCode::NOT_FOUND {
            return Err(CredentialsError::new(
                CredentialsErrorKind::Fetch,
                format!("{what}: no CAM role is bound to this instance (HTTP 404)"),
            ));
        }
        if !status.is_success() {
            return Err(http_error(&what, status));
        }
        let name = std::str::from_utf8(&body).unwrap_or_default().trim();
        // The name goes into a URL path: only what CAM allows in role names.
        let valid = !name.is_empty()
            && name.len() <= 128
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
        if !valid {
            return Err(CredentialsError::new(
                CredentialsErrorKind::Fetch,
                format!("{what}: the answer is not a CAM role name"),
            ));
        }
        Ok(Arc::from(name))
    }

    async fn get(&self, path: &str, what: &str) -> Result<(StatusCode, Bytes), CredentialsError> {
        let request = Request::get(format!("{}{path}", self.endpoint))
            .body(Full::new(Bytes::new()))
            .map_err(|err| {
                CredentialsError::new(CredentialsErrorKind::Fetch, what.to_owned()).with_source(err)
            })?;
        match tokio::time::timeout(
            self.timeout,
            exchange(self.transport.clone(), request, what),
        )
        .await
        {
            Ok(answer) => answer,
            Err(_) => Err(CredentialsError::new(
                CredentialsErrorKind::Timeout,
                format!("{what}: no answer within {:?}", self.timeout),
            )),
        }
    }
}

impl<T, RB> ProvideCredentials for CvmRoleProvider<T>
where
    T: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone + Send + Sync + 'static,
    T::Error: Into<BoxError>,
    T::Future: Send,
    RB: Body + Send + 'static,
    RB::Data: Send,
    RB::Error: Into<BoxError>,
{
    fn provide_credentials(&self) -> CredentialsFuture {
        let this = self.clone();
        CredentialsFuture::new(async move { this.fetch().await })
    }
}

fn http_error(what: &str, status: StatusCode) -> CredentialsError {
    CredentialsError::new(
        CredentialsErrorKind::Fetch,
        format!("{what}: HTTP {}", status.as_u16()),
    )
}

/// The metadata server's answer for a role.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials {
    code: String,
    #[serde(default)]
    tmp_secret_id: String,
    #[serde(default)]
    tmp_secret_key: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    expired_time: u64,
}

fn parse_role_credentials(what: &str, body: &[u8]) -> Result<Credentials, CredentialsError> {
    let answer: RoleCredentials =
        serde_json::from_slice(body).map_err(|err| malformed(what, &err))?;
    if answer.code != "Success" {
        // The code is the server's word for what went wrong, not a secret.
        let code: String = answer.code.chars().take(64).collect();
        return Err(CredentialsError::new(
            CredentialsErrorKind::Fetch,
            format!("{what}: Code is {code:?}, not \"Success\""),
        ));
    }
    if answer.tmp_secret_id.is_empty()
        || answer.tmp_secret_key.is_empty()
        || answer.token.is_empty()
        || answer.expired_time == 0
    {
        return Err(CredentialsError::new(
            CredentialsErrorKind::Fetch,
            format!("{what}: the answer lacks TmpSecretId, TmpSecretKey, Token or ExpiredTime"),
        ));
    }
    Ok(
        Credentials::new(answer.tmp_secret_id, answer.tmp_secret_key)
            .with_session_token(answer.token)
            .with_expiry(UNIX_EPOCH + Duration::from_secs(answer.expired_time)),
    )
}

/// `SystemTime` of Unix seconds, for STS answers too.
pub(crate) fn unix_time(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_metadata_answer() {
        let body = br#"{"TmpSecretId":"AKIDtmp","TmpSecretKey":"tmp-key","ExpiredTime":1700003600,"Expiration":"2023-11-14T23:13:20Z","Token":"tok","Code":"Success"}"#;
        let credentials = parse_role_credentials("m", body).unwrap();
        assert_eq!(credentials.secret_id(), "AKIDtmp");
        assert_eq!(credentials.secret_key(), "tmp-key");
        assert_eq!(credentials.session_token(), Some("tok"));
        assert_eq!(credentials.expiry(), Some(unix_time(1_700_003_600)));
    }

    #[test]
    fn refuses_a_failed_or_malformed_answer_without_quoting_secrets() {
        let failed = br#"{"Code":"Failed","TmpSecretKey":"hunter2"}"#;
        let err = parse_role_credentials("m", failed).unwrap_err();
        assert_eq!(err.kind(), CredentialsErrorKind::Fetch);
        assert!(err.to_string().contains("\"Failed\""), "{err}");

        let malformed = br#"{"Code":"Success","TmpSecretKey":42,"Token":"hunter2"}"#;
        let err = parse_role_credentials("m", malformed).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2"), "{err}");
        let wrong_type = br#"{"Code":"Success","ExpiredTime":"hunter2"}"#;
        let err = parse_role_credentials("m", wrong_type).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("hunter2"), "{err}");
    }
}
