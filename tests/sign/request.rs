//! `sign_request`, the pure signing function: what it sets, where it takes
//! the host and the service from, and that a failure leaves the request as
//! it was. (Its signatures are checked against the official SDK in
//! sign_conformance.rs.)

use http::{HeaderMap, Request};
use tower_tencentcloud::sign::{Credentials, ServiceName, SignErrorKind, sign_request};

const AT: u64 = 1_714_564_800;

fn credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", "secret-key")
}

fn post(uri: &str) -> Request<String> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body("{}".to_owned())
        .unwrap()
}

fn authorization(headers: &HeaderMap) -> &str {
    headers["authorization"].to_str().unwrap()
}

#[test]
fn the_host_comes_from_the_uri_and_is_pinned_as_a_header() {
    let mut from_uri = post("https://cvm.tencentcloudapi.com/");
    let mut from_header = post("https://cvm.tencentcloudapi.com/");
    from_header
        .headers_mut()
        .insert("host", "cvm.tencentcloudapi.com".parse().unwrap());

    sign_request(&mut from_uri, &credentials(), AT).unwrap();
    sign_request(&mut from_header, &credentials(), AT).unwrap();

    assert_eq!(from_uri.headers()["host"], "cvm.tencentcloudapi.com");
    assert_eq!(
        authorization(from_uri.headers()),
        authorization(from_header.headers())
    );
}

#[test]
fn the_service_comes_from_the_extension_before_the_host() {
    let mut from_host = post("https://cvm.tencentcloudapi.com/");
    let mut from_extension = post("https://cvm.tencentcloudapi.com/");
    from_extension
        .extensions_mut()
        .insert(ServiceName::new("tke"));

    sign_request(&mut from_host, &credentials(), AT).unwrap();
    sign_request(&mut from_extension, &credentials(), AT).unwrap();

    assert!(authorization(from_host.headers()).contains("/2024-05-01/cvm/tc3_request,"));
    assert!(authorization(from_extension.headers()).contains("/2024-05-01/tke/tc3_request,"));
}

#[test]
fn signing_again_replaces_the_previous_signature_and_token() {
    let mut request = post("https://cvm.tencentcloudapi.com/");
    sign_request(
        &mut request,
        &credentials().with_session_token("old-token"),
        AT,
    )
    .unwrap();
    let first = authorization(request.headers()).to_owned();

    sign_request(&mut request, &credentials(), AT + 1).unwrap();

    assert_ne!(authorization(request.headers()), first);
    assert_eq!(request.headers().get_all("authorization").iter().count(), 1);
    assert_eq!(request.headers()["x-tc-timestamp"], (AT + 1).to_string());
    assert!(request.headers().get("x-tc-token").is_none());
}

#[test]
fn the_same_input_gives_the_same_signature() {
    let mut one = post("https://cvm.tencentcloudapi.com/");
    let mut other = post("https://cvm.tencentcloudapi.com/");
    sign_request(&mut one, &credentials(), AT).unwrap();
    sign_request(&mut other, &credentials(), AT).unwrap();
    assert_eq!(one.headers(), other.headers());
}

#[test]
fn failures_leave_the_request_unsigned() {
    let no_content_type = Request::post("https://cvm.tencentcloudapi.com/")
        .body(String::new())
        .unwrap();
    let no_host = post("/");
    let ip_without_service = post("http://10.0.0.1:8080/");
    let cases = [
        (
            no_content_type,
            credentials(),
            SignErrorKind::MissingContentType,
        ),
        (no_host, credentials(), SignErrorKind::MissingHost),
        (
            ip_without_service,
            credentials(),
            SignErrorKind::UnknownService,
        ),
        (
            post("https://cvm.tencentcloudapi.com/"),
            Credentials::new("AKID\nEXAMPLE", "secret-key"),
            SignErrorKind::InvalidHeader,
        ),
        (
            post("https://cvm.tencentcloudapi.com/"),
            credentials().with_session_token("token\r\n"),
            SignErrorKind::InvalidHeader,
        ),
    ];
    for (mut request, credentials, kind) in cases {
        let before = request.headers().clone();
        let err = sign_request(&mut request, &credentials, AT).unwrap_err();
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(request.headers(), &before, "{err}");
        // One line, in the form of every kind-and-detail error: the kind's
        // words, then what is at fault; never a key.
        let message = err.to_string();
        assert!(message.starts_with(&kind.to_string()), "{message}");
        assert!(!message.contains(['\n', '\r']), "{message}");
        assert!(!message.contains("secret-key"), "{message}");
    }
}
