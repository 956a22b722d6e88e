//! `Credentials::from_env` against a real process environment.
//!
//! Changing this process's environment would race with other tests (and
//! needs `unsafe` in edition 2024), so each case re-runs this test binary as
//! a child with the variables set, and the child does the reading.

use std::process::Command;

use tower_tencentcloud::sign::{
    Credentials, CredentialsErrorKind, SECRET_ID_VAR, SECRET_KEY_VAR, SESSION_TOKEN_VAR,
};

/// Set in the child: which case to check.
const CASE_VAR: &str = "TOWER_TENCENTCLOUD_FROM_ENV_CASE";

/// The name libtest knows `test` by in this binary: its module path
/// without the crate's name.
fn test_path(test: &str) -> String {
    match module_path!().split_once("::") {
        Some((_, module)) => format!("{module}::{test}"),
        None => test.to_owned(),
    }
}

/// Runs `test` in a child process with exactly the credential variables
/// `vars`, and case `case`.
fn run_child(test: &str, case: &str, vars: &[(&str, &str)]) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            &test_path(test),
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CASE_VAR, case);
    for var in [SECRET_ID_VAR, SECRET_KEY_VAR, SESSION_TOKEN_VAR] {
        command.env_remove(var);
    }
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "case {case}: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 passed"),
        "case {case}: the child ran no test"
    );
}

#[test]
fn from_env_reads_the_official_variables() {
    match std::env::var(CASE_VAR).as_deref() {
        Ok("temporary") => {
            let credentials = Credentials::from_env().unwrap();
            assert_eq!(credentials.secret_id(), "AKIDEXAMPLE");
            assert!(credentials.has_session_token());
        }
        Ok("long-term") => {
            let credentials = Credentials::from_env().unwrap();
            assert_eq!(credentials.secret_id(), "AKIDEXAMPLE");
            assert!(!credentials.has_session_token());
        }
        Ok("no-key") => {
            let err = Credentials::from_env().unwrap_err();
            assert_eq!(err.variable(), Some(SECRET_KEY_VAR));
            assert_eq!(err.kind(), CredentialsErrorKind::NotSet);
            assert_eq!(
                err.to_string(),
                "no credentials configured: environment variable TENCENTCLOUD_SECRET_KEY is not set or empty"
            );
        }
        Ok(case) => panic!("unknown case {case}"),
        Err(_) => {
            let test = "from_env_reads_the_official_variables";
            run_child(
                test,
                "temporary",
                &[
                    (SECRET_ID_VAR, "AKIDEXAMPLE"),
                    (SECRET_KEY_VAR, "secret-key"),
                    (SESSION_TOKEN_VAR, "token"),
                ],
            );
            run_child(
                test,
                "long-term",
                &[
                    (SECRET_ID_VAR, "AKIDEXAMPLE"),
                    (SECRET_KEY_VAR, "secret-key"),
                ],
            );
            run_child(
                test,
                "no-key",
                &[(SECRET_ID_VAR, "AKIDEXAMPLE"), (SECRET_KEY_VAR, "")],
            );
        }
    }
}
