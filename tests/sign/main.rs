//! The sign tests, one binary: each module was a test file of its own.

#[path = "../api_server/mod.rs"]
mod api_server;
#[path = "../support/sdk.rs"]
mod sdk;

mod action;
mod conformance;
mod credentials;
mod layer;
mod request;
mod secrets;
mod verify;
