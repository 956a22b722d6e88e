//! The secret id, secret key and session token that requests are signed with.

use std::ffi::OsString;
use std::fmt;

use zeroize::Zeroizing;

/// The environment variable holding the secret id, as the official SDKs read it.
pub const SECRET_ID_VAR: &str = "TENCENTCLOUD_SECRET_ID";

/// The environment variable holding the secret key, as the official SDKs read it.
pub const SECRET_KEY_VAR: &str = "TENCENTCLOUD_SECRET_KEY";

/// The environment variable holding the session token of temporary credentials.
///
/// The official SDKs read only the id and the key from the environment;
/// this crate also reads the token of temporary credentials, from this
/// variable.
pub const SESSION_TOKEN_VAR: &str = "TENCENTCLOUD_SESSION_TOKEN";

/// What requests are signed with: a secret id, a secret key and, for
/// temporary credentials, a session token.
///
/// `Debug` and `Display` show the secret id only; the key and the token are
/// redacted, and each copy of them is zeroed in memory when dropped.
///
/// ```
/// use tower_tencentcloud::sign::Credentials;
///
/// let credentials = Credentials::new("AKIDEXAMPLE", "secret-key").with_session_token("token");
/// assert_eq!(credentials.secret_id(), "AKIDEXAMPLE");
/// assert!(credentials.has_session_token());
/// assert!(!format!("{credentials:?} {credentials}").contains("secret-key"));
/// ```
#[derive(Clone)]
pub struct Credentials {
    secret_id: Box<str>,
    secret_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

impl Credentials {
    /// Long-term credentials: a secret id and its secret key.
    pub fn new(secret_id: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            secret_id: secret_id.into().into_boxed_str(),
            secret_key: Zeroizing::new(secret_key.into()),
            session_token: None,
        }
    }

    /// Adds the session token of temporary credentials, sent as `X-TC-Token`.
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(Zeroizing::new(token.into()));
        self
    }

    /// Reads [`SECRET_ID_VAR`], [`SECRET_KEY_VAR`] and, if set and not empty,
    /// [`SESSION_TOKEN_VAR`].
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
        Self::from_lookup(std::env::var_os)
    }

    /// [`from_env`](Self::from_env) over any source of variables, so that it
    /// can be tested without changing the process environment.
    pub(crate) fn from_lookup(
        lookup: impl Fn(&'static str) -> Option<OsString>,
    ) -> Result<Self, CredentialsError> {
        let required = |variable| match read(&lookup, variable)? {
            Some(value) => Ok(value),
            None => Err(CredentialsError::new(
                variable,
                CredentialsErrorKind::NotSet,
            )),
        };
        let secret_id = required(SECRET_ID_VAR)?;
        let secret_key = required(SECRET_KEY_VAR)?;
        let credentials = Self::new(secret_id.to_string(), secret_key.to_string());
        Ok(match read(&lookup, SESSION_TOKEN_VAR)? {
            Some(token) => credentials.with_session_token(token.to_string()),
            None => credentials,
        })
    }

    /// The secret id, which the `Authorization` header carries in clear.
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// Whether these are temporary credentials with a session token.
    pub fn has_session_token(&self) -> bool {
        self.session_token.is_some()
    }

    pub(crate) fn secret_key(&self) -> &str {
        &self.secret_key
    }

    pub(crate) fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref().map(String::as_str)
    }
}

/// One variable; `None` when unset or empty. The value is zeroed on drop
/// because it may be the secret key.
fn read(
    lookup: &impl Fn(&'static str) -> Option<OsString>,
    variable: &'static str,
) -> Result<Option<Zeroizing<String>>, CredentialsError> {
    let Some(value) = lookup(variable) else {
        return Ok(None);
    };
    // `into_string` hands the value back on failure; it is dropped unread.
    let value = value
        .into_string()
        .map_err(|_| CredentialsError::new(variable, CredentialsErrorKind::NotUnicode))?;
    let value = Zeroizing::new(value);
    Ok((!value.is_empty()).then_some(value))
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.secret_id)?;
        if self.session_token.is_some() {
            f.write_str(" (temporary)")?;
        }
        Ok(())
    }
}

/// [`Credentials::from_env`] found no usable credentials.
///
/// Names the variable (`environment variable TENCENTCLOUD_SECRET_ID is not
/// set or empty`); never holds its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialsError {
    variable: &'static str,
    kind: CredentialsErrorKind,
}

impl CredentialsError {
    fn new(variable: &'static str, kind: CredentialsErrorKind) -> Self {
        Self { variable, kind }
    }

    /// The environment variable at fault.
    pub fn variable(&self) -> &'static str {
        self.variable
    }

    /// What is wrong with it.
    pub fn kind(&self) -> CredentialsErrorKind {
        self.kind
    }
}

impl fmt::Display for CredentialsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            CredentialsErrorKind::NotSet => "is not set or empty",
            CredentialsErrorKind::NotUnicode => "is not valid Unicode",
        };
        write!(f, "environment variable {} {what}", self.variable)
    }
}

impl std::error::Error for CredentialsError {}

/// The kinds of [`CredentialsError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialsErrorKind {
    /// The variable is not set, or set to the empty string.
    NotSet,
    /// The variable's value is not valid Unicode.
    NotUnicode,
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(vars: &[(&'static str, &str)]) -> impl Fn(&'static str) -> Option<OsString> + use<> {
        let vars: HashMap<_, _> = vars
            .iter()
            .map(|(name, value)| (*name, OsString::from(value)))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn reads_id_key_and_token() {
        let credentials = Credentials::from_lookup(lookup(&[
            (SECRET_ID_VAR, "AKIDEXAMPLE"),
            (SECRET_KEY_VAR, "key"),
            (SESSION_TOKEN_VAR, "token"),
        ]))
        .unwrap();
        assert_eq!(credentials.secret_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.secret_key(), "key");
        assert_eq!(credentials.session_token(), Some("token"));
    }

    #[test]
    fn an_empty_token_means_long_term_credentials() {
        let credentials = Credentials::from_lookup(lookup(&[
            (SECRET_ID_VAR, "AKIDEXAMPLE"),
            (SECRET_KEY_VAR, "key"),
            (SESSION_TOKEN_VAR, ""),
        ]))
        .unwrap();
        assert!(!credentials.has_session_token());
    }

    #[test]
    fn a_missing_or_empty_variable_is_named() {
        let err = Credentials::from_lookup(lookup(&[(SECRET_KEY_VAR, "key")])).unwrap_err();
        assert_eq!(err.variable(), SECRET_ID_VAR);
        assert_eq!(err.kind(), CredentialsErrorKind::NotSet);

        let err = Credentials::from_lookup(lookup(&[
            (SECRET_ID_VAR, "AKIDEXAMPLE"),
            (SECRET_KEY_VAR, ""),
        ]))
        .unwrap_err();
        assert_eq!(err.variable(), SECRET_KEY_VAR);
        assert_eq!(err.kind(), CredentialsErrorKind::NotSet);
    }

    #[cfg(unix)]
    #[test]
    fn a_non_unicode_key_is_an_error_without_the_value() {
        use std::os::unix::ffi::OsStringExt;

        let err = Credentials::from_lookup(|name| match name {
            SECRET_ID_VAR => Some(OsString::from("AKIDEXAMPLE")),
            SECRET_KEY_VAR => Some(OsString::from_vec(b"s3cr\xffet".to_vec())),
            _ => None,
        })
        .unwrap_err();
        assert_eq!(err.kind(), CredentialsErrorKind::NotUnicode);
        assert!(!format!("{err} {err:?}").contains("s3cr"));
    }
}
