//! `sign::verify`: a server's side of the signature, as a test server
//! would use it.

use std::collections::HashMap;

use bytes::Bytes;
use http::Request;
use http::request::Parts;
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::sign::verify::{Verifier, VerifyErrorKind, claimed_secret_id, from_fn};
use tower_tencentcloud::sign::{Credentials, SignableBody, sign_request};

const NOW: u64 = 1_714_564_800;

fn credentials() -> Credentials {
    Credentials::new("AKIDverify", "verify-secret-key")
}

/// A signed DescribeZones, as a server receives it.
fn signed(endpoint: &str, credentials: &Credentials) -> (Parts, Bytes) {
    let mut request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .endpoint(endpoint)
        .build()
        .unwrap();
    sign_request(&mut request, credentials, NOW).unwrap();
    let (head, body) = request.into_parts();
    let body = Bytes::copy_from_slice(body.payload().as_ref());
    (head, body)
}

#[test]
fn signed_requests_verify_and_name_their_caller() {
    let (head, body) = signed("http://127.0.0.1:8080", &credentials());
    let caller = Verifier::new(credentials())
        .verify(&head, &body, NOW)
        .unwrap();
    assert_eq!(caller.secret_id(), "AKIDverify");
    assert_eq!(caller.service(), Some("cvm"));
    assert_eq!(claimed_secret_id(&head), Some("AKIDverify"));

    // Any lookup: a map, a function, a list.
    let map = HashMap::from([("AKIDverify".to_owned(), credentials())]);
    assert!(Verifier::new(map).verify(&head, &body, NOW).is_ok());
    let lookup = from_fn(|id: &str| (id == "AKIDverify").then(credentials));
    assert!(Verifier::new(lookup).verify(&head, &body, NOW).is_ok());
    let others = vec![Credentials::new("AKIDother", "k")];
    let err = Verifier::new(others).verify(&head, &body, NOW).unwrap_err();
    assert_eq!(err.kind(), VerifyErrorKind::SecretIdNotFound);
    assert_eq!(err.code(), "AuthFailure.SecretIdNotFound");
}

#[test]
fn what_was_not_signed_fails() {
    let verifier = Verifier::new(credentials());
    let (head, _) = signed("http://127.0.0.1:8080", &credentials());
    let err = verifier.verify(&head, b"{\"Limit\":1}", NOW).unwrap_err();
    assert_eq!(err.kind(), VerifyErrorKind::SignatureFailure);

    let (mut head, body) = signed("http://127.0.0.1:8080", &credentials());
    head.headers
        .insert("x-tc-token", "a-token".parse().unwrap());
    let err = verifier.verify(&head, &body, NOW).unwrap_err();
    assert_eq!(err.kind(), VerifyErrorKind::TokenFailure);

    let (mut head, body) = signed("http://127.0.0.1:8080", &credentials());
    head.headers
        .insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
    let err = verifier.verify(&head, &body, NOW).unwrap_err();
    assert_eq!(err.kind(), VerifyErrorKind::InvalidAuthorization);

    let (head, ()) = Request::post("http://127.0.0.1/")
        .header("x-tc-timestamp", "soon")
        .body(())
        .unwrap()
        .into_parts();
    let err = verifier.verify(&head, b"", NOW).unwrap_err();
    assert_eq!(err.kind(), VerifyErrorKind::InvalidParameter);
    assert_eq!(err.parameter(), Some("x-tc-timestamp"));
}

#[test]
fn a_signature_over_the_host_without_its_port_verifies_only_when_accepted() {
    // Signed over `host:127.0.0.1`, sent with the port, as the Node.js SDK does.
    let (mut head, body) = signed("http://127.0.0.1", &credentials());
    head.headers
        .insert("host", "127.0.0.1:8080".parse().unwrap());
    let strict = Verifier::new(credentials());
    let err = strict.verify(&head, &body, NOW).unwrap_err();
    assert_eq!(err.kind(), VerifyErrorKind::SignatureFailure);
    let lenient = Verifier::new(credentials()).accept_host_without_port(true);
    assert!(lenient.verify(&head, &body, NOW).is_ok());
    // Lenient about the port only: another host still fails.
    head.headers
        .insert("host", "127.0.0.2:8080".parse().unwrap());
    assert!(lenient.verify(&head, &body, NOW).is_err());
}

#[test]
fn the_skew_allowed_is_the_verifiers() {
    let (head, body) = signed("http://127.0.0.1:8080", &credentials());
    let verifier = Verifier::new(credentials());
    assert!(verifier.verify(&head, &body, NOW + 300).is_ok());
    assert!(verifier.verify(&head, &body, NOW - 300).is_ok());
    let err = verifier.verify(&head, &body, NOW + 301).unwrap_err();
    assert_eq!(err.kind(), VerifyErrorKind::SignatureExpired);
    let tight = Verifier::new(credentials()).max_skew_seconds(10);
    assert!(tight.verify(&head, &body, NOW + 11).is_err());
}

#[test]
fn errors_and_debug_are_one_line_without_secrets() {
    let verifier = Verifier::new(credentials());
    let debug = format!("{verifier:?}");
    assert!(!debug.contains("verify-secret-key"), "{debug}");
    let (head, body) = signed(
        "http://127.0.0.1:8080",
        &Credentials::new("AKIDverify", "wrong"),
    );
    let err = verifier.verify(&head, &body, NOW).unwrap_err();
    let display = err.to_string();
    assert_eq!(
        display,
        "AuthFailure.SignatureFailure (the signature does not match)"
    );
    assert!(!display.contains('\n'));
}
