//! The secret key and the session token never show: not in Debug, Display,
//! errors, nor in tracing output at TRACE level.

use crate::api_server;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use api_server::{ApiServer, client, error_envelope};
use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use tower::retry::RetryLayer;
use tower::{Layer, ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{Credentials, SignLayer, sign_request};

const SECRET_KEY: &str = "SECRET-KEY-7f3a9c";
const SESSION_TOKEN: &str = "SESSION-TOKEN-5e1d";

fn credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", SECRET_KEY).with_session_token(SESSION_TOKEN)
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET_KEY),
        "{what} shows the secret key: {text}"
    );
    assert!(
        !text.contains(SESSION_TOKEN),
        "{what} shows the session token: {text}"
    );
}

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[test]
fn credentials_redact_the_key_and_the_token() {
    let credentials = credentials();
    let debug = format!("{credentials:?}");
    let display = credentials.to_string();
    assert_no_secret("Debug", &debug);
    assert_no_secret("Display", &display);
    assert!(debug.contains("AKIDEXAMPLE"), "{debug}");
    assert!(display.contains("AKIDEXAMPLE"), "{display}");

    let layer = SignLayer::new(credentials);
    assert_no_secret("SignLayer's Debug", &format!("{layer:?}"));
    let service = layer.layer(tower::service_fn(|_: Request<String>| async {
        Ok::<_, tower_tencentcloud::Error>(http::Response::new(String::new()))
    }));
    assert_no_secret("Sign's Debug", &format!("{service:?}"));
}

#[test]
fn signed_requests_show_no_secret_in_debug() {
    let mut request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .build()
        .unwrap();
    sign_request(&mut request, &credentials(), 1_714_564_800).unwrap();
    // The token is sent, but marked sensitive, so Debug hides it.
    assert_eq!(request.headers()["x-tc-token"], SESSION_TOKEN);
    assert!(request.headers()["x-tc-token"].is_sensitive());
    assert!(request.headers()["authorization"].is_sensitive());
    assert_no_secret("a signed request's Debug", &format!("{request:?}"));
}

#[test]
fn a_token_that_cannot_be_sent_is_an_error_without_its_value() {
    let bad_token = format!("{SESSION_TOKEN}\r\nX-Injected: 1");
    let credentials = Credentials::new("AKIDEXAMPLE", SECRET_KEY).with_session_token(bad_token);
    let mut request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .build()
        .unwrap();

    let err = sign_request(&mut request, &credentials, 1_714_564_800).unwrap_err();

    let err = tower_tencentcloud::Error::from(err);
    assert_no_secret("the error's Display", &err.to_string());
    assert_no_secret("the error's Debug", &format!("{err:?}"));
}

#[tokio::test]
async fn tracing_output_holds_no_secret() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer({
            let captured = captured.clone();
            move || captured.clone()
        })
        .finish();
    // The runtime of #[tokio::test] has one thread: the server and the
    // client tasks log through this subscriber too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = ApiServer::start(|_, attempt| {
        if attempt == 0 {
            let mut response = error_envelope("AuthFailure.SignatureExpire", "expired");
            let ahead = SystemTime::now() + Duration::from_secs(20 * 60);
            response
                .headers_mut()
                .insert("date", httpdate::fmt_http_date(ahead).parse().unwrap());
            response
        } else {
            error_envelope("AuthFailure.UnauthorizedOperation", "refused")
        }
    })
    .await;
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(SignLayer::new(credentials()))
        .layer(EnvelopeLayer::new())
        .service(client());
    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .endpoint(server.endpoint())
        .build()
        .unwrap();

    let err = service.clone().oneshot(request).await.unwrap_err();
    assert_no_secret("the API error", &format!("{err} {err:?}"));

    let unsignable = Request::post(format!("{}/", server.endpoint()))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let err = service.oneshot(unsignable).await.unwrap_err();
    assert_no_secret("the sign error", &format!("{err} {err:?}"));

    let output = captured.text();
    // Proof that the capture works: the layer logged what it did.
    assert!(output.contains("signature expired"), "{output}");
    assert!(output.contains("signed request"), "{output}");
    assert!(output.contains("request not signed"), "{output}");
    assert!(output.contains("API error"), "{output}");
    assert_no_secret("tracing output", &output);
}
