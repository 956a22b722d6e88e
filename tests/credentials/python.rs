//! The official Python SDK's own credential providers
//! (`tencentcloud.common.credential`: `CVMRoleCredential`,
//! `STSAssumeRoleCredential`, `OIDCRoleArnCredential`) and this crate's,
//! against one running emulator: they obtain the same role credentials
//! from the metadata server, and STS credentials that the emulator accepts
//! from either (tests/python/credentials_providers.py).
//!
//! Real time and a real server: the SDK is another process.

use crate::sdk;

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::credentials::{AssumeRoleProvider, CvmRoleProvider, WebIdentityProvider};
use tower_tencentcloud::emulator::Emulator;
use tower_tencentcloud::sign::{Credentials, SignLayer, sign_request};

const SECRET_ID: &str = "AKIDpythonsource00000000000000000";
const SECRET_KEY: &str = "python-source-secret-key-000000";
const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/deployer";

fn run_sdk(job: Value) -> Value {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/credentials_providers.py");
    let mut python = Command::new(sdk::python());
    python.arg(script);
    sdk::exchange_json(python, &job)
}

/// (id, key, token) of an SDK answer.
fn sdk_credentials(answer: &Value) -> Credentials {
    let field = |i: usize| answer[i].as_str().unwrap().to_owned();
    Credentials::new(field(0), field(1)).with_session_token(field(2))
}

/// The headers of one request signed with `credentials` at a fixed time.
fn signed(credentials: &Credentials) -> http::HeaderMap {
    let mut request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .build()
        .unwrap();
    sign_request(&mut request, credentials, 1_700_000_000).unwrap();
    request.headers().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_and_this_crate_obtain_the_same_credentials() {
    let emulator = Emulator::builder()
        .credentials(Credentials::new(SECRET_ID, SECRET_KEY))
        .cvm_role("app-role")
        .start()
        .await
        .unwrap();
    let metadata = format!("{}/latest/meta-data/", emulator.endpoint());
    let dir = std::env::temp_dir().join(format!("tc-python-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, "oidc-token-ours").unwrap();

    let job = json!({
        "metadata": metadata,
        "endpoint": emulator.addr().to_string(),
        "secret_id": SECRET_ID,
        "secret_key": SECRET_KEY,
        "role_arn": ROLE_ARN,
        "provider_id": "tke-oidc",
        "web_identity_token": "oidc-token-python",
    });
    let sdk = tokio::task::spawn_blocking(move || run_sdk(job))
        .await
        .unwrap();

    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();

    // The metadata server answers both the same role credentials.
    let ours = CvmRoleProvider::new(client.clone())
        .endpoint(&metadata)
        .fetch()
        .await
        .unwrap();
    let theirs = sdk_credentials(&sdk["cvm"]);
    assert_eq!(ours.secret_id(), theirs.secret_id());
    // The key and the token are not readable: the same signature and
    // X-TC-Token show they are the same.
    assert_eq!(signed(&ours), signed(&theirs));
    assert!(ours.expiry().is_some());

    // STS issues each caller its own; the emulator accepts both.
    let sts_ours = AssumeRoleProvider::new(
        client.clone(),
        Credentials::new(SECRET_ID, SECRET_KEY),
        ROLE_ARN,
    )
    .endpoint(emulator.endpoint())
    .fetch()
    .await
    .unwrap();
    let oidc_ours = WebIdentityProvider::new(
        client.clone(),
        "ap-shanghai",
        "tke-oidc",
        &token_file,
        ROLE_ARN,
    )
    .endpoint(emulator.endpoint())
    .fetch()
    .await
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(emulator.sts().assume_role_calls(), 2);
    assert_eq!(
        emulator.sts().web_identity_tokens(),
        ["oidc-token-python", "oidc-token-ours"]
    );
    for credentials in [
        ours,
        sdk_credentials(&sdk["cvm"]),
        sts_ours,
        sdk_credentials(&sdk["sts"]),
        oidc_ours,
        sdk_credentials(&sdk["oidc"]),
    ] {
        let service = ServiceBuilder::new()
            .layer(SignLayer::new(credentials.clone()))
            .layer(EnvelopeLayer::new())
            .service(client.clone());
        let request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
            .endpoint(emulator.endpoint())
            .build()
            .unwrap();
        service
            .oneshot(request)
            .await
            .unwrap_or_else(|err| panic!("{credentials}: {err}"));
    }
}
