//! The envelope rules decided by serde_json, independently of the crate's
//! scanner: the reference the `envelope_decode` target compares with.
//!
//! The rules (README, "Behaviour"): one JSON document, UTF-8 throughout,
//! whose top level is an object with exactly one `Response` member, an
//! object; in it, at most one `Error` (an object with a string `Code` and
//! at most one string `Message`) and at most one `RequestId` (a string).
//! Everything else is payload, skipped by serde_json without a depth limit.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// serde_json's reading of an envelope: the RequestId and, on failure,
/// `Response.Error`'s code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerdeVerdict {
    /// `Response.RequestId`.
    pub request_id: Option<String>,
    /// `Response.Error`'s (`Code`, `Message`), the message empty when absent.
    pub error: Option<(String, String)>,
}

#[derive(Deserialize)]
struct Top<'a> {
    #[serde(rename = "Response", borrow)]
    response: &'a RawValue,
}

#[derive(Deserialize)]
struct ResponseMembers<'a> {
    #[serde(rename = "Error", borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
    #[serde(rename = "RequestId", borrow, default, deserialize_with = "present")]
    request_id: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ErrorMembers<'a> {
    #[serde(rename = "Code", borrow)]
    code: Cow<'a, str>,
    #[serde(rename = "Message", borrow, default)]
    message: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// A member that is present, whatever its value: `Option`'s own
/// deserialization would read `null` as absent, which the rules do not.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

/// serde's derive also reads a struct from an array; the rules want objects.
fn is_object(raw: &str) -> bool {
    raw.trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
}

/// What serde_json makes of `body` under the rules; `None` when it is not
/// an envelope.
pub fn decode_with_serde(body: &[u8]) -> Option<SerdeVerdict> {
    // serde_json skips payload strings without checking their UTF-8.
    let text = std::str::from_utf8(body).ok()?;
    if !is_object(text) {
        return None;
    }
    let top: Top<'_> = serde_json::from_str(text).ok()?;
    if !is_object(top.response.get()) {
        return None;
    }
    let members: ResponseMembers<'_> = serde_json::from_str(top.response.get()).ok()?;
    let request_id = match members.request_id {
        Some(raw) => Some(
            serde_json::from_str::<Text<'_>>(raw.get())
                .ok()?
                .0
                .into_owned(),
        ),
        None => None,
    };
    let error = match members.error {
        Some(raw) if !is_object(raw.get()) => return None,
        Some(raw) => {
            let error: ErrorMembers<'_> = serde_json::from_str(raw.get()).ok()?;
            Some((error.code.into_owned(), error.message.into_owned()))
        }
        None => None,
    };
    Some(SerdeVerdict { request_id, error })
}
