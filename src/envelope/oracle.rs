//! The reference decoder for the differential tests: serde_json drives
//! visitors over the same document, and its verdict defines correct.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Decoded, ErrorFields};
use crate::error::DecodeErrorKind;

/// The oracle's verdict: (RequestId, Ok(error fields) or Err(kind)).
pub(crate) type Verdict = (
    Option<String>,
    Result<Option<(String, String)>, DecodeErrorKind>,
);

/// What [`decode`](super::decode) returns, reduced to a comparable verdict.
pub(crate) fn verdict_of(result: Result<Decoded<'_>, crate::DecodeError>) -> Verdict {
    match result {
        Ok(decoded) => (
            decoded.request_id().map(str::to_owned),
            Ok(decoded
                .error()
                .map(|e| (e.code().to_owned(), e.message().to_owned()))),
        ),
        Err(err) => (
            err.request_id().map(|id| id.as_str().to_owned()),
            Err(err.kind()),
        ),
    }
}

/// serde_json's verdict on `body`.
pub(crate) fn decode_with_serde(body: &[u8]) -> Verdict {
    let mut partial = Partial::default();
    let mut de = serde_json::Deserializer::from_slice(body);
    let syntax = TopSeed(&mut partial)
        .deserialize(&mut de)
        .and_then(|()| de.end());
    // serde_json skips payload strings without checking their UTF-8.
    let utf8 = std::str::from_utf8(body).is_ok();
    let request_id = match partial
        .request_id
        .map(|raw| parse_str(raw.get().as_bytes()))
    {
        None => None,
        Some(Ok(id)) => Some(id.into_owned()),
        Some(Err(_)) => {
            partial.record(DecodeErrorKind::InvalidRequestId);
            None
        }
    };
    if syntax.is_err() || !utf8 {
        return (request_id, Err(DecodeErrorKind::Syntax));
    }
    if let Some(kind) = partial.failure {
        return (request_id, Err(kind));
    }
    let error = match partial.error {
        None => None,
        // serde's derive would also take `["Code", "Message"]` for a struct;
        // the rule is an object.
        Some(raw) if !raw.get().starts_with('{') => {
            return (request_id, Err(DecodeErrorKind::InvalidError));
        }
        Some(raw) => match serde_json::from_str::<ErrorFields<'_>>(raw.get()) {
            Ok(error) => Some((error.code().to_owned(), error.message().to_owned())),
            Err(_) => return (request_id, Err(DecodeErrorKind::InvalidError)),
        },
    };
    (request_id, Ok(error))
}

/// A JSON string, borrowed unless it holds escapes.
fn parse_str(raw: &[u8]) -> serde_json::Result<Cow<'_, str>> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    serde_json::from_slice::<Text<'_>>(raw).map(|text| text.0)
}

