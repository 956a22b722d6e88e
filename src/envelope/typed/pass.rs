//! One serde_json pass over a whole body: the envelope's own members
//! (`Response`, its `Error` and `RequestId`) read by visitors of the
//! crate, everything else of `Response` deserialized into the caller's type
//! by serde_json directly.
//!
//! The pass decides only what it can decide exactly as the untyped decoder
//! would: a success, an API error, or fields that do not fit a well-formed
//! success envelope. Anything else (invalid UTF-8, syntax, a missing or
//! duplicate member, a malformed `Error`, a `RequestId` that is no string,
//! or serde_json stopping inside the caller's type) leaves the verdict to
//! the untyped decoder, which reads the body again: failures only pay twice.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::members::{At, Members, MembersDeserializer};
use crate::code::Code;
use crate::request_id::RequestId;
use crate::text::Text;

/// What the pass decided.
pub(crate) enum Pass<T> {
    /// A success envelope, and its fields as `T`.
    Value(T, Option<RequestId>),
    /// `Response.Error`'s code and message.
    Api(Code, Text, Option<RequestId>),
    /// A success envelope whose fields do not fit `T`.
    Unfit(serde_json::Error, Option<RequestId>),
}

/// The envelope's members, as the pass found them.
#[derive(Default)]
pub(super) struct Found {
    pub(super) request_id: Option<RequestId>,
    pub(super) error: Option<(Code, Text)>,
}

/// Reads `body` once. `Err` when the untyped decoder must decide; the error
/// is serde_json's, which is also why the fields do not fit if that decoder
/// finds a success envelope.
pub(crate) fn one_pass<'de, T: Deserialize<'de>>(
    body: &'de [u8],
) -> Result<Pass<T>, serde_json::Error> {
    // One check of the whole body: serde_json skips the strings it does not
    // keep without checking them, and reading from a `str` spares it the
    // check of each string it keeps (a sixth of the decode at 1 KiB).
    let Ok(text) = simdutf8::basic::from_utf8(body) else {
        return Err(de::Error::custom("invalid UTF-8"));
    };
    let mut found = Found::default();
    let fields = read::<T>(text, &mut found, true)?;
    let Found { request_id, error } = found;
    Ok(match (error, fields) {
        (Some((code, message)), _) => Pass::Api(code, message, request_id),
        (None, Some(value)) => Pass::Value(value, request_id),
        (None, None) => Pass::Unfit(strict_error::<T>(text), request_id),
    })
}

/// The document; `None` when `T` failed and `recover` stepped over it.
fn read<'de, T: Deserialize<'de>>(
    text: &'de str,
    found: &mut Found,
    recover: bool,
) -> serde_json::Result<Option<T>> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let fields = deserializer.deserialize_map(Top {
        found,
        recover,
        fields: PhantomData,
    })?;
    deserializer.end()?;
    Ok(fields)
}

/// serde_json's error for `T`, from a second reading that stops at it:
/// the first one stepped over it to decide the envelope in one pass.
fn strict_error<'de, T: Deserialize<'de>>(text: &'de str) -> serde_json::Error {
    match read::<T>(text, &mut Found::default(), false) {
        Err(err) => err,
        Ok(_) => de::Error::custom("the fields did not deserialize on the first reading"),
    }
}

/// The document's object: `Response` once, anything else skipped.
struct Top<'f, T> {
    found: &'f mut Found,
    recover: bool,
    fields: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Top<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an API 3.0 envelope")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut fields = None;
        let mut seen = false;
        while let Some(is_response) = map.next_key_seed(Named("Response"))? {
            if !is_response {
                map.next_value::<IgnoredAny>()?;
            } else if seen {
                return Err(de::Error::custom("duplicate Response"));
            } else {
                seen = true;
                fields = map.next_value_seed(Response {
                    found: &mut *self.found,
                    recover: self.recover,
                    fields: PhantomData,
                })?;
            }
        }
        if !seen {
            return Err(de::Error::custom("no Response"));
        }
        Ok(fields)
    }
}

/// `Response`: its members go to `T` through [`Members`].
struct Response<'f, T> {
    found: &'f mut Found,
    recover: bool,
    fields: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Response<'_, T> {
    type Value = Option<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<T>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Response<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the Response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        let mut members = Members::new(map, self.found);
        if members.lead()? {
            return Ok(None);
        }
        match T::deserialize(MembersDeserializer(&mut members)) {
            Ok(value) => {
                members.finish()?;
                Ok(Some(value))
            }
            // serde_json stands between members: read on, so that an
            // error envelope, whose fields never fit, is still decided here.
            Err(_) if self.recover && members.at() != At::Broken => {
                members.finish()?;
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }
}

/// A member name: whether it is the one named, escapes decoded.
struct Named(&'static str);

impl<'de> DeserializeSeed<'de> for Named {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Named {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<bool, E> {
        Ok(name == self.0)
    }
}

/// A string value, copied out of the body (see [`Text`]).
pub(super) struct TextSeed;

impl<'de> DeserializeSeed<'de> for TextSeed {
    type Value = Text;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Text, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for TextSeed {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Text, E> {
        Ok(Text::from(text))
    }
}

/// `Code`'s string value.
struct CodeSeed;

impl<'de> DeserializeSeed<'de> for CodeSeed {
    type Value = Code;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Code, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for CodeSeed {
    type Value = Code;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, code: &str) -> Result<Code, E> {
        Ok(Code::read(code))
    }
}

/// `Response.Error`: an object with one string `Code` and at most one
/// string `Message`, other members skipped, as the untyped decoder reads it.
pub(super) struct ErrorSeed;

impl<'de> DeserializeSeed<'de> for ErrorSeed {
    type Value = (Code, Text);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(Code, Text), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ErrorSeed {
    type Value = (Code, Text);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with a string Code")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(Code, Text), A::Error> {
        let (mut code, mut message) = (None, None);
        while let Some(key) = map.next_key_seed(ErrorKeys)? {
            match key {
                ErrorKey::Code if code.is_none() => code = Some(map.next_value_seed(CodeSeed)?),
                ErrorKey::Message if message.is_none() => {
                    message = Some(map.next_value_seed(TextSeed)?);
                }
                ErrorKey::Code | ErrorKey::Message => {
                    return Err(de::Error::custom("duplicate member in Response.Error"));
                }
                ErrorKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match code {
            Some(code) => Ok((code, message.unwrap_or_default())),
            None => Err(de::Error::missing_field("Code")),
        }
    }
}

/// A member name of `Response.Error`, escapes decoded.
enum ErrorKey {
    Code,
    Message,
    Other,
}

/// Reads an [`ErrorKey`].
struct ErrorKeys;

impl<'de> DeserializeSeed<'de> for ErrorKeys {
    type Value = ErrorKey;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ErrorKey, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for ErrorKeys {
    type Value = ErrorKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<ErrorKey, E> {
        Ok(match name {
            "Code" => ErrorKey::Code,
            "Message" => ErrorKey::Message,
            _ => ErrorKey::Other,
        })
    }
}
