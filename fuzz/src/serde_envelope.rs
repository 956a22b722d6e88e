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

/// Why serde_json reads no envelope in a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The body breaks the rules (syntax, UTF-8, shape).
    NotAnEnvelope,
    /// serde_json stopped at its recursion limit (128 levels) before it
    /// could decide; the crate's scanner has no depth limit, so there is no
    /// verdict to compare with.
    RecursionLimit,
}

/// Sorts a serde_json error: its recursion limit, or a real refusal.
fn refusal(err: serde_json::Error) -> Refusal {
    if err.to_string().contains("recursion limit exceeded") {
        Refusal::RecursionLimit
    } else {
        Refusal::NotAnEnvelope
    }
}

/// What serde_json makes of `body` under the rules.
pub fn decode_with_serde(body: &[u8]) -> Result<SerdeVerdict, Refusal> {
    use Refusal::NotAnEnvelope;
    // serde_json skips payload strings without checking their UTF-8.
    let text = std::str::from_utf8(body).map_err(|_| NotAnEnvelope)?;
    if !is_object(text) {
        return Err(NotAnEnvelope);
    }
    let top: Top<'_> = serde_json::from_str(text).map_err(refusal)?;
    if !is_object(top.response.get()) {
        return Err(NotAnEnvelope);
    }
    let members: ResponseMembers<'_> = serde_json::from_str(top.response.get()).map_err(refusal)?;
    let request_id = match members.request_id {
        Some(raw) => Some(
            serde_json::from_str::<Text<'_>>(raw.get())
                .map_err(refusal)?
                .0
                .into_owned(),
        ),
        None => None,
    };
    let error = match members.error {
        Some(raw) if !is_object(raw.get()) => return Err(NotAnEnvelope),
        Some(raw) => {
            let error: ErrorMembers<'_> = serde_json::from_str(raw.get()).map_err(refusal)?;
            Some((error.code.into_owned(), error.message.into_owned()))
        }
        None => None,
    };
    Ok(SerdeVerdict { request_id, error })
}
