//! The secret id, secret key and session token that requests are signed with.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use zeroize::Zeroizing;

use super::{CredentialsError, EnvironmentProvider};

/// What requests are signed with: a secret id, a secret key and, for
/// temporary credentials, a session token and the time they expire.
///
/// One value is one consistent snapshot: the id, the key and the token
/// always belong together. Clones share one allocation, so a clone is an
/// atomic increment.
///
/// `Debug` and `Display` show the secret id only; the key and the token are
/// redacted, and they are zeroed in memory when the last clone is dropped.
///
/// ```
/// use tower_tencentcloud::sign::Credentials;
///
/// let credentials = Credentials::new("AKIDEXAMPLE", "secret-key").with_session_token("token");
/// assert_eq!(credentials.secret_id(), "AKIDEXAMPLE");
/// assert!(credentials.has_session_token());
/// assert_eq!(credentials.expiry(), None);
/// assert!(!format!("{credentials:?} {credentials}").contains("secret-key"));
/// ```
#[derive(Clone)]
pub struct Credentials(Arc<Inner>);

#[derive(Clone)]
struct Inner {
    secret_id: Box<str>,
    secret_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
    expiry: Option<SystemTime>,
}

impl Credentials {
    /// Long-term credentials: a secret id and its secret key.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self(Arc::new(Inner {
            secret_id: secret_id.into().into_boxed_str(),
            secret_key: Zeroizing::new(secret_key.into()),
            session_token: None,
            expiry: None,
        }))
    }

    /// Adds the session token of temporary credentials, sent as `X-TC-Token`.
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.0).session_token = Some(Zeroizing::new(token.into()));
        self
    }

    /// Sets the time the credentials stop being accepted.
    ///
    /// [`CredentialsCache`](crate::credentials::CredentialsCache) refreshes
    /// them ahead of it and never signs with them past it.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use tower_tencentcloud::sign::Credentials;
    ///
    /// let expiry = SystemTime::now() + Duration::from_secs(3600);
    /// let credentials = Credentials::new("AKIDEXAMPLE", "key").with_expiry(expiry);
    /// assert_eq!(credentials.expiry(), Some(expiry));
    /// ```
    pub fn with_expiry(mut self, expiry: SystemTime) -> Self {
        Arc::make_mut(&mut self.0).expiry = Some(expiry);
        self
    }

    /// Reads the credentials from the environment, as
    /// [`EnvironmentProvider`] does: every spelling of the variables that
    /// the official SDKs, serverless functions and tccli use.
    ///
    /// Like the official SDKs, an empty id or key counts as missing.
    ///
    /// ```
    /// use tower_tencentcloud::sign::Credentials;
    ///
    /// match Credentials::from_env() {
    ///     Ok(credentials) => println!("signing as {credentials}"),
    ///     // The error names the variable, never a value.
    ///     Err(err) => println!("no credentials: {err}"),
    /// }
    /// ```
    pub fn from_env() -> Result<Self, CredentialsError> {
        EnvironmentProvider::new().read()
    }

    /// The secret id, which the `Authorization` header carries in clear.
    pub fn secret_id(&self) -> &str {
        &self.0.secret_id
    }

    /// Whether these are temporary credentials with a session token.
    pub fn has_session_token(&self) -> bool {
        self.0.session_token.is_some()
    }

    /// When the credentials expire; `None` for long-term credentials.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.0.expiry
    }

    pub(crate) fn secret_key(&self) -> &str {
        &self.0.secret_key
    }

    pub(crate) fn session_token(&self) -> Option<&str> {
        self.0.session_token.as_deref().map(String::as_str)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.0.secret_id)
            .field("secret_key", &"<redacted>")
            .field(
                "session_token",
                &self.0.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiry", &self.0.expiry)
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.secret_id)?;
        if self.0.session_token.is_some() {
            f.write_str(" (temporary)")?;
        }
        Ok(())
    }
}
