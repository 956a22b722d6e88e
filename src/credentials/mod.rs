//! Credentials, and the sources that provide and rotate them.
//!
//! - [`Credentials`]: one consistent snapshot of a secret id, a secret key,
//!   an optional session token and an optional expiry, redacted in every
//!   `Debug` and `Display`.
//! - [`ProvideCredentials`]: a source. Fixed [`Credentials`] are one;
//!   so are [`EnvironmentProvider`], [`ProfileProvider`],
//!   [`CvmRoleProvider`] (the CVM instance role), [`AssumeRoleProvider`]
//!   (STS `AssumeRole`), [`WebIdentityProvider`] (a TKE pod's OIDC token)
//!   and [`DefaultChain`] (the first of them that applies).
//! - [`CredentialsCache`]: fetches expiring credentials once per lifetime,
//!   ahead of expiry, in the background, one fetch at a time, never
//!   answering expired ones.
//!
//! [`SignLayer::with_provider`](crate::sign::SignLayer::with_provider)
//! signs with a provider behind a cache; every request is signed with one
//! snapshot, taken without waiting while valid credentials are in hand.
//!
//! ```
//! use tower::ServiceBuilder;
//! use tower_tencentcloud::EnvelopeLayer;
//! use tower_tencentcloud::credentials::DefaultChain;
//! use tower_tencentcloud::sign::SignLayer;
//!
//! # fn run() {
//! let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
//!     .build_http::<http_body_util::Full<bytes::Bytes>>();
//! let service = ServiceBuilder::new()
//!     .layer(SignLayer::with_provider(DefaultChain::new(client.clone())))
//!     .layer(EnvelopeLayer::new())
//!     .service(client);
//! # let _ = service;
//! # }
//! ```

mod cache;
mod chain;
#[allow(clippy::module_inception)]
mod credentials;
mod cvm;
mod environment;
mod error;
mod profile;
mod provide;
mod sts;
mod transport;
mod web_identity;

pub use cache::{
    CredentialsCache, CredentialsCacheBuilder, DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_BACKOFF,
    DEFAULT_MIN_BACKOFF, DEFAULT_REFRESH_MARGIN,
};
pub use chain::DefaultChain;
pub use credentials::Credentials;
pub use cvm::{
    CvmRoleProvider, DEFAULT_METADATA_TIMEOUT, METADATA_ENDPOINT, SECURITY_CREDENTIALS_PATH,
};
pub use environment::{
    EnvironmentProvider, SECRET_ID_VAR, SECRET_KEY_VAR, SECRETID_VAR, SECRETKEY_VAR,
    SECURITY_TOKEN_VAR, SESSION_TOKEN_VAR, SESSIONTOKEN_VAR,
};
pub use error::{CredentialsError, CredentialsErrorKind};
pub use profile::{
    CREDENTIALS_FILE_VAR, DEFAULT_PROFILE, ProfileProvider, SYSTEM_CREDENTIALS_FILE,
};
pub use provide::{CredentialsFuture, ProvideCredentials};
pub use sts::{AssumeRoleProvider, DEFAULT_DURATION, DEFAULT_STS_REGION, STS_SERVICE, STS_VERSION};
pub use web_identity::{
    TKE_PROVIDER_ID_VAR, TKE_REGION_VAR, TKE_ROLE_ARN_VAR, TKE_WEB_IDENTITY_TOKEN_FILE_VAR,
    WEB_IDENTITY_ACTION, WebIdentityProvider,
};
