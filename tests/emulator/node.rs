//! The emulator accepts what the official Node.js SDK
//! (`tencentcloud-sdk-nodejs-common`, pinned by tests/node/package-lock.json)
//! sends, configured as its documentation says: `httpProfile: { endpoint:
//! "127.0.0.1:PORT", protocol: "http://" }` (tests/node/emulator_calls.js).
//!
//! That SDK signs `host:127.0.0.1` while it sends `Host: 127.0.0.1:PORT`,
//! and signs for the service `127`, the first label of its endpoint: the
//! emulator's documented leniencies make those calls verify.
//!
//! The test installs the SDK itself (`.ci/node-setup`, under a file lock)
//! when `tests/node/node_modules` lacks it; `node` and `npm` must be on the
//! PATH.

use crate::sdk;

use std::process::Command;

use serde_json::{Value, json};
use tower_tencentcloud::emulator::{Emulator, Outcome};
use tower_tencentcloud::sign::Credentials;

const SECRET_ID: &str = "AKIDnodesdk00000000000000000000000";
const SECRET_KEY: &str = "node-sdk-secret-key-000000000000";

/// Runs the calls through the SDK, in a blocking thread so that the
/// emulator keeps serving meanwhile.
async fn run_sdk(emulator: &Emulator, calls: Vec<Value>) -> Vec<Value> {
    let job = json!({
        "endpoint": emulator.addr().to_string(),
        "calls": calls,
    });
    tokio::task::spawn_blocking(move || {
        let dir = sdk::node_dir();
        // Node.js 20 or later must be on the PATH.
        let mut node = Command::new("node");
        node.arg(dir.join("emulator_calls.js")).current_dir(&dir);
        serde_json::from_value::<Vec<Value>>(sdk::exchange_json(node, &job)).unwrap()
    })
    .await
    .unwrap()
}

fn call(service: &str, version: &str, action: &str, params: Value, secret_key: &str) -> Value {
    json!({
        "service": service,
        "version": version,
        "action": action,
        "region": "ap-guangzhou",
        "params": params,
        "secret_id": SECRET_ID,
        "secret_key": secret_key,
    })
}

fn cvm(action: &str, params: Value, secret_key: &str) -> Value {
    call("cvm", "2017-03-12", action, params, secret_key)
}

/// `spec` with the SDK's `reqMethod` and `signMethod`.
fn signed_as(mut spec: Value, method: &str, sign_method: &str) -> Value {
    spec["method"] = json!(method);
    spec["sign_method"] = json!(sign_method);
    spec
}

async fn emulator() -> Emulator {
    Emulator::builder()
        .credentials(Credentials::new(SECRET_ID, SECRET_KEY))
        .instances(12)
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_sdk_calls_the_emulator_at_its_documented_endpoint() {
    let emulator = emulator().await;
    let mut chat = call(
        "hunyuan",
        "2023-09-01",
        "ChatCompletions",
        json!({
            "Model": "hunyuan-lite",
            "Messages": [{"Role": "user", "Content": "streamed to the Node SDK"}],
            "Stream": true,
        }),
        SECRET_KEY,
    );
    chat["sse"] = json!(true);
    let calls = vec![
        cvm(
            "DescribeInstances",
            json!({"Offset": 10, "Limit": 5}),
            SECRET_KEY,
        ),
        cvm("DescribeZones", json!({}), SECRET_KEY),
        chat,
        cvm("DescribeInstances", json!({}), "not-the-secret-key"),
    ];
    let results = run_sdk(&emulator, calls).await;
    let log = emulator.log();

    let described = &results[0]["response"];
    assert_eq!(described["TotalCount"], 12, "{}", results[0]);
    assert_eq!(described["InstanceSet"].as_array().unwrap().len(), 2);
    let entry = log.find(described["RequestId"].as_str().unwrap()).unwrap();
    assert_eq!(entry.outcome(), &Outcome::Success);
    assert_eq!(entry.secret_id(), Some(SECRET_ID));

    let zones = results[1]["response"]["ZoneSet"].as_array();
    assert!(
        zones.is_some_and(|zones| !zones.is_empty()),
        "{}",
        results[1]
    );

    let events = results[2]["events"].as_array().expect("events");
    let text: String = events
        .iter()
        .map(|event| {
            let data: Value = serde_json::from_str(event["data"].as_str().unwrap()).unwrap();
            data["Choices"][0]["Delta"]["Content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(text, "streamed to the Node SDK");

    assert_eq!(
        results[3]["code"], "AuthFailure.SignatureFailure",
        "{}",
        results[3]
    );
    let entry = log
        .find(results[3]["request_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        entry.outcome(),
        &Outcome::Error("AuthFailure.SignatureFailure".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_sdk_calls_the_emulator_with_get_and_the_older_signatures() {
    let emulator = emulator().await;
    let filtered = json!({
        "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}],
        "Limit": 100,
    });
    let described = || cvm("DescribeInstances", filtered.clone(), SECRET_KEY);
    let zones_with = |key| cvm("DescribeZones", json!({}), key);
    let calls = vec![
        described(),
        signed_as(described(), "GET", "TC3-HMAC-SHA256"),
        signed_as(described(), "POST", "HmacSHA1"),
        signed_as(described(), "POST", "HmacSHA256"),
        signed_as(described(), "GET", "HmacSHA1"),
        signed_as(described(), "GET", "HmacSHA256"),
        signed_as(zones_with("not-the-key"), "GET", "TC3-HMAC-SHA256"),
        signed_as(zones_with("not-the-key"), "POST", "HmacSHA256"),
        signed_as(zones_with("not-the-key"), "GET", "HmacSHA1"),
    ];
    let results = run_sdk(&emulator, calls).await;
    let log = emulator.log();

    let reference = &results[0]["response"];
    let total = reference["TotalCount"].as_u64().expect("a TotalCount");
    assert!(
        total > 0 && total < 12,
        "the filter selects some: {}",
        results[0]
    );
    for (result, how) in results[1..6].iter().zip([
        "GET, TC3",
        "POST, HmacSHA1",
        "POST, HmacSHA256",
        "GET, HmacSHA1",
        "GET, HmacSHA256",
    ]) {
        let response = &result["response"];
        assert_eq!(response["TotalCount"], total, "{how}: {result}");
        assert_eq!(response["InstanceSet"], reference["InstanceSet"], "{how}");
        let entry = log.find(response["RequestId"].as_str().unwrap()).unwrap();
        assert_eq!(entry.outcome(), &Outcome::Success, "{how}");
        assert_eq!(entry.action(), Some("DescribeInstances"), "{how}");
    }
    for result in &results[6..] {
        assert_eq!(result["code"], "AuthFailure.SignatureFailure", "{result}");
    }
}
