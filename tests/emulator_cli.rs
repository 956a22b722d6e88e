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
        (
            &["--listen", "no-port-here"][..],
            true,
            "--listen \"no-port-here\": not HOST:PORT",
        ),
        (&["--log-capacity", "-1"][..], true, "--log-capacity \"-1\""),
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

/// Starts the binary with `args` and the test's credentials; returns the
/// child and the URL it printed first.
async fn start(args: &[&str]) -> (tokio::process::Child, Lines<BufReader<ChildStdout>>, String) {
    let mut child = Command::new(emulator_binary())
        .args(args)
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env_remove("TENCENTCLOUD_SESSION_TOKEN")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = next_line(&mut lines).await;
    (child, lines, url)
}

#[tokio::test]
async fn listens_on_a_host_name_such_as_localhost() {
    let (mut child, mut lines, url) = start(&["--listen", "localhost:0"]).await;
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "localhost's IPv4 address: {url}"
    );
    let client = ServiceBuilder::new()
        .layer(SignLayer::new(Credentials::new(SECRET_ID, SECRET_KEY)))
        .layer(EnvelopeLayer::new())
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .region("ap-guangzhou")
        .endpoint(url.as_str())
        .build()
        .unwrap();
    let response = client.oneshot(request).await.unwrap();
    let id = response
        .extensions()
        .get::<RequestId>()
        .unwrap()
        .to_string();
    assert_eq!(
        next_line(&mut lines).await,
        format!("{id} {SECRET_ID} DescribeZones success")
    );
    child.kill().await.unwrap();
}

/// The resident memory of a process, from /proc.
#[cfg(target_os = "linux")]
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

/// Large unsigned posts, refused but logged: the process keeps what the
/// log's bound allows, not every body (which grew it by 9 MiB a post).
#[cfg(target_os = "linux")]
#[tokio::test]
async fn memory_stays_flat_under_large_posts() {
    const WARM_UP: usize = 4;
    const POSTS: usize = 30;
    const SIZE: usize = 9 << 20;
    const LOG_MIB: u64 = 16;
    // Headroom for the allocator and hyper's buffers, well below the
    // 270 MiB the posts add up to.
    const MARGIN_KIB: u64 = 96 * 1024;
    let (mut child, mut lines, url) = start(&["--log-params-mib", &LOG_MIB.to_string()]).await;
    let pid = child.id().unwrap();
    let transport = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let body = Bytes::from(vec![b' '; SIZE]);
    let mut rss_after_warm_up = 0;
    for index in 0..WARM_UP + POSTS {
        let request = http::Request::post(url.as_str())
            .header("content-type", "application/json")
            .header("x-tc-action", "DescribeZones")
            .body(Full::new(body.clone()))
            .unwrap();
        let response = transport.request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let line = next_line(&mut lines).await;
        assert!(
            line.ends_with("DescribeZones error MissingParameter"),
            "{line}"
        );
        if index + 1 == WARM_UP {
            rss_after_warm_up = resident_kib(pid);
        }
    }
    let rss_at_end = resident_kib(pid);
    eprintln!(
        "emulator_cli: resident {rss_after_warm_up} KiB after {WARM_UP} posts of {SIZE} bytes, \
         {rss_at_end} KiB after {POSTS} more"
    );
    assert!(
        rss_at_end <= rss_after_warm_up + MARGIN_KIB,
        "resident memory grew from {rss_after_warm_up} KiB to {rss_at_end} KiB"
    );
    child.kill().await.unwrap();
}
