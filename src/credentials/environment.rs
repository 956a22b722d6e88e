//! [`EnvironmentProvider`]: credentials from environment variables, in
//! every spelling the platforms use.

use std::ffi::OsString;
use std::sync::Arc;

use zeroize::Zeroizing;

use super::{
    Credentials, CredentialsError, CredentialsErrorKind, CredentialsFuture, ProvideCredentials,
};

/// The environment variable holding the secret id, as the official SDKs read it.
pub const SECRET_ID_VAR: &str = "TENCENTCLOUD_SECRET_ID";

/// The environment variable holding the secret key, as the official SDKs read it.
pub const SECRET_KEY_VAR: &str = "TENCENTCLOUD_SECRET_KEY";

/// The environment variable holding the session token of temporary credentials.
pub const SESSION_TOKEN_VAR: &str = "TENCENTCLOUD_SESSION_TOKEN";

/// The secret id as serverless functions (SCF) inject it.
pub const SECRETID_VAR: &str = "TENCENTCLOUD_SECRETID";

/// The secret key as serverless functions (SCF) inject it.
pub const SECRETKEY_VAR: &str = "TENCENTCLOUD_SECRETKEY";

/// The session token as serverless functions (SCF) inject it.
pub const SESSIONTOKEN_VAR: &str = "TENCENTCLOUD_SESSIONTOKEN";

/// The session token as terraform and tccli read it.
pub const SECURITY_TOKEN_VAR: &str = "TENCENTCLOUD_SECURITY_TOKEN";

/// Each value's spellings, in the order they are read: the first one set
/// and not empty wins.
const SECRET_ID_VARS: [&str; 2] = [SECRET_ID_VAR, SECRETID_VAR];
const SECRET_KEY_VARS: [&str; 2] = [SECRET_KEY_VAR, SECRETKEY_VAR];
const SESSION_TOKEN_VARS: [&str; 3] = [SESSION_TOKEN_VAR, SESSIONTOKEN_VAR, SECURITY_TOKEN_VAR];

