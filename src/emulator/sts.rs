//! STS `2018-08-13`: `AssumeRole` (signed) and `AssumeRoleWithWebIdentity`
//! (unsigned), and the temporary credentials the emulator issues, through
//! STS or the metadata server, and accepts until they expire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;
use tokio::time::Instant;

use super::cvm::CvmCall;
use super::metadata::MetadataState;
use super::params::{Params, RawParams};
use super::reply::{self, ApiFailure};
use super::{EmulatorBuilder, EmulatorService};
use crate::date::utc_date;
use crate::sign::Credentials;

/// The service name.
pub(crate) const SERVICE: &str = "sts";
/// The version it answers.
pub(crate) const VERSION: &str = "2018-08-13";
/// The actions it answers.
const ASSUME_ROLE: &str = "AssumeRole";
pub(crate) const WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";
/// The longest `DurationSeconds` STS grants.
const MAX_DURATION_SECONDS: u64 = 43_200;
/// What STS grants when `DurationSeconds` is not given.
const DEFAULT_DURATION_SECONDS: u64 = 7_200;

pub(crate) fn is_action(action: &str) -> bool {
    action == ASSUME_ROLE || action == WEB_IDENTITY
}

/// An `AssumeRoleWithWebIdentity` call sent unsigned, as the official SDKs
/// send it (`Authorization: SKIP`): the token is the proof.
pub(crate) fn is_unsigned(parts: &http::request::Parts, action: &str, version: &str) -> bool {
    action == WEB_IDENTITY
        && version == VERSION
        && parts
            .headers
            .get(http::header::AUTHORIZATION)
            .is_some_and(|value| value == "SKIP")
}

/// What the builder sets for the metadata server.
#[derive(Debug, Clone)]
pub(crate) struct CamConfig {
    pub(crate) role: Option<String>,
    pub(crate) role_lifetime: Duration,
}

impl Default for CamConfig {
    fn default() -> Self {
        Self {
            role: None,
            role_lifetime: Duration::from_secs(6 * 3600),
        }
    }
}

impl EmulatorBuilder {
    /// Binds the CAM role `name` to the emulated instance: the metadata
    /// endpoints `/latest/meta-data/cam/security-credentials/` name it and
    /// `…/{name}` answers its temporary credentials, which the emulator
    /// accepts for signing until they expire. Without a role they answer
    /// 404, as on an instance without one.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower_tencentcloud::emulator::Emulator;
    ///
    /// let emulator = Emulator::builder()
    ///     .cvm_role("app-role")
    ///     .role_credentials_lifetime(Duration::from_secs(3600))
    ///     .into_service();
    /// ```
    pub fn cvm_role(mut self, name: impl Into<String>) -> Self {
        self.cam.role = Some(name.into());
        self
    }

    /// How long the role's credentials live (6 hours unless set, as on
    /// CVM). The metadata server answers the same credentials until half
    /// of their lifetime has passed, then issues new ones.
    pub fn role_credentials_lifetime(mut self, lifetime: Duration) -> Self {
        self.cam.role_lifetime = lifetime;
        self
    }
}

/// Temporary credentials issued, by SecretId.
#[derive(Default)]
pub(crate) struct Issued {
    by_id: Mutex<HashMap<String, (Credentials, Instant)>>,
    serial: Mutex<u64>,
}

impl Issued {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (Credentials, Instant)>> {
        self.by_id.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// New credentials valid for `lifetime` from now (tokio's clock), and
    /// the Unix second they expire at on the emulator's clock `unix_now`.
    pub(crate) fn issue(&self, lifetime: Duration, unix_now: u64) -> (Credentials, u64) {
        let serial = {
            let mut serial = self.serial.lock().unwrap_or_else(PoisonError::into_inner);
            *serial += 1;
            *serial
        };
        let nonce = fastrand::u64(..);
        let expired_time = unix_now + lifetime.as_secs();
        let credentials = Credentials::new(
            format!("AKIDtmp{serial:06}{nonce:016x}"),
            format!("tmp-key-{serial}-{nonce:016x}"),
        )
        .with_session_token(format!("tmp-token-{serial}-{nonce:016x}"))
        .with_expiry(std::time::UNIX_EPOCH + Duration::from_secs(expired_time));
        self.lock().insert(
            credentials.secret_id().to_owned(),
            (credentials.clone(), Instant::now() + lifetime),
        );
        (credentials, expired_time)
    }

