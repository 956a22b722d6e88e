//! [`WebIdentityProvider`]: a TKE pod's OIDC token exchanged for temporary
//! credentials with STS `AssumeRoleWithWebIdentity`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderValue};
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use serde::Serialize;
use tower::{Service, ServiceExt};
use zeroize::Zeroizing;

use super::sts::{StsCall, read_answer};
use super::{
    Credentials, CredentialsError, CredentialsErrorKind, CredentialsFuture, ProvideCredentials,
};
use crate::action::header::X_TC_TIMESTAMP;
use crate::envelope::Envelope;
use crate::error::BoxError;

/// The region of the STS call, which TKE sets in the pod.
pub const TKE_REGION_VAR: &str = "TKE_REGION";
/// The OIDC provider's id, which TKE sets in the pod.
pub const TKE_PROVIDER_ID_VAR: &str = "TKE_PROVIDER_ID";
/// The file TKE keeps the pod's current OIDC token in.
pub const TKE_WEB_IDENTITY_TOKEN_FILE_VAR: &str = "TKE_WEB_IDENTITY_TOKEN_FILE";
/// The role the pod's service account may assume.
pub const TKE_ROLE_ARN_VAR: &str = "TKE_ROLE_ARN";

/// The action, which STS answers unsigned: the token is the proof.
pub const WEB_IDENTITY_ACTION: &str = "AssumeRoleWithWebIdentity";

/// Temporary credentials for a TKE pod: its OIDC token, read from a file
/// on every fetch (TKE rotates it there), exchanged with STS
/// `AssumeRoleWithWebIdentity`, unsigned (`Authorization: SKIP`, as the
/// official SDKs send it), through this crate's [`Envelope`] layer.
///
/// [`from_env`](Self::from_env) reads what TKE sets in the pod:
/// `TKE_REGION` (the call's region, honoured), `TKE_PROVIDER_ID`,
/// `TKE_WEB_IDENTITY_TOKEN_FILE` and `TKE_ROLE_ARN`.
///
/// It fetches on every call: sign through
/// [`SignLayer::with_provider`](crate::sign::SignLayer::with_provider),
/// which caches it.
///
/// ```
/// use tower_tencentcloud::credentials::WebIdentityProvider;
/// use tower_tencentcloud::sign::SignLayer;
///
/// # fn run() -> Result<(), tower_tencentcloud::credentials::CredentialsError> {
/// let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
///     .build_http::<http_body_util::Full<bytes::Bytes>>();
/// let layer = SignLayer::with_provider(WebIdentityProvider::from_env(client)?);
/// # let _ = layer;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct WebIdentityProvider<T> {
    client: Envelope<T>,
    call: Arc<StsCall>,
    provider_id: Arc<str>,
    token_file: Arc<PathBuf>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct WebIdentityParams<'a> {
    provider_id: &'a str,
    web_identity_token: &'a str,
    role_arn: &'a str,
    role_session_name: &'a str,
    duration_seconds: u64,
}

impl<T> WebIdentityProvider<T> {
    /// Exchanges the token in `token_file` for credentials of `role_arn`,
    /// with the OIDC provider `provider_id`, calling STS in `region`.
    pub fn new(
        transport: T,
        region: impl Into<String>,
        provider_id: impl Into<String>,
        token_file: impl Into<PathBuf>,
        role_arn: impl Into<String>,
    ) -> Self {
        let mut call = StsCall::new(role_arn.into());
        call.region = region.into();
        Self {
            client: Envelope::new(transport),
            call: Arc::new(call),
            provider_id: Arc::from(provider_id.into()),
            token_file: Arc::new(token_file.into()),
        }
    }

    /// What TKE sets in the pod; an error names the first variable missing.
    pub fn from_env(transport: T) -> Result<Self, CredentialsError> {
        Self::from_lookup(transport, std::env::var_os)
    }

