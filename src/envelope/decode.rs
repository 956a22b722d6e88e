//! Finds `Response.Error` and `Response.RequestId` in a whole body.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::RequestId;
use crate::error::{DecodeError, DecodeErrorKind};

/// What an envelope says: success or `Error`, and the RequestId.
///
/// Strings borrow from the body unless they hold escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    request_id: Option<Cow<'a, str>>,
    error: Option<ErrorFields<'a>>,
}

impl<'a> Decoded<'a> {
    /// `Response.RequestId`, if present.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// `Response.Error`, if the call failed.
    pub fn error(&self) -> Option<&ErrorFields<'a>> {
        self.error.as_ref()
    }

    /// `true` when the envelope holds no `Error`.
    pub fn is_success(&self) -> bool {
        self.error.is_none()
    }
}

/// `Response.Error.Code` and `Response.Error.Message`, escapes decoded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorFields<'a> {
    #[serde(rename = "Code", borrow)]
    code: Cow<'a, str>,
    #[serde(rename = "Message", borrow, default)]
    message: Cow<'a, str>,
}

impl ErrorFields<'_> {
    /// `Response.Error.Code`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// `Response.Error.Message`; empty when absent.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Decodes a whole response body as an API 3.0 envelope.
///
/// The body must be one JSON object, valid UTF-8 throughout, whose
/// `Response` member is an object. Only `Response`'s own `Error` and
/// `RequestId` members count: an `Error` key nested in a payload value is
/// payload. `Response`, `Error` and `RequestId` may each appear once.
///
/// ```
/// use tower_tencentcloud::envelope::decode;
///
/// let ok = decode(br#"{"Response":{"Items":[{"Error":"payload"}],"RequestId":"r-2"}}"#).unwrap();
/// assert!(ok.is_success());
/// assert_eq!(ok.request_id(), Some("r-2"));
/// ```
pub fn decode(body: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    // serde_json skips payload strings without checking their UTF-8.
    if simdutf8::basic::from_utf8(body).is_err() {
        let detail = simdutf8::compat::from_utf8(body)
            .err()
            .map(|err| err.to_string())
            .unwrap_or_default();
        return Err(DecodeError::new(DecodeErrorKind::Syntax, detail));
    }
    let mut partial = Partial::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    let syntax = TopSeed(&mut partial)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    let request_id = match partial.request_id.map(parse_str) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => {
            partial.record(DecodeErrorKind::InvalidRequestId);
            None
        }
    };
    let fail = |kind, detail: String| {
        Err(DecodeError::new(kind, detail)
            .with_request_id(request_id.as_deref().map(RequestId::from)))
    };
    if let Err(err) = syntax {
        return fail(DecodeErrorKind::Syntax, err.to_string());
    }
    if let Some(kind) = partial.failure {
        return fail(kind, String::new());
    }
    let error = match partial.error {
        None => None,
        Some(raw) => match serde_json::from_str::<ErrorFields<'_>>(raw.get()) {
            Ok(error) => Some(error),
            Err(err) => return fail(DecodeErrorKind::InvalidError, err.to_string()),
        },
    };
    Ok(Decoded { request_id, error })
}

/// A JSON string, borrowed unless it holds escapes.
fn parse_str(raw: &RawValue) -> serde_json::Result<Cow<'_, str>> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    serde_json::from_str::<Text<'_>>(raw.get()).map(|text| text.0)
}

/// What was read so far. Semantic problems are recorded, not raised, so
/// that the whole document is still checked for syntax (which wins) and
/// the RequestId is kept whatever comes after it.
#[derive(Default)]
struct Partial<'de> {
    request_id: Option<&'de RawValue>,
    error: Option<&'de RawValue>,
    failure: Option<DecodeErrorKind>,
}

impl Partial<'_> {
    fn record(&mut self, kind: DecodeErrorKind) {
        self.failure.get_or_insert(kind);
    }
}

/// The members that matter, by name after unescaping.
#[derive(PartialEq, Eq)]
enum Key {
    Response,
    Error,
    RequestId,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "Response" => Key::Response,
                    "Error" => Key::Error,
                    "RequestId" => Key::RequestId,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Visits a value that must be an object; any other value is consumed and
/// recorded as `kind`.
macro_rules! object_or_record {
    ($kind:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            self.0.record($kind);
            Ok(())
        }

        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            self.0.record($kind);
            Ok(())
        }

        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            self.0.record($kind);
            Ok(())
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            self.0.record($kind);
            Ok(())
        }

        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            self.0.record($kind);
            Ok(())
        }

        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            self.0.record($kind);
            Ok(())
        }

        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            self.0.record($kind);
            Ok(())
        }
    };
}

/// The document: finds `Response`, skips every other member.
struct TopSeed<'p, 'de>(&'p mut Partial<'de>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with a Response member")
    }

    object_or_record!(DecodeErrorKind::MissingResponse);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<Key>()? {
            if key != Key::Response {
                map.next_value::<IgnoredAny>()?;
            } else if seen {
                self.0.record(DecodeErrorKind::DuplicateKey);
                map.next_value::<IgnoredAny>()?;
            } else {
                seen = true;
                map.next_value_seed(ResponseSeed(&mut *self.0))?;
            }
        }
        if !seen {
            self.0.record(DecodeErrorKind::MissingResponse);
        }
        Ok(())
    }
}

/// `Response`: keeps `Error` and `RequestId` as raw JSON, skips the payload.
struct ResponseSeed<'p, 'de>(&'p mut Partial<'de>);

impl<'de> DeserializeSeed<'de> for ResponseSeed<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResponseSeed<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Response object")
    }

    object_or_record!(DecodeErrorKind::MissingResponse);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key>()? {
            let slot = match key {
                Key::Error => &mut self.0.error,
                Key::RequestId => &mut self.0.request_id,
                Key::Response | Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let raw = map.next_value::<&'de RawValue>()?;
            if slot.is_some() {
                self.0.record(DecodeErrorKind::DuplicateKey);
            } else {
                *slot = Some(raw);
            }
        }
        Ok(())
    }
}
