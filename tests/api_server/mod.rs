//! A local HTTP/1 server on 127.0.0.1 (ephemeral port) that answers each
//! request with what a handler decides and keeps the headers it received,
//! and a retry policy for the stacks that call it.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// Decides the answer to the request with these headers, the `attempt`-th
/// one (from 0) the server received.
pub trait Handler: Fn(&HeaderMap, usize) -> Response<Full<Bytes>> + Send + Sync + 'static {}
impl<F> Handler for F where F: Fn(&HeaderMap, usize) -> Response<Full<Bytes>> + Send + Sync + 'static
{}

pub struct ApiServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<HeaderMap>>>,
}

impl ApiServer {
    pub async fn start(handler: impl Handler) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let log = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                let log = log.clone();
                let service = service_fn(move |request: Request<Incoming>| {
                    let attempt = {
                        let mut log = log.lock().unwrap();
                        log.push(request.headers().clone());
                        log.len() - 1
                    };
                    let response = handler(request.headers(), attempt);
                    async move { Ok::<_, Infallible>(response) }
                });
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, received }
    }

    /// `http://127.0.0.1:PORT`, for `ActionRequest::endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The headers of every request received so far, in order.
    pub fn received(&self) -> Vec<HeaderMap> {
        self.received.lock().unwrap().clone()
    }
}

/// The transport under the envelope layer.
pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

/// A JSON response with the envelope `body`.
pub fn envelope(body: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

/// An error envelope with `code`.
pub fn error_envelope(code: &str, request_id: &str) -> Response<Full<Bytes>> {
    envelope(&format!(
        r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"refused by the test server"}},"RequestId":"{request_id}"}}}}"#
    ))
}