/// What was read so far. Semantic problems are recorded, not raised, so
/// that the whole document is still checked for syntax (which wins).
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use super::*;
    use crate::envelope::block::forced;
    use crate::envelope::decode;
    use crate::envelope::payload_scalars::neutralize_payload_scalars;

    /// The rule: the same outcome, error fields and RequestId as serde_json
    /// on the body with misspelt payload scalars neutralized (the one
    /// divergence allowed, see `payload_scalars`). And where serde_json
    /// stops reading at a name with invalid UTF-8 but the scanner reads on,
    /// only the kind is compared (the scanner may know the RequestId where
    /// serde_json does not).
    fn same_verdict(body: &[u8]) {
        let exact = decode_with_serde(body);
        let neutralized = decode_with_serde(&neutralize_payload_scalars(body));
        for choice in forced::ALL {
            // Read byte by byte, payload scalars are spelt out too.
            let oracle = match choice {
                forced::Choice::Bytewise => &exact,
                _ => &neutralized,
            };
            forced::with(choice, || same_as(body, oracle));
        }
    }

    fn same_as(body: &[u8], oracle: &Verdict) {
        let ours = verdict_of(decode(body));
        if std::str::from_utf8(body).is_err() {
            assert_eq!(ours.1, Err(DecodeErrorKind::Syntax));
            assert_eq!(oracle.1, Err(DecodeErrorKind::Syntax));
            return;
        }
        assert_eq!(&ours, oracle, "body: {:?}", String::from_utf8_lossy(body));
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "(\\PC|[\"\\\\\\n\\t\\u{0}-\\u{1f}]){0,12}".prop_map(Value::String),
            // Long enough to cross the scanner's 64-byte blocks.
            "(\\PC|[\"\\\\]){40,130}".prop_map(Value::String),
            Just(json!({"Error": {"Code": "InternalError", "Message": "payload"}})),
            Just(Value::String(r#""Error":{"Code":"X"}"#.into())),
        ]
    }

    /// Pretty-printed: blanks between tokens, in runs of any length.
    fn pretty(value: &Value) -> String {
        serde_json::to_string_pretty(value).expect("a Value serializes")
    }

    fn payload() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(6, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[A-Za-z]{1,8}|Error|RequestId|Response", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    /// Members of `Response`, in any order, some of them duplicated.
    fn response_members() -> impl Strategy<Value = Vec<(String, String)>> {
        let error = prop_oneof![
            Just(r#"{"Code":"RequestLimitExceeded","Message":"slow \"down\" \u4f60"}"#.to_owned()),
            Just(r#"{"Message":"m","Code":"InternalError.","Extra":[1]}"#.to_owned()),
            Just(r#"{"Code":"A"}"#.to_owned()),
            Just(r#"{"Code":42,"Message":"m"}"#.to_owned()),
            Just(r#"{"Code":"A","Code":"B"}"#.to_owned()),
            Just("null".to_owned()),
            Just(r#""AuthFailure""#.to_owned()),
        ];
        let request_id = prop_oneof![
            Just(r#""ed93f3cb-f35e-473f-b9f3-0d451b8b79c6""#.to_owned()),
            Just(r#""r-\u0031\n""#.to_owned()),
            Just("7".to_owned()),
            Just(r#""\ud800""#.to_owned()),
        ];
        let member = prop_oneof![
            error.prop_map(|v| ("Error".to_owned(), v)),
            request_id.prop_map(|v| ("RequestId".to_owned(), v)),
            ("[A-Z][a-z]{0,6}", payload()).prop_map(|(k, v)| (k, v.to_string())),
            ("[A-Z][a-z]{0,6}", payload()).prop_map(|(k, v)| (k, pretty(&v))),
            payload().prop_map(|v| ("Err\\u006fr".to_owned(), v.to_string())),
        ];
        prop::collection::vec(member, 0..5)
    }

    fn envelope() -> impl Strategy<Value = Vec<u8>> {
        (
            response_members(),
            prop::collection::vec(("[a-z]{1,5}", payload()), 0..2),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(members, others, pretty, escaped_name, twice)| {
                let sep = if pretty { ",\n  " } else { "," };
                let response = members
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect::<Vec<_>>()
                    .join(sep);
                let name = if escaped_name {
                    "Re\\u0073ponse"
                } else {
                    "Response"
                };
                let mut top: Vec<String> = others
                    .iter()
                    .map(|(k, v)| format!("\"{k}\": {v}"))
                    .collect();
                top.push(format!("\"{name}\" : {{ {response} }}"));
                if twice {
                    top.push(r#""Response":{}"#.to_owned());
                }
                format!("{{{}}}", top.join(sep)).into_bytes()
            })
    }

    /// Bytes changed the ways a broken gateway or network changes them.
    fn mutated() -> impl Strategy<Value = Vec<u8>> {
        (
            envelope(),
            any::<prop::sample::Index>(),
            any::<u8>(),
            0..4u8,
        )
            .prop_map(|(mut body, at, byte, how)| {
                if body.is_empty() {
                    return body;
                }
                let i = at.index(body.len());
                match how {
                    0 => body.truncate(i),
                    1 => {
                        body.remove(i);
                    }
                    2 => body.insert(i, byte),
                    _ => body[i] = byte,
                }
                body
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn envelopes_decode_as_serde_json_says(body in envelope()) {
            same_verdict(&body);
        }

        #[test]
        fn mutated_envelopes_decode_as_serde_json_says(body in mutated()) {
            same_verdict(&body);
        }

        #[test]
        fn any_bytes_decode_as_serde_json_says(body in prop::collection::vec(any::<u8>(), 0..64)) {
            same_verdict(&body);
        }
    }

    #[test]
    fn fixed_cases() {
        for body in [
            &b""[..],
            b"   ",
            b"null",
            b"[]",
            b"{}",
            br#"{"Response":{}}"#,
            br#"{"Response":{"RequestId":"a"},"Response":{}}"#,
            br#"{"Response":7}"#,
            br#"{"Response":{"Error":{"Code":"X"},"Error":{"Code":"Y"}}}"#,
            br#"{"Response":{"RequestId":"a","RequestId":"b"}}"#,
            br#"{"Response":{"RequestId":"a"}} x"#,
            br#"{"Response":{"RequestId":"a"},}"#,
            br#"{"Re\u0073ponse":{"\u0045rror":{"Code":"Z"}}}"#,
            br#"{"Re\ud800sponse":{}}"#,
            br#"{"Response":{"x":"\ud800"}}"#,
            b"{\"Response\":{\"x\":\"\xff\"}}",
            br#"{"Response":{"RequestId":"a","Error":{"Code":"Q","Message":"\u00e9"}}}"#,
            // Bytes no token is made of, outside strings (#21).
            b"{\"Response\":{\"X\":[\x7f]}}",
            b"{\"Response\":{\"Error\":{\"Code\":\"C\",\"X\":[\x7f]}}}",
            b"{\"Response\":{},\"X\":[\x7f]}",
            b"{\"Response\":{\"X\":[1\x7f]}}",
            b"{\"Response\":{\"X\":{\"a\":\x7f}}}",
            br#"{"Response":{"X":[@]}}"#,
            br#"{"Response":{"X":[$3]}}"#,
            br#"{"Response":{"X":[<5210]}}"#,
            // Misspelt scalars: the divergence.
            br#"{"Response":{"X":[tru,01,1.2.3,-,eu]},"RequestId":"m"}"#,
        ] {
            same_verdict(body);
        }
    }
}
