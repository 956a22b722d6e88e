//! Why no credentials could be had.

use std::fmt;
use std::sync::Arc;

use crate::error::{BoxError, Error, LayerError};
use crate::retry_class::RetryClass;

/// No usable credentials: a source is not configured, could not be read or
/// reached, answered with an error, took too long, or the credentials in
/// hand expired and could not be refreshed.
///
/// Reaches callers of [`SignLayer`](crate::sign::SignLayer) inside
/// [`Error::Layer`]; the request was not sent. A failure to reach a source
/// ([`Fetch`](CredentialsErrorKind::Fetch),
/// [`Timeout`](CredentialsErrorKind::Timeout),
/// [`Expired`](CredentialsErrorKind::Expired)) is
/// [`RetryClass::Transient`]; a missing or malformed configuration is
/// [`RetryClass::Never`].
///
/// The message names the variable, file, URL path or service at fault and
/// never a secret: values read from the environment, a profile file or an
/// answer are not quoted. [`source`](std::error::Error::source) is the
/// failure underneath: the transport's error, the API's
/// [`Error`], or, for `Expired`, the failure of the last refresh.
///
/// Clones share the source, so that every caller waiting on one fetch gets
/// the same error.
///
/// ```
/// use tower_tencentcloud::credentials::CredentialsErrorKind;
/// use tower_tencentcloud::sign::Credentials;
///
/// if let Err(err) = Credentials::from_env() {
///     assert_eq!(err.kind(), CredentialsErrorKind::NotSet);
///     println!("{err}"); // environment variable TENCENTCLOUD_SECRET_ID is not set or empty
/// }
/// ```
#[derive(Debug, Clone)]
pub struct CredentialsError {
    kind: CredentialsErrorKind,
    variable: Option<&'static str>,
    detail: Box<str>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl CredentialsError {
    pub(crate) fn new(kind: CredentialsErrorKind, detail: impl Into<Box<str>>) -> Self {
        Self {
            kind,
            variable: None,
            detail: detail.into(),
            source: None,
        }
    }

    /// An environment variable at fault.
    pub(crate) fn for_variable(variable: &'static str, kind: CredentialsErrorKind) -> Self {
        Self {
            variable: Some(variable),
            ..Self::new(kind, "")
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(Arc::from(source.into()));
        self
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> CredentialsErrorKind {
        self.kind
    }

    /// The environment variable at fault, for
    /// [`NotSet`](CredentialsErrorKind::NotSet) and
    /// [`NotUnicode`](CredentialsErrorKind::NotUnicode).
    pub fn variable(&self) -> Option<&'static str> {
        self.variable
    }

    /// The failure underneath, if it is a `T`: for `Expired`, a
    /// `CredentialsError` of the last refresh; for `Api`, the crate's
    /// [`Error`].
    pub fn source_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.source.as_deref()?.downcast_ref()
    }

    /// How a retry policy should treat a call that failed with this.
    pub fn retry_class(&self) -> RetryClass {
        match self.kind {
            CredentialsErrorKind::Fetch
            | CredentialsErrorKind::Timeout
            | CredentialsErrorKind::Expired => RetryClass::Transient,
            CredentialsErrorKind::Api => self
                .source_ref::<Error>()
                .map_or(RetryClass::Never, Error::retry_class),
            _ => RetryClass::Never,
        }
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(variable) = self.variable {
            let what = match self.kind {
                CredentialsErrorKind::NotUnicode => "is not valid Unicode",
                _ => "is not set or empty",
            };
            return write!(f, "environment variable {variable} {what}");
        }
        let what = match self.kind {
            CredentialsErrorKind::NotSet => "no credentials configured",
            CredentialsErrorKind::NotUnicode => "a credential is not valid Unicode",
            CredentialsErrorKind::Profile => "cannot read credentials from the profile file",
            CredentialsErrorKind::Fetch => "cannot fetch credentials",
            CredentialsErrorKind::Api => "the credentials service answered with an error",
            CredentialsErrorKind::Timeout => "fetching credentials timed out",
            CredentialsErrorKind::Expired => "the credentials expired and refreshing them failed",
        };
        if self.detail.is_empty() {
            f.write_str(what)
        } else {
            write!(f, "{what}: {}", self.detail)
        }
    }
}

impl std::error::Error for CredentialsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl From<CredentialsError> for Error {
    fn from(err: CredentialsError) -> Self {
        let retry_class = err.retry_class();
        Error::Layer(LayerError::new(err, retry_class))
    }
}

/// The kinds of [`CredentialsError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialsErrorKind {
    /// A variable or setting the source needs is not set, or empty; or no
    /// source of a chain applies.
    NotSet,
    /// A variable's value is not valid Unicode.
    NotUnicode,
    /// The profile file cannot be read, is not ini, or lacks the profile or
    /// one of its keys.
    Profile,
    /// The source could not be reached, or answered with an HTTP error or
    /// something that is not credentials.
    Fetch,
    /// STS answered with an API error ([`source`](std::error::Error::source)
    /// is the crate's [`Error`]).
    Api,
    /// The source did not answer within the fetch timeout.
    Timeout,
    /// The credentials in hand are past their expiry and the refresh
    /// failed ([`source`](std::error::Error::source) is why).
    Expired,
}
