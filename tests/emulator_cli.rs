//! The emulator's command line (examples/emulator.rs), run as a process:
//! the URL first, then one log line per call; flags and usage errors.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, RequestId};

const SECRET_ID: &str = "AKIDcommandline000000000000000000";
const SECRET_KEY: &str = "command-line-secret-key";

/// Builds the example once with this test's features (so that nothing is
/// rebuilt when `cargo test` built it already) and returns its path.
fn emulator_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(build_emulator).clone()
}

fn build_emulator() -> PathBuf {
    let features = if cfg!(feature = "reqwest") {
        "emulator,reqwest"
    } else {
        "emulator"
    };
    let output = std::process::Command::new(env!("CARGO"))
        .args(["build", "--example", "emulator", "--message-format=json"])
        .args(["--features", features])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "cargo build --example emulator failed"
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find_map(|message| {
            let is_example = message["target"]["name"] == "emulator"
                && message["target"]["kind"][0] == "example";
            let executable = message["executable"].as_str()?;
            is_example.then(|| PathBuf::from(executable))
        })
        .expect("cargo names the example's executable")
}

/// A line of output; a guard, not a measure: the process answers at once.
async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the emulator prints within 30 s")
        .unwrap()
        .expect("the emulator is still running")
}

#[tokio::test]
async fn prints_its_url_then_a_log_line_per_call() {
    let mut child = Command::new(emulator_binary())
        .args(["--listen", "127.0.0.1:0", "--rate-limit", "1"])
        .args(["--internal-error-rate", "1"])
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        // A token in the developer's environment would be required of calls.
        .env_remove("TENCENTCLOUD_SESSION_TOKEN")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = next_line(&mut lines).await;
    let port = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("the first line is the URL: {url:?}"));
    assert!(port.parse::<u16>().unwrap() > 0, "{url}");

    let client = ServiceBuilder::new()
        .layer(SignLayer::new(Credentials::new(SECRET_ID, SECRET_KEY)))
        .layer(EnvelopeLayer::new())
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let zones = || {
        ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
            .region("ap-guangzhou")
            .endpoint(url.as_str())
            .build()
            .unwrap()
    };
    // Within the rate, then the fault at rate 1; beyond the rate, throttled.
    let first = client.clone().oneshot(zones()).await.unwrap_err();
    assert_eq!(first.code().unwrap(), "InternalError");
    let second = client.oneshot(zones()).await.unwrap_err();
    assert_eq!(second.code().unwrap(), "RequestLimitExceeded");

    let id = |err: &tower_tencentcloud::Error| err.request_id().map(RequestId::to_string).unwrap();
    assert_eq!(
        next_line(&mut lines).await,
        format!(
            "{} {SECRET_ID} DescribeZones error InternalError",
            id(&first)
        )
    );
    assert_eq!(
        next_line(&mut lines).await,
        format!(
            "{} {SECRET_ID} DescribeZones error RequestLimitExceeded",
            id(&second)
        )
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn help_prints_the_usage() {
    let output = Command::new(emulator_binary())
        .arg("--help")
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("usage: emulator"), "{stdout}");
    assert!(stdout.contains("--internal-error-rate P"), "{stdout}");
}

#[tokio::test]
async fn usage_errors_exit_with_2_and_say_why() {
    let binary = emulator_binary();
    for (args, credentials, expected) in [
        (&["--rate-limit", "many"][..], true, "--rate-limit \"many\""),
        (
            &["--internal-error-rate", "1.5"][..],
            true,
            "not a probability",
        ),
        (&["--listen"][..], true, "--listen needs a value"),
        (&["--colour", "red"][..], true, "unknown flag \"--colour\""),
        (&[][..], false, "TENCENTCLOUD_SECRET_ID"),
    ] {
        let mut command = Command::new(&binary);
        command.args(args).env_remove("TENCENTCLOUD_SECRET_ID");
        if credentials {
            command
                .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
                .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY);
        }
        let output = command.output().await.unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: emulator"), "{args:?}: {stderr}");
        assert!(!stderr.contains(SECRET_KEY), "{stderr}");
    }
}
