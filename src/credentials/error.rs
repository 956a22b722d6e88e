//! Why no credentials could be had.

use std::sync::Arc;

use crate::error::{BoxError, Error, LayerError};
use crate::retry_class::RetryClass;

define_kind_error! {
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
    ///     // no credentials configured: environment variable TENCENTCLOUD_SECRET_ID is not set or empty
    ///     println!("{err}");
    /// }
    /// ```
    #[derive(Debug, Clone)]
    pub struct CredentialsError {
        variable: Option<&'static str>,
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    }

    /// The kinds of [`CredentialsError`].
    pub enum CredentialsErrorKind {
        /// A variable or setting the source needs is not set, or empty; or no
        /// source of a chain applies.
        NotSet => "no credentials configured",
        /// A variable's value is not valid Unicode.
        NotUnicode => "a credential is not valid Unicode",
        /// The profile file cannot be read, is not ini, or lacks the profile or
        /// one of its keys.
        Profile => "cannot read credentials from the profile file",
        /// The source could not be reached, or answered with an HTTP error or
        /// something that is not credentials.
        Fetch => "cannot fetch credentials",
        /// STS answered with an API error ([`source`](std::error::Error::source)
        /// is the crate's [`Error`]).
        Api => "the credentials service answered with an error",
        /// The source did not answer within the fetch timeout.
        Timeout => "fetching credentials timed out",
        /// The credentials in hand are past their expiry and the refresh
        /// failed ([`source`](std::error::Error::source) is why).
        Expired => "the credentials expired and refreshing them failed",
    }
}

impl CredentialsError {
    /// An environment variable at fault.
    pub(crate) fn for_variable(variable: &'static str, kind: CredentialsErrorKind) -> Self {
        let detail = match kind {
            CredentialsErrorKind::NotUnicode => format!("environment variable {variable}"),
            _ => format!("environment variable {variable} is not set or empty"),
        };
        Self {
            variable: Some(variable),
            ..Self::new(kind, detail)
        }
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(Arc::from(source.into()));
        self
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

impl_kind_error_display!(CredentialsError);

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
