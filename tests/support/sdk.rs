#![allow(dead_code)]
//! The official Tencent Cloud SDKs the conformance tests run against,
//! provisioned by the tests themselves: the Python SDK in the crate's
//! `.venv` (`.ci/python-setup`), the Node.js SDK in `tests/node/node_modules`
//! (`.ci/node-setup`, pinned by `tests/node/package-lock.json`).
//!
//! Each is installed at most once per machine, whatever the number of test
//! binaries that run at the same time: the setup runs under an exclusive
//! file lock, and is idempotent, so that the binaries after the first find
//! it done. A setup that fails fails the test, with the script's output;
//! nothing is ever skipped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The crate's root.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `.ci/{script}` under the lock `{name}.lock` in the target
/// directory, once per test binary.
fn provision(name: &str, script: &str) {
    let lock_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.lock"));
    let lock = File::create(&lock_path)
        .unwrap_or_else(|err| panic!("create the lock {}: {err}", lock_path.display()));
    // Blocks while another test binary provisions; released on drop.
    lock.lock()
        .unwrap_or_else(|err| panic!("lock {}: {err}", lock_path.display()));
    let output = Command::new("bash")
        .arg(root().join(".ci").join(script))
        .current_dir(root())
        .output()
        .unwrap_or_else(|err| panic!("run .ci/{script}: {err}"));
    assert!(
        output.status.success(),
        ".ci/{script} failed ({}), so the {name} conformance tests cannot run:\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    drop(lock);
}

/// A Python interpreter that has `tencentcloud-sdk-python-common`:
/// `$TENCENTCLOUD_TEST_PYTHON`, or else the crate's `.venv`, made by
/// `.ci/python-setup` if need be.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("TENCENTCLOUD_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            provision("python-sdk", "python-setup");
            let python = root().join(".venv/bin/python");
            assert!(
                python.exists(),
                ".ci/python-setup made no {}",
                python.display()
            );
            python
        })
        .clone()
}

/// The directory of the Node.js scripts, whose `node_modules` has
/// `tencentcloud-sdk-nodejs-common`, installed by `.ci/node-setup` if
/// need be.
pub fn node_dir() -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            provision("node-sdk", "node-setup");
            root().join("tests/node")
        })
        .clone()
}

/// Runs `command` (an SDK script) with `input` as JSON on its standard
/// input, and returns the JSON it prints; a failure of the script fails
/// the test with what it wrote to standard error.
pub fn exchange_json(mut command: Command, input: &serde_json::Value) -> serde_json::Value {
    use std::io::Write as _;
    use std::process::Stdio;

    let what = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(input).unwrap())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
