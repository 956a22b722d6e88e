//! [`AssumeRoleProvider`]: temporary credentials of a role, from STS
//! `AssumeRole`, and what STS answers.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use serde::{Deserialize, Serialize};
use tower::{Layer, Service, ServiceExt};

use super::cvm::unix_time;
use super::transport::{MAX_ANSWER, malformed};
use super::{
    Credentials, CredentialsError, CredentialsErrorKind, CredentialsFuture, ProvideCredentials,
};
use crate::action::ActionRequest;
use crate::envelope::Envelope;
use crate::error::{BoxError, Error};
use crate::sign::{Sign, SignLayer};

/// The service that issues temporary credentials.
pub const STS_SERVICE: &str = "sts";

/// The version of STS these providers call.
pub const STS_VERSION: &str = "2018-08-13";

/// The lifetime asked for unless set, as the official SDKs ask.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(7200);

/// The region STS calls name unless set, as the official SDKs name it.
pub const DEFAULT_STS_REGION: &str = "ap-guangzhou";

/// Temporary credentials of the role `role_arn`, from STS `AssumeRole`,
/// signed with the credentials of a source provider and sent through this
/// crate's own [`Sign`] and [`Envelope`] layers.
///
/// The source is cached as [`SignLayer::with_provider`] caches, so a
/// [`CvmRoleProvider`](super::CvmRoleProvider) source is fetched once per
/// lifetime. This provider itself fetches on every call: sign through
/// [`SignLayer::with_provider`], which caches it.
///
/// ```
/// use tower_tencentcloud::credentials::{AssumeRoleProvider, CvmRoleProvider};
/// use tower_tencentcloud::sign::SignLayer;
///
/// # fn run() {
/// let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
///     .build_http::<http_body_util::Full<bytes::Bytes>>();
/// let role = AssumeRoleProvider::new(
///     client.clone(),
///     CvmRoleProvider::new(client),
///     "qcs::cam::uin/100000000001:roleName/deployer",
/// )
/// .session_name("nightly-deploy");
/// let layer = SignLayer::with_provider(role);
/// # let _ = layer;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct AssumeRoleProvider<T> {
    client: Sign<Envelope<T>>,
    call: Arc<StsCall>,
}

/// What an STS call names, shared by both providers.
#[derive(Debug, Clone)]
pub(crate) struct StsCall {
    pub(crate) role_arn: String,
    pub(crate) session_name: Option<String>,
    pub(crate) duration: Duration,
    pub(crate) region: String,
    pub(crate) endpoint: Option<String>,
}

impl StsCall {
    pub(crate) fn new(role_arn: String) -> Self {
        Self {
            role_arn,
            session_name: None,
            duration: DEFAULT_DURATION,
            region: DEFAULT_STS_REGION.to_owned(),
            endpoint: None,
        }
    }

    /// The session name set, or one of this process and moment, as the
    /// SDKs make it.
    pub(crate) fn session_name(&self) -> String {
        self.session_name.clone().unwrap_or_else(|| {
            let micros = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros();
            format!("tower-tencentcloud-{micros}")
        })
    }

    pub(crate) fn request(
        &self,
        action: &str,
        params: &impl Serialize,
    ) -> Result<Request<Full<Bytes>>, CredentialsError> {
        let mut request = ActionRequest::new(STS_SERVICE, STS_VERSION, action)
            .region(self.region.clone())
            .params(params);
        if let Some(endpoint) = &self.endpoint {
            request = request.endpoint(endpoint.clone());
        }
        request.build().map_err(|err| {
            CredentialsError::new(CredentialsErrorKind::Fetch, format!("sts {action}"))
                .with_source(err)
        })
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleParams<'a> {
    role_arn: &'a str,
    role_session_name: &'a str,
    duration_seconds: u64,
}

impl<T> AssumeRoleProvider<T> {
    /// Assumes `role_arn` with STS at `sts.tencentcloudapi.com`, calling it
    /// through `transport`, signed with what `source` provides.
    pub fn new(transport: T, source: impl ProvideCredentials, role_arn: impl Into<String>) -> Self {
        let client = SignLayer::with_provider(source).layer(Envelope::new(transport));
        Self {
            client,
            call: Arc::new(StsCall::new(role_arn.into())),
        }
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

    /// `X-TC-Region`; by default `ap-guangzhou`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.call).region = region.into();
        self
    }

    /// Calls STS at `endpoint` (`https://sts.internal.tencentcloudapi.com`,
    /// an emulator's `http://127.0.0.1:PORT`) instead.
    pub fn endpoint(mut self, endpoint: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.call).endpoint = Some(endpoint.into());
        self
    }
}

impl<T, RB> AssumeRoleProvider<T>
where
    T: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone,
    T::Error: Into<BoxError>,
    RB: Body<Data = Bytes>,
    RB::Error: Into<BoxError>,
{
    /// The credentials STS issues now.
    pub async fn fetch(&self) -> Result<Credentials, CredentialsError> {
        let session_name = self.call.session_name();
        let params = AssumeRoleParams {
            role_arn: &self.call.role_arn,
            role_session_name: &session_name,
            duration_seconds: self.call.duration.as_secs(),
        };
        let request = self.call.request("AssumeRole", &params)?;
        let answer = self.client.clone().oneshot(request).await;
        read_answer("sts AssumeRole", answer).await
    }
}

impl<T, RB> ProvideCredentials for AssumeRoleProvider<T>
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

/// STS's answer to `AssumeRole` and `AssumeRoleWithWebIdentity`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsAnswer {
    credentials: StsCredentials,
    expired_time: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    token: String,
    tmp_secret_id: String,
    tmp_secret_key: String,
}

/// The credentials of an STS answer that passed the envelope layer.
pub(crate) async fn read_answer<B>(
    what: &str,
    answer: Result<Response<B>, Error>,
) -> Result<Credentials, CredentialsError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let response = answer.map_err(|err| {
        let kind = match err {
            Error::Api(_) => CredentialsErrorKind::Api,
            _ => CredentialsErrorKind::Fetch,
        };
        CredentialsError::new(kind, what.to_owned()).with_source(err)
    })?;
    let body = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|err| {
            CredentialsError::new(CredentialsErrorKind::Fetch, what.to_owned()).with_source(err)
        })?
        .to_bytes();
    let answer: StsAnswer =
        crate::envelope::from_slice(&body).map_err(|err| malformed(what, &err))?;
    let StsCredentials {
        token,
        tmp_secret_id,
        tmp_secret_key,
    } = answer.credentials;
    if tmp_secret_id.is_empty() || tmp_secret_key.is_empty() || answer.expired_time == 0 {
        return Err(CredentialsError::new(
            CredentialsErrorKind::Fetch,
            format!("{what}: the answer lacks TmpSecretId, TmpSecretKey or ExpiredTime"),
        ));
    }
    let credentials =
        Credentials::new(tmp_secret_id, tmp_secret_key).with_expiry(unix_time(answer.expired_time));
    Ok(if token.is_empty() {
        credentials
    } else {
        credentials.with_session_token(token)
    })
}