type Lookup = dyn Fn(&'static str) -> Option<OsString> + Send + Sync;

/// Credentials from the process environment.
///
/// | value | variables, first set wins |
/// |---|---|
/// | secret id | `TENCENTCLOUD_SECRET_ID`, `TENCENTCLOUD_SECRETID` |
/// | secret key | `TENCENTCLOUD_SECRET_KEY`, `TENCENTCLOUD_SECRETKEY` |
/// | session token (optional) | `TENCENTCLOUD_SESSION_TOKEN`, `TENCENTCLOUD_SESSIONTOKEN`, `TENCENTCLOUD_SECURITY_TOKEN` |
///
/// An empty variable counts as unset. The variables are read on every
/// call; an error names the first spelling of what is missing, never a
/// value.
///
/// ```
/// use tower_tencentcloud::credentials::EnvironmentProvider;
///
/// let provider = EnvironmentProvider::new();
/// match provider.read() {
///     Ok(credentials) => println!("signing as {credentials}"),
///     Err(err) => println!("{err}"),
/// }
/// ```
#[derive(Clone)]
pub struct EnvironmentProvider {
    lookup: Arc<Lookup>,
}

impl EnvironmentProvider {
    /// Reads the process environment.
    pub fn new() -> Self {
        Self::from_lookup(std::env::var_os)
    }

    /// Reads variables from `lookup` instead, so that a test need not change
    /// the process environment.
    pub(crate) fn from_lookup(
        lookup: impl Fn(&'static str) -> Option<OsString> + Send + Sync + 'static,
    ) -> Self {
        Self {
            lookup: Arc::new(lookup),
        }
    }

    /// The credentials the variables hold now.
    pub fn read(&self) -> Result<Credentials, CredentialsError> {
        let required = |variables: &[&'static str]| match self.first(variables)? {
            Some(value) => Ok(value),
            None => Err(CredentialsError::for_variable(
                variables[0],
                CredentialsErrorKind::NotSet,
            )),
        };
        let secret_id = required(&SECRET_ID_VARS)?;
        let secret_key = required(&SECRET_KEY_VARS)?;
        let credentials = Credentials::new(secret_id.to_string(), secret_key.to_string());
        Ok(match self.first(&SESSION_TOKEN_VARS)? {
            Some(token) => credentials.with_session_token(token.to_string()),
            None => credentials,
        })
    }

    /// The first of `variables` set and not empty. Values are zeroed on
    /// drop because they may be the secret key.
    fn first(
        &self,
        variables: &[&'static str],
    ) -> Result<Option<Zeroizing<String>>, CredentialsError> {
        for &variable in variables {
            let Some(value) = (self.lookup)(variable) else {
                continue;
            };
            // `into_string` hands the value back on failure; it is dropped unread.
            let value = value.into_string().map_err(|_| {
                CredentialsError::for_variable(variable, CredentialsErrorKind::NotUnicode)
            })?;
            let value = Zeroizing::new(value);
            if !value.is_empty() {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }
}

impl Default for EnvironmentProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for EnvironmentProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvironmentProvider")
            .finish_non_exhaustive()
    }
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide_credentials(&self) -> CredentialsFuture {
        CredentialsFuture::ready(self.read())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn provider(vars: &[(&'static str, &str)]) -> EnvironmentProvider {
        let vars: HashMap<_, _> = vars
            .iter()
            .map(|(name, value)| (*name, OsString::from(value)))
            .collect();
        EnvironmentProvider::from_lookup(move |name| vars.get(name).cloned())
    }

    #[test]
    fn reads_id_key_and_token() {
        let credentials = provider(&[
            (SECRET_ID_VAR, "AKIDEXAMPLE"),
            (SECRET_KEY_VAR, "key"),
            (SESSION_TOKEN_VAR, "token"),
        ])
        .read()
        .unwrap();
        assert_eq!(credentials.secret_id(), "AKIDEXAMPLE");
        assert_eq!(credentials.secret_key(), "key");
        assert_eq!(credentials.session_token(), Some("token"));
    }

    #[test]
    fn reads_the_serverless_and_tccli_spellings() {
        let credentials = provider(&[
            (SECRETID_VAR, "AKIDSCF"),
            (SECRETKEY_VAR, "scf-key"),
            (SESSIONTOKEN_VAR, "scf-token"),
        ])
        .read()
        .unwrap();
        assert_eq!(credentials.secret_id(), "AKIDSCF");
        assert_eq!(credentials.secret_key(), "scf-key");
        assert_eq!(credentials.session_token(), Some("scf-token"));

        let credentials = provider(&[
            (SECRET_ID_VAR, "AKIDTF"),
            (SECRET_KEY_VAR, "tf-key"),
            (SECURITY_TOKEN_VAR, "tf-token"),
        ])
        .read()
        .unwrap();
        assert_eq!(credentials.session_token(), Some("tf-token"));
    }

    #[test]
    fn the_sdk_spelling_wins_and_empty_ones_are_skipped() {
        let credentials = provider(&[
            (SECRET_ID_VAR, ""),
            (SECRETID_VAR, "AKIDSCF"),
            (SECRET_KEY_VAR, "sdk-key"),
            (SECRETKEY_VAR, "scf-key"),
            (SESSION_TOKEN_VAR, ""),
        ])
        .read()
        .unwrap();
        assert_eq!(credentials.secret_id(), "AKIDSCF");
        assert_eq!(credentials.secret_key(), "sdk-key");
        assert!(!credentials.has_session_token());
    }

    #[test]
    fn a_missing_or_empty_variable_is_named() {
        let err = provider(&[(SECRET_KEY_VAR, "key")]).read().unwrap_err();
        assert_eq!(err.variable(), Some(SECRET_ID_VAR));
        assert_eq!(err.kind(), CredentialsErrorKind::NotSet);

        let err = provider(&[(SECRET_ID_VAR, "AKIDEXAMPLE"), (SECRET_KEY_VAR, "")])
            .read()
            .unwrap_err();
        assert_eq!(err.variable(), Some(SECRET_KEY_VAR));
        assert_eq!(
            err.to_string(),
            "no credentials configured: environment variable TENCENTCLOUD_SECRET_KEY is not set or empty"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_non_unicode_key_is_an_error_without_the_value() {
        use std::os::unix::ffi::OsStringExt;

        let err = EnvironmentProvider::from_lookup(|name| match name {
            SECRET_ID_VAR => Some(OsString::from("AKIDEXAMPLE")),
            SECRET_KEY_VAR => Some(OsString::from_vec(b"s3cr\xffet".to_vec())),
            _ => None,
        })
        .read()
        .unwrap_err();
        assert_eq!(err.kind(), CredentialsErrorKind::NotUnicode);
        assert!(!format!("{err} {err:?}").contains("s3cr"));
    }
}