    pub(crate) fn from_lookup(
        transport: T,
        lookup: impl Fn(&'static str) -> Option<OsString>,
    ) -> Result<Self, CredentialsError> {
        let read = |variable: &'static str| {
            let value = lookup(variable)
                .filter(|value| !value.is_empty())
                .ok_or_else(|| {
                    CredentialsError::for_variable(variable, CredentialsErrorKind::NotSet)
                })?;
            value.into_string().map_err(|_| {
                CredentialsError::for_variable(variable, CredentialsErrorKind::NotUnicode)
            })
        };
        let region = read(TKE_REGION_VAR)?;
        let provider_id = read(TKE_PROVIDER_ID_VAR)?;
        let token_file = read(TKE_WEB_IDENTITY_TOKEN_FILE_VAR)?;
        let role_arn = read(TKE_ROLE_ARN_VAR)?;
        Ok(Self::new(
            transport,
            region,
            provider_id,
            token_file,
            role_arn,
        ))
    }

    /// `RoleSessionName`; by default `tower-tencentcloud-{microseconds}`.
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.call).session_name = Some(name.into());
        self
    }

    /// `DurationSeconds`, the lifetime asked for; by default 7200 seconds.
    pub fn duration(mut self, duration: Duration) -> Self {
        Arc::make_mut(&mut self.call).duration = duration;
        self
    }

    /// Calls STS at `endpoint` instead of `https://sts.tencentcloudapi.com`.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.call).endpoint = Some(endpoint.into());
        self
    }
}

impl<T, RB> WebIdentityProvider<T>
where
    T: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone,
    T::Error: Into<BoxError>,
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    /// The credentials STS issues now for the token in the file now.
    pub async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let what = "sts AssumeRoleWithWebIdentity";
        let token = std::fs::read_to_string(&*self.token_file).map_err(|err| {
            CredentialsError::new(
                CredentialsErrorKind::Fetch,
                format!("{what}: token file {}", self.token_file.display()),
            )
            .with_source(err)
        })?;
        let token = Zeroizing::new(token);
        let session_name = self.call.session_name();
        let params = WebIdentityParams {
            provider_id: &self.provider_id,
            web_identity_token: token.trim(),
            role_arn: &self.call.role_arn,
            role_session_name: &session_name,
            duration_seconds: self.call.duration.as_secs(),
        };
        let mut request = self.call.request(WEB_IDENTITY_ACTION, &params)?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, HeaderValue::from_static("SKIP"));
        headers.insert(X_TC_TIMESTAMP, HeaderValue::from(timestamp));
        let answer = self.client.clone().oneshot(request).await;
        read_answer(what, answer).await
    }
}

impl<T, RB> ProvideCredentials for WebIdentityProvider<T>
where
    T: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone + Send + Sync + 'static,
    T::Error: Into<BoxError>,
    T::Future: Send,
    RB: Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    fn provide_credentials(&self) -> CredentialsFuture {
        let this = self.clone();
        CredentialsFuture::new(async move { this.fetch().await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::header::X_TC_REGION;

    #[test]
    fn tke_variables_are_read_and_the_region_is_honoured() {
        let vars = [
            (TKE_REGION_VAR, "ap-shanghai"),
            (TKE_PROVIDER_ID_VAR, "tke-oidc"),
            (TKE_WEB_IDENTITY_TOKEN_FILE_VAR, "/var/run/token"),
            (TKE_ROLE_ARN_VAR, "qcs::cam::uin/1:roleName/pod"),
        ];
        let lookup = |name| {
            vars.iter()
                .find(|(var, _)| *var == name)
                .map(|(_, value)| OsString::from(value))
        };
        let provider = WebIdentityProvider::from_lookup((), lookup).unwrap();
        let request = provider
            .call
            .request(WEB_IDENTITY_ACTION, &serde_json::json!({}))
            .unwrap();
        assert_eq!(request.headers()[X_TC_REGION], "ap-shanghai");
        assert_eq!(request.uri(), "https://sts.tencentcloudapi.com/");
        assert_eq!(*provider.token_file, PathBuf::from("/var/run/token"));

        let err = WebIdentityProvider::from_lookup((), |name| {
            (name != TKE_ROLE_ARN_VAR).then(|| lookup(name)).flatten()
        })
        .unwrap_err();
        assert_eq!(err.variable(), Some(TKE_ROLE_ARN_VAR));
    }
}
