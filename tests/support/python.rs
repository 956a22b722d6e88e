//! The Python interpreter that has the official Tencent Cloud SDK, for the
//! conformance tests.

use std::path::PathBuf;

/// `TENCENTCLOUD_TEST_PYTHON`, or else the crate's `.venv`; fails with how
/// to make one when there is none.
pub fn python() -> PathBuf {
    let python = std::env::var_os("TENCENTCLOUD_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    assert!(
        python.exists(),
        "no Python with the official SDK at {}: run `.ci/python-setup` in the crate \
         (it runs `python3 -m venv .venv && .venv/bin/pip install tencentcloud-sdk-python-common`), \
         or point TENCENTCLOUD_TEST_PYTHON at an interpreter that has the package",
        python.display()
    );
    python
}
