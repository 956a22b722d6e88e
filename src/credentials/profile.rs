//! [`ProfileProvider`]: credentials from the ini file the official SDKs and
//! tccli read.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::{
    Credentials, CredentialsError, CredentialsErrorKind, CredentialsFuture, ProvideCredentials,
};

/// The environment variable naming the profile file.
pub const CREDENTIALS_FILE_VAR: &str = "TENCENTCLOUD_CREDENTIALS_FILE";

/// The profile file of the system, read when neither the variable nor the
/// user's file is there.
pub const SYSTEM_CREDENTIALS_FILE: &str = "/etc/tencentcloud/credentials";

/// The profile read unless another is named.
pub const DEFAULT_PROFILE: &str = "default";

/// Credentials from a profile file:
///
/// ```ini
/// [default]
/// secret_id = AKIDEXAMPLE
/// secret_key = secret-key
/// ; optional, for temporary credentials
/// token = session-token
/// ```
///
/// The file is `TENCENTCLOUD_CREDENTIALS_FILE` if set, else
/// `~/.tencentcloud/credentials`, else `/etc/tencentcloud/credentials`;
/// the section is `[default]` unless [`profile`](Self::profile) names
/// another. The file is read on every call.
///
/// Errors name the file, the profile and the key, and for a syntax error
/// the line and column; they never quote the file's text.
///
/// ```
/// use tower_tencentcloud::credentials::ProfileProvider;
///
/// let provider = ProfileProvider::new().profile("production");
/// # let _ = provider;
/// ```
#[derive(Debug, Clone)]
pub struct ProfileProvider {
    file: Option<PathBuf>,
    profile: String,
}

impl ProfileProvider {
    /// The `[default]` profile of the file found as described above.
    pub fn new() -> Self {
        Self {
            file: None,
            profile: DEFAULT_PROFILE.to_owned(),
        }
    }

    /// Reads `path` instead of searching for the file.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// Reads the section `[name]`.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = name.into();
        self
    }

    /// The credentials the file holds now.
    pub fn read(&self) -> Result<Credentials, CredentialsError> {
        let path = match &self.file {
            Some(path) => path.clone(),
            None => find_file(std::env::var_os(CREDENTIALS_FILE_VAR), home_dir())?,
        };
        let text = std::fs::read_to_string(&path).map_err(|err| {
            CredentialsError::new(CredentialsErrorKind::Profile, format!("{}", path.display()))
                .with_source(err)
        })?;
        // The file holds the key: zeroed once parsed.
        let text = Zeroizing::new(text);
        parse(&text, &self.profile).map_err(|detail| {
            CredentialsError::new(
                CredentialsErrorKind::Profile,
                format!("{}: {detail}", path.display()),
            )
        })
    }
}

impl Default for ProfileProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl ProvideCredentials for ProfileProvider {
    fn provide_credentials(&self) -> CredentialsFuture {
        CredentialsFuture::ready(self.read())
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(PathBuf::from)
}

/// The variable's file if set; else the first of the user's and the
/// system's files that exists.
fn find_file(
    variable: Option<OsString>,
    home: Option<PathBuf>,
) -> Result<PathBuf, CredentialsError> {
    if let Some(path) = variable.filter(|path| !path.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let user = home.map(|home| home.join(".tencentcloud").join("credentials"));
    user.into_iter()
        .chain([PathBuf::from(SYSTEM_CREDENTIALS_FILE)])
        .find(|path| Path::new(path).is_file())
        .ok_or_else(|| {
            CredentialsError::new(
                CredentialsErrorKind::NotSet,
                format!(
                    "no profile file: {CREDENTIALS_FILE_VAR} is not set, and neither \
                     ~/.tencentcloud/credentials nor {SYSTEM_CREDENTIALS_FILE} exists"
                ),
            )
        })
}

/// The credentials of `[profile]`; the error says what is wrong, without
/// the text.
fn parse(text: &str, profile: &str) -> Result<Credentials, String> {
    let ini = ini::Ini::load_from_str(text).map_err(|err| {
        // The parser's message may quote the text it choked on: only the
        // position is kept.
        format!("not an ini file (line {}, column {})", err.line, err.col)
    })?;
    let section = ini
        .section(Some(profile))
        .ok_or_else(|| format!("no profile [{profile}]"))?;
    let value = |key: &str| {
        section
            .get(key)
            .map(str::trim)
            .filter(|value| !value.is_empty())
    };
    let required =
        |key: &str| value(key).ok_or_else(|| format!("profile [{profile}] has no {key}"));
    let credentials = Credentials::new(required("secret_id")?, required("secret_key")?);
    Ok(match value("token") {
        Some(token) => credentials.with_session_token(token),
        None => credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_default_and_a_named_profile() {
        let text = "[default]\nsecret_id = AKIDDEFAULT\nsecret_key = default-key\n\n\
                    [prod]\nsecret_id=AKIDPROD\nsecret_key=prod-key\ntoken=prod-token\n";
        let default = parse(text, DEFAULT_PROFILE).unwrap();
        assert_eq!(default.secret_id(), "AKIDDEFAULT");
        assert_eq!(default.secret_key(), "default-key");
        assert!(!default.has_session_token());
        let prod = parse(text, "prod").unwrap();
        assert_eq!(prod.secret_id(), "AKIDPROD");
        assert_eq!(prod.session_token(), Some("prod-token"));
    }

    #[test]
    fn errors_name_the_profile_and_key_never_the_text() {
        let text = "[default]\nsecret_id = AKIDDEFAULT\nsecret_key = \n";
        assert_eq!(
            parse(text, DEFAULT_PROFILE).unwrap_err(),
            "profile [default] has no secret_key"
        );
        assert_eq!(parse(text, "prod").unwrap_err(), "no profile [prod]");

        let broken = "[default\nsecret_key = hunter2-secret\n";
        let err = parse(broken, DEFAULT_PROFILE).unwrap_err();
        assert!(err.starts_with("not an ini file (line "), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn the_variable_wins_else_the_first_file_that_exists() {
        let named = find_file(Some("/some/file".into()), None).unwrap();
        assert_eq!(named, PathBuf::from("/some/file"));

        let home = std::env::temp_dir().join(format!("tc-profile-{}", std::process::id()));
        std::fs::create_dir_all(home.join(".tencentcloud")).unwrap();
        std::fs::write(home.join(".tencentcloud/credentials"), "[default]\n").unwrap();
        let found = find_file(None, Some(home.clone())).unwrap();
        assert_eq!(found, home.join(".tencentcloud/credentials"));
        std::fs::remove_dir_all(&home).unwrap();
    }
}
