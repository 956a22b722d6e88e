//! The CVM instance metadata server's CAM endpoints:
//! `/latest/meta-data/cam/security-credentials/` names the instance's role,
//! `…/{role}` answers its temporary credentials.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde::Serialize;
use tokio::time::Instant;

use super::body::EmulatorBody;
use super::sts::{CamConfig, Issued, iso8601};
use super::{Emulator, EmulatorService};
use crate::sign::Credentials;

/// Where the CAM endpoints are, as on the real metadata server.
pub(crate) const ROLE_PATH: &str = "/latest/meta-data/cam/security-credentials/";

/// How the metadata server fails, until [`MetadataServer::clear_fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataFault {
    /// 404 on both paths, as on an instance without a role.
    NoRole,
    /// 500 on both paths.
    ServerError,
    /// Answers as usual, after this long (on tokio's clock).
    Delay(Duration),
    /// Never answers.
    Hang,
}

/// The state of the metadata endpoints.
pub(crate) struct MetadataState {
    config: CamConfig,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    fault: Option<MetadataFault>,
    role_fetches: u64,
    credential_fetches: u64,
    /// The role's credentials now, when they were issued and their
    /// `ExpiredTime`.
    current: Option<(Credentials, Instant, u64)>,
}

impl MetadataState {
    pub(crate) fn new(config: CamConfig) -> Self {
        Self {
            config,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Answers a GET under `/latest/meta-data/`.
    pub(crate) async fn answer(
        &self,
        path: &str,
        issued: &Issued,
        now: SystemTime,
    ) -> Response<EmulatorBody> {
        let role_path = path.strip_prefix(ROLE_PATH);
        let fault = {
            let mut inner = self.lock();
            match role_path {
                Some("") => inner.role_fetches += 1,
                Some(_) => inner.credential_fetches += 1,
                None => {}
            }
            inner.fault
        };
        match fault {
            Some(MetadataFault::Hang) => std::future::pending::<()>().await,
            Some(MetadataFault::Delay(delay)) => tokio::time::sleep(delay).await,
            Some(MetadataFault::ServerError) => {
                return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
            }
            Some(MetadataFault::NoRole) => return not_found(),
            None => {}
        }
        let Some(role) = self.config.role.as_deref() else {
            return not_found();
        };
        match role_path {
            Some("") => text(StatusCode::OK, role),
            Some(name) if name == role => {
                let unix_now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
                let (credentials, expired_time) = self.credentials(issued, unix_now);
                let answer = RoleCredentials {
                    tmp_secret_id: credentials.secret_id(),
                    tmp_secret_key: credentials.secret_key(),
                    expired_time,
                    expiration: iso8601(expired_time),
                    token: credentials.session_token().unwrap_or_default(),
                    code: "Success",
                };
                let body = serde_json::to_vec(&answer).expect("metadata answers serialize");
                let mut response = text(StatusCode::OK, "");
                *response.body_mut() = EmulatorBody::full(Bytes::from(body));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            _ => not_found(),
        }
    }

    /// The role's credentials: the same until half their lifetime has
    /// passed, as the metadata server rotates them ahead of expiry.
    fn credentials(&self, issued: &Issued, unix_now: u64) -> (Credentials, u64) {
        let mut inner = self.lock();
        let lifetime = self.config.role_lifetime;
        if let Some((credentials, at, expired_time)) = &inner.current
            && at.elapsed() < lifetime / 2
        {
            return (credentials.clone(), *expired_time);
        }
        let (credentials, expired_time) = issued.issue(lifetime, unix_now);
        inner.current = Some((credentials.clone(), Instant::now(), expired_time));
        (credentials, expired_time)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RoleCredentials<'a> {
    tmp_secret_id: &'a str,
    tmp_secret_key: &'a str,
    expired_time: u64,
    expiration: String,
    token: &'a str,
    code: &'a str,
}

fn text(status: StatusCode, body: &str) -> Response<EmulatorBody> {
    let mut response = Response::new(EmulatorBody::full(Bytes::copy_from_slice(body.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

fn not_found() -> Response<EmulatorBody> {
    text(StatusCode::NOT_FOUND, "404 - Not Found")
}

/// The emulator's metadata server, for tests: faults on demand, and how
/// often it was asked.
///
/// ```
/// use tower_tencentcloud::emulator::{Emulator, MetadataFault};
///
/// let emulator = Emulator::builder().cvm_role("app-role").into_service();
/// let metadata = emulator.metadata();
/// metadata.set_fault(MetadataFault::ServerError);
/// metadata.clear_fault();
/// assert_eq!(metadata.credential_fetches(), 0);
/// ```
#[derive(Clone)]
pub struct MetadataServer {
    service: EmulatorService,
}

impl MetadataServer {
    fn state(&self) -> &MetadataState {
        &self.service.cam().metadata
    }

    /// Fails every metadata request as `fault` says, until cleared.
    pub fn set_fault(&self, fault: MetadataFault) {
        self.state().lock().fault = Some(fault);
    }

    /// Answers as usual again.
    pub fn clear_fault(&self) {
        self.state().lock().fault = None;
    }

    /// How many requests asked for the role's name.
    pub fn role_fetches(&self) -> u64 {
        self.state().lock().role_fetches
    }

    /// How many requests asked for the role's credentials.
    pub fn credential_fetches(&self) -> u64 {
        self.state().lock().credential_fetches
    }
}

impl std::fmt::Debug for MetadataServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.state().lock();
        f.debug_struct("MetadataServer")
            .field("fault", &inner.fault)
            .field("role_fetches", &inner.role_fetches)
            .field("credential_fetches", &inner.credential_fetches)
            .finish()
    }
}

impl EmulatorService {
    /// The metadata server's controls and counts.
    pub fn metadata(&self) -> MetadataServer {
        MetadataServer {
            service: self.clone(),
        }
    }
}

impl Emulator {
    /// The metadata server's controls and counts; see
    /// [`EmulatorService::metadata`]. Its endpoint is
    /// `{endpoint}/latest/meta-data/`.
    pub fn metadata(&self) -> MetadataServer {
        self.service().metadata()
    }
}
