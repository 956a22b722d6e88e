//! The default chain against a real process environment and the
//! emulator's metadata server and STS: which source it picks, what it logs.
//!
//! Each case re-runs this test binary as a child with exactly the
//! variables it needs (changing this process's environment would race with
//! other tests), and the child does the reading.

use std::io::Write;
use std::process::Command;
use std::sync::{Arc, Mutex};

use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::credentials::{
    CredentialsCache, CredentialsError, CredentialsErrorKind, CvmRoleProvider, DefaultChain,
};
use tower_tencentcloud::emulator::{Emulator, EmulatorService, MetadataFault};
use tower_tencentcloud::sign::{Credentials, SignLayer};

/// Set in the child: which case to check.
const CASE_VAR: &str = "TOWER_TENCENTCLOUD_CHAIN_CASE";
const METADATA: &str = "http://metadata.tencentyun.com/latest/meta-data/";
const ENDPOINT: &str = "http://127.0.0.1:9";

/// Every variable the chain reads.
const VARS: &[&str] = &[
    "TENCENTCLOUD_SECRET_ID",
    "TENCENTCLOUD_SECRETID",
    "TENCENTCLOUD_SECRET_KEY",
    "TENCENTCLOUD_SECRETKEY",
    "TENCENTCLOUD_SESSION_TOKEN",
    "TENCENTCLOUD_SESSIONTOKEN",
    "TENCENTCLOUD_SECURITY_TOKEN",
    "TENCENTCLOUD_CREDENTIALS_FILE",
    "TKE_REGION",
    "TKE_PROVIDER_ID",
    "TKE_WEB_IDENTITY_TOKEN_FILE",
    "TKE_ROLE_ARN",
    "HOME",
];

/// The name libtest knows `test` by in this binary: its module path
/// without the crate's name.
fn test_path(test: &str) -> String {
    match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::{test}"),
        None => test.to_owned(),
    }
}

fn run_child(case: &str, vars: &[(&str, &str)]) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            &test_path("default_chain"),
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CASE_VAR, case);
    for var in VARS {
        command.env_remove(var);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "case {case}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "case {case}: the child ran no test"
    );
}

/// What the child logs, at INFO and above.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn install() -> Self {
        let logs = Self::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        logs
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn emulator() -> EmulatorService {
    Emulator::builder()
        .credentials(Credentials::new("AKIDlongterm", "long-term-key"))
        .cvm_role("app-role")
        .into_service()
}

fn chain(emulator: &EmulatorService) -> DefaultChain<EmulatorService> {
    DefaultChain::new(emulator.clone())
        .cvm_role(CvmRoleProvider::new(emulator.clone()).endpoint(METADATA))
}

async fn call(
    emulator: &EmulatorService,
    cache: &CredentialsCache,
) -> Result<(), tower_tencentcloud::Error> {
    let client = ServiceBuilder::new()
        .layer(SignLayer::with_cache(cache.clone()))
        .layer(EnvelopeLayer::new())
        .service(emulator.clone());
    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .endpoint(ENDPOINT)
        .build()
        .unwrap();
    client.oneshot(request).await.map(drop)
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tc-chain-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn child(case: &str) {
    let logs = Logs::install();
    let emulator = emulator();
    match case {
        "cvm-role" => {
            let cache = CredentialsCache::new(chain(&emulator));
            for _ in 0..3 {
                call(&emulator, &cache).await.unwrap();
            }
            let logs = logs.text();
            assert_eq!(
                logs.matches("credentials chain chose its source").count(),
                1,
                "{logs}"
            );
            assert!(logs.contains("INFO"), "{logs}");
            assert!(logs.contains("CVM instance role"), "{logs}");
            assert!(
                logs.contains(
                    "environment: no credentials configured: environment variable TENCENTCLOUD_SECRET_ID is not set or empty"
                ),
                "{logs}"
            );
            assert!(
                logs.contains("profile file: no credentials configured: no profile file"),
                "{logs}"
            );
            assert!(
                !logs.contains("tmp-key") && !logs.contains("tmp-token"),
                "{logs}"
            );
        }
        "environment" => {
            let cache = CredentialsCache::new(chain(&emulator));
            call(&emulator, &cache).await.unwrap();
            assert_eq!(emulator.metadata().credential_fetches(), 0);
            let logs = logs.text();
            assert!(logs.contains("source=\"environment\""), "{logs}");
            assert!(!logs.contains("long-term-key"), "{logs}");
        }
        "profile" => {
            let cache = CredentialsCache::new(chain(&emulator));
            call(&emulator, &cache).await.unwrap();
            assert_eq!(emulator.metadata().role_fetches(), 0);
            let logs = logs.text();
            assert!(logs.contains("source=\"profile file\""), "{logs}");
            assert!(!logs.contains("long-term-key"), "{logs}");
        }
        "web-identity" => {
            emulator.metadata().set_fault(MetadataFault::NoRole);
            let cache = CredentialsCache::new(chain(&emulator));
            call(&emulator, &cache).await.unwrap();
            assert_eq!(emulator.sts().web_identity_tokens(), ["pod-token"]);
            let logs = logs.text();
            assert!(logs.contains("source=\"TKE web identity\""), "{logs}");
            assert!(
                logs.contains("CVM instance role: cannot fetch credentials"),
                "{logs}"
            );
            assert!(!logs.contains("pod-token"), "{logs}");
        }
        "none" => {
            emulator.metadata().set_fault(MetadataFault::NoRole);
            let cache = CredentialsCache::new(chain(&emulator));
            let err = call(&emulator, &cache).await.unwrap_err();
            let err = err
                .as_layer()
                .unwrap()
                .downcast_ref::<CredentialsError>()
                .unwrap();
            assert_eq!(err.kind(), CredentialsErrorKind::NotSet);
            let message = err.to_string();
            for source in [
                "environment: ",
                "profile file: ",
                "CVM instance role: ",
                "TKE web identity: no credentials configured: environment variable TKE_REGION",
            ] {
                assert!(message.contains(source), "{message}");
            }
            assert!(!message.contains('\n'));
        }
        case => panic!("unknown case {case}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn default_chain() {
    if let Ok(case) = std::env::var(CASE_VAR) {
        return child(&case).await;
    }
    let home = temp_dir("home");
    let home = home.to_str().unwrap();
    run_child("cvm-role", &[("HOME", home)]);
    run_child(
        "environment",
        &[
            ("HOME", home),
            ("TENCENTCLOUD_SECRETID", "AKIDlongterm"),
            ("TENCENTCLOUD_SECRETKEY", "long-term-key"),
        ],
    );

    let profile = temp_dir("profile").join("credentials");
    std::fs::write(
        &profile,
        "[default]\nsecret_id = AKIDlongterm\nsecret_key = long-term-key\n",
    )
    .unwrap();
    run_child(
        "profile",
        &[
            ("HOME", home),
            ("TENCENTCLOUD_CREDENTIALS_FILE", profile.to_str().unwrap()),
        ],
    );

    let token = temp_dir("token").join("token");
    std::fs::write(&token, "pod-token\n").unwrap();
    run_child(
        "web-identity",
        &[
            ("HOME", home),
            ("TKE_REGION", "ap-shanghai"),
            ("TKE_PROVIDER_ID", "tke-oidc"),
            ("TKE_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
            ("TKE_ROLE_ARN", "qcs::cam::uin/100000000001:roleName/pod"),
        ],
    );
    run_child("none", &[("HOME", home)]);
}
