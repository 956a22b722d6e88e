//! [`DefaultChain`]: the first source that applies, in the official SDKs'
//! order.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use tower::Service;

use super::{
    CredentialsError, CredentialsErrorKind, CredentialsFuture, CvmRoleProvider,
    EnvironmentProvider, ProfileProvider, ProvideCredentials, WebIdentityProvider,
};
use crate::error::BoxError;

/// The sources of the chain, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Environment,
    Profile,
    CvmRole,
    WebIdentity,
}

impl Source {
    const ALL: [Source; 4] = [
        Source::Environment,
        Source::Profile,
        Source::CvmRole,
        Source::WebIdentity,
    ];

    fn name(self) -> &'static str {
        match self {
            Source::Environment => "environment",
            Source::Profile => "profile file",
            Source::CvmRole => "CVM instance role",
            Source::WebIdentity => "TKE web identity",
        }
    }
}

/// The credentials of the first source that answers: the
/// [environment](EnvironmentProvider), the [profile file](ProfileProvider),
/// the [CVM instance role](CvmRoleProvider), the
/// [TKE web identity](WebIdentityProvider) (when `TKE_*` is set).
///
/// The first success decides the source for good; the choice is logged
/// once, at INFO, with why each earlier source did not apply (never a
/// secret). Until one applies, every call tries them all again, and the
/// error lists each one's reason.
///
/// It fetches on every call: sign through
/// [`SignLayer::with_provider`](crate::sign::SignLayer::with_provider),
/// which caches it.
///
/// ```
/// use tower_tencentcloud::credentials::DefaultChain;
/// use tower_tencentcloud::sign::SignLayer;
///
/// # fn run() {
/// let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
///     .build_http::<http_body_util::Full<bytes::Bytes>>();
/// let layer = SignLayer::with_provider(DefaultChain::new(client));
/// # let _ = layer;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DefaultChain<T> {
    environment: EnvironmentProvider,
    profile: ProfileProvider,
    cvm_role: CvmRoleProvider<T>,
    web_identity: Result<WebIdentityProvider<T>, CredentialsError>,
    chosen: Arc<OnceLock<Source>>,
}

impl<T: Clone> DefaultChain<T> {
    /// The chain, with the metadata server and STS reached through
    /// `transport`.
    pub fn new(transport: T) -> Self {
        Self {
            environment: EnvironmentProvider::new(),
            profile: ProfileProvider::new(),
            cvm_role: CvmRoleProvider::new(transport.clone()),
            web_identity: WebIdentityProvider::from_env(transport),
            chosen: Arc::new(OnceLock::new()),
        }
    }
}

impl<T> DefaultChain<T> {
    /// Reads this profile file (or profile) instead.
    pub fn profile(mut self, profile: ProfileProvider) -> Self {
        self.profile = profile;
        self
    }

    /// Asks the metadata server as `provider` does (another endpoint, a
    /// known role).
    pub fn cvm_role(mut self, provider: CvmRoleProvider<T>) -> Self {
        self.cvm_role = provider;
        self
    }

    /// Uses this web identity instead of the one `TKE_*` describes.
    pub fn web_identity(mut self, provider: WebIdentityProvider<T>) -> Self {
        self.web_identity = Ok(provider);
        self
    }
}

impl<T, RB> DefaultChain<T>
where
    T: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone + Send + Sync + 'static,
    T::Error: Into<BoxError>,
    T::Future: Send,
    RB: Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    fn source(&self, source: Source) -> CredentialsFuture {
        match source {
            Source::Environment => self.environment.provide_credentials(),
            Source::Profile => self.profile.provide_credentials(),
            Source::CvmRole => self.cvm_role.provide_credentials(),
            Source::WebIdentity => match &self.web_identity {
                Ok(provider) => provider.provide_credentials(),
                Err(err) => CredentialsFuture::ready(Err(err.clone())),
            },
        }
    }
}

impl<T, RB> ProvideCredentials for DefaultChain<T>
where
    T: Service<Request<Full<Bytes>>, Response = Response<RB>> + Clone + Send + Sync + 'static,
    T::Error: Into<BoxError>,
    T::Future: Send,
    RB: Body<Data = Bytes> + Send + 'static,
    RB::Error: Into<BoxError>,
{
    fn provide_credentials(&self) -> CredentialsFuture {
        if let Some(&source) = self.chosen.get() {
            return self.source(source);
        }
        let this = self.clone();
        CredentialsFuture::new(async move {
            let mut skipped = String::new();
            for source in Source::ALL {
                match this.source(source).await {
                    Ok(credentials) => {
                        if this.chosen.set(source).is_ok() {
                            tracing::info!(
                                source = source.name(),
                                secret_id = credentials.secret_id(),
                                skipped = skipped.as_str(),
                                "credentials chain chose its source"
                            );
                        }
                        return Ok(credentials);
                    }
                    Err(err) => {
                        if !skipped.is_empty() {
                            skipped.push_str("; ");
                        }
                        let _ = write!(skipped, "{}: {err}", source.name());
                    }
                }
            }
            Err(CredentialsError::new(
                CredentialsErrorKind::NotSet,
                format!("no source of the default chain applies ({skipped})"),
            ))
        })
    }
}