    /// The issued credentials of `secret_id`: `Ok(None)` if it was never
    /// issued, the API's error if it has expired.
    pub(crate) fn lookup(&self, secret_id: &str) -> Result<Option<Credentials>, ApiFailure> {
        match self.lock().get(secret_id) {
            None => Ok(None),
            Some((_, expires_at)) if Instant::now() >= *expires_at => Err(ApiFailure::new(
                "AuthFailure.TokenFailure",
                "The token has expired.",
            )),
            Some((credentials, _)) => Ok(Some(credentials.clone())),
        }
    }
}

/// The emulator's CAM: the metadata server and STS, sharing what they
/// issued.
pub(crate) struct Cam {
    pub(crate) issued: Arc<Issued>,
    pub(crate) metadata: Arc<MetadataState>,
    sts: Arc<StsState>,
}

/// What the STS endpoints saw.
#[derive(Default)]
pub(crate) struct StsState {
    assume_role: Mutex<u64>,
    web_identity_tokens: Mutex<Vec<String>>,
}

impl Cam {
    pub(crate) fn new(config: CamConfig) -> Self {
        Self {
            issued: Arc::new(Issued::default()),
            metadata: Arc::new(MetadataState::new(config)),
            sts: Arc::new(StsState::default()),
        }
    }

    /// Answers an STS action.
    pub(crate) fn call(&self, call: &CvmCall<'_>, raw: &RawParams) -> Result<Bytes, ApiFailure> {
        let params = Params::parse(raw, KNOWN_PARAMS)?;
        let role_arn = params.required_string("RoleArn")?;
        if !role_arn.starts_with("qcs::cam::") {
            return Err(ApiFailure::invalid_parameter_value(
                "RoleArn",
                "not a role ARN (qcs::cam::uin/...:roleName/...)",
            ));
        }
        params.required_string("RoleSessionName")?;
        let duration = params.integer(
            "DurationSeconds",
            DEFAULT_DURATION_SECONDS,
            1,
            MAX_DURATION_SECONDS,
        )?;
        if call.action == WEB_IDENTITY {
            params.required_string("ProviderId")?;
            let token = params.required_string("WebIdentityToken")?.to_owned();
            self.sts
                .web_identity_tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(token);
        } else {
            *self
                .sts
                .assume_role
                .lock()
                .unwrap_or_else(PoisonError::into_inner) += 1;
        }
        let (credentials, expired_time) =
            self.issued.issue(Duration::from_secs(duration), call.now);
        Ok(reply::success_envelope(
            call.request_id,
            &StsAnswer {
                credentials: StsCredentials {
                    token: credentials.session_token().unwrap_or_default(),
                    tmp_secret_id: credentials.secret_id(),
                    tmp_secret_key: credentials.secret_key(),
                },
                expired_time,
                expiration: iso8601(expired_time),
            },
        ))
    }
}

/// The parameters STS knows.
const KNOWN_PARAMS: &[&str] = &[
    "RoleArn",
    "RoleSessionName",
    "DurationSeconds",
    "Policy",
    "ExternalId",
    "Tags",
    "SourceIdentity",
    "SerialNumber",
    "TokenCode",
    "ProviderId",
    "WebIdentityToken",
];

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StsAnswer<'a> {
    credentials: StsCredentials<'a>,
    expired_time: u64,
    expiration: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials<'a> {
    token: &'a str,
    tmp_secret_id: &'a str,
    tmp_secret_key: &'a str,
}

/// `2026-12-01T21:45:00Z`, as STS and the metadata server write times.
pub(crate) fn iso8601(unix_seconds: u64) -> String {
    let seconds = unix_seconds % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        utc_date(unix_seconds),
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// What the emulator's STS saw, for tests; from [`EmulatorService::sts`].
///
/// ```
/// use tower_tencentcloud::emulator::Emulator;
///
/// let emulator = Emulator::builder().into_service();
/// assert_eq!(emulator.sts().assume_role_calls(), 0);
/// ```
#[derive(Clone)]
pub struct StsRecord {
    state: Arc<StsState>,
}

impl StsRecord {
    /// How many `AssumeRole` calls were answered with credentials.
    pub fn assume_role_calls(&self) -> u64 {
        *self
            .state
            .assume_role
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The `WebIdentityToken` of every `AssumeRoleWithWebIdentity` answered
    /// with credentials, in order.
    pub fn web_identity_tokens(&self) -> Vec<String> {
        self.state
            .web_identity_tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl std::fmt::Debug for StsRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsRecord")
            .field("assume_role_calls", &self.assume_role_calls())
            .finish_non_exhaustive()
    }
}

impl EmulatorService {
    /// What the emulator's STS saw.
    pub fn sts(&self) -> StsRecord {
        StsRecord {
            state: Arc::clone(&self.cam().sts),
        }
    }
}

impl super::Emulator {
    /// What the server's STS saw; see [`EmulatorService::sts`].
    pub fn sts(&self) -> StsRecord {
        self.service().sts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_sts_writes_them() {
        assert_eq!(iso8601(1_543_914_376), "2018-12-04T09:06:16Z");
    }
}
