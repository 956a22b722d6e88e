//! `Response`'s members as the caller's type sees them: every member but
//! `Error` and `RequestId`, which the envelope keeps for itself.
//!
//! [`Members`] is a `MapAccess` over serde_json's own: the caller's type
//! reads the payload straight from serde_json's deserializer, and only
//! `Response`'s own member names pass through here. It knows at each step
//! whether serde_json stands between two members, so that a failure of the
//! caller's type can be stepped over and the rest of the document still
//! checked in the same pass.
//!
//! The members before the first of the caller's are read first
//! ([`Members::lead`]): Tencent Cloud puts `Error` first in an error
//! envelope, whose verdict is then the API error whatever the caller's type
//! would make of the rest, so that type is not run at all. A type that the
//! error envelope does not fit (any with a field that is not optional)
//! would fail, and serde_json allocates every failure's message.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

use super::pass::{Found, TextSeed};
use crate::request_id::RequestId;

/// Where serde_json's map stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum At {
    /// Before a member name (or the end).
    Key,
    /// After a member name handed to the caller's type, before its value.
    Value,
    /// serde_json failed, or was left mid-value: nothing more can be read.
    Broken,
    /// After the last member.
    End,
}

/// `Response`'s members minus `Error` and `RequestId`.
pub(super) struct Members<'de, 'f, A> {
    map: A,
    found: &'f mut Found,
    at: At,
    /// The caller's first member name, read by [`lead`](Self::lead).
    pending: Option<Cow<'de, str>>,
}

impl<'de, 'f, A: MapAccess<'de>> Members<'de, 'f, A> {
    pub(super) fn new(map: A, found: &'f mut Found) -> Self {
        Self {
            map,
            found,
            at: At::Key,
            pending: None,
        }
    }

    /// Reads the envelope's members that come before the caller's first,
    /// keeping that one's name for the caller. `true` when `Error` was among
    /// them: the rest is then skipped and checked, never read by the
    /// caller's type, and the verdict is the API error.
    pub(super) fn lead(&mut self) -> Result<bool, A::Error> {
        loop {
            self.at = At::Broken;
            match self.map.next_key_seed(NameSeed)? {
                None => {
                    self.at = At::End;
                    return Ok(self.found.error.is_some());
                }
                Some(Name::Envelope(member)) => self.envelope_member(member)?,
                Some(Name::Other(_)) if self.found.error.is_some() => {
                    self.map.next_value::<IgnoredAny>()?;
                }
                Some(Name::Other(name)) => {
                    self.pending = Some(name);
                    self.at = At::Key;
                    return Ok(false);
                }
            }
        }
    }

    pub(super) fn at(&self) -> At {
        self.at
    }

    /// Reads what the caller's type left unread, so that `Error` and
    /// `RequestId` are found wherever they are and the object is checked
    /// to its end.
    pub(super) fn finish(&mut self) -> Result<(), A::Error> {
        if self.at == At::Value {
            self.next_value::<IgnoredAny>()?;
        }
        while self.next_key::<IgnoredAny>()?.is_some() {
            self.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    /// The value of `Response.Error` or `Response.RequestId`. Anything the
    /// untyped decoder would not accept as success or an API error is an
    /// error here, and the caller falls back to that decoder for the verdict.
    fn envelope_member(&mut self, member: Envelope) -> Result<(), A::Error> {
        match member {
            Envelope::Error => {
                if self.found.error.is_some() {
                    return Err(de::Error::custom("duplicate Response.Error"));
                }
                self.found.error = Some(self.map.next_value_seed(super::pass::ErrorSeed)?);
            }
            Envelope::RequestId => {
                if self.found.request_id.is_some() {
                    return Err(de::Error::custom("duplicate Response.RequestId"));
                }
                let text = self.map.next_value_seed(TextSeed)?;
                self.found.request_id = Some(RequestId::from_text(text));
            }
        }
        Ok(())
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Members<'de, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        mut seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            match self.at {
                At::Key => {}
                At::End => return Ok(None),
                At::Value | At::Broken => {
                    self.at = At::Broken;
                    return Err(de::Error::custom("a member name read out of turn"));
                }
            }
            self.at = At::Broken;
            let key = match self.pending.take() {
                Some(Cow::Borrowed(name)) => {
                    KeySeed(seed).field(BorrowedStrDeserializer::new(name))?
                }
                Some(Cow::Owned(name)) => KeySeed(seed).field(StrDeserializer::new(&name))?,
                None => match self.map.next_key_seed(KeySeed(seed))? {
                    Some(key) => key,
                    None => {
                        self.at = At::End;
                        return Ok(None);
                    }
                },
            };
            match key {
                Key::Field(value) => {
                    self.at = At::Value;
                    return Ok(Some(value));
                }
                Key::Refused(message) => {
                    // serde_json read the name whole: its value comes next.
                    self.at = At::Value;
                    return Err(de::Error::custom(message));
                }
                Key::Envelope(member, returned) => {
                    self.envelope_member(member)?;
                    self.at = At::Key;
                    seed = returned;
                }
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        if self.at != At::Value {
            self.at = At::Broken;
            return Err(de::Error::custom("a member value read out of turn"));
        }
        self.at = At::Broken;
        let value = self.map.next_value_seed(seed)?;
        self.at = At::Key;
        Ok(value)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// `Members` as a deserializer of a map, for the caller's type.
pub(super) struct MembersDeserializer<'m, 'de, 'f, A>(pub(super) &'m mut Members<'de, 'f, A>);

impl<'de, A: MapAccess<'de>> Deserializer<'de> for MembersDeserializer<'_, 'de, '_, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.0)
    }

    // `Response` is there: `Option<T>` is `Some`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// The two members the envelope keeps.
#[derive(Debug, Clone, Copy)]
enum Envelope {
    Error,
    RequestId,
}

impl Envelope {
    fn named(name: &str) -> Option<Self> {
        match name {
            "Error" => Some(Self::Error),
            "RequestId" => Some(Self::RequestId),
            _ => None,
        }
    }
}

/// A member name of `Response`: the envelope's, or the caller's to read
/// (`V` is what the caller's seed made of it, `K` the seed).
enum Key<V, K> {
    Field(V),
    /// The caller's type refused the name (`deny_unknown_fields`...).
    Refused(String),
    /// The caller's seed comes back unused, for the next name.
    Envelope(Envelope, K),
}

/// [`Key`] for the seed `K`.
type KeyOf<'de, K> = Key<<K as DeserializeSeed<'de>>::Value, K>;

/// Reads a member name and hands it to `K` unless it is the envelope's.
struct KeySeed<K>(K);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<K> {
    type Value = KeyOf<'de, K>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, K: DeserializeSeed<'de>> KeySeed<K> {
    fn field<E: de::Error, D: Deserializer<'de, Error = E>>(
        self,
        name: D,
    ) -> Result<KeyOf<'de, K>, E> {
        match self.0.deserialize(name) {
            Ok(value) => Ok(Key::Field(value)),
            Err(err) => Ok(Key::Refused(err.to_string())),
        }
    }
}

impl<'de, K: DeserializeSeed<'de>> Visitor<'de> for KeySeed<K> {
    type Value = KeyOf<'de, K>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Self::Value, E> {
        match Envelope::named(name) {
            Some(member) => Ok(Key::Envelope(member, self.0)),
            None => self.field(BorrowedStrDeserializer::<E>::new(name)),
        }
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        match Envelope::named(name) {
            Some(member) => Ok(Key::Envelope(member, self.0)),
            None => self.field(StrDeserializer::<E>::new(name)),
        }
    }
}

/// A member name of `Response` as [`Members::lead`] reads it.
enum Name<'de> {
    Envelope(Envelope),
    /// The caller's: borrowed from the body unless it had escapes.
    Other(Cow<'de, str>),
}

/// Reads a [`Name`].
struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Name<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Name<'de>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Name<'de>, E> {
        Ok(match Envelope::named(name) {
            Some(member) => Name::Envelope(member),
            None => Name::Other(Cow::Borrowed(name)),
        })
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Name<'de>, E> {
        Ok(match Envelope::named(name) {
            Some(member) => Name::Envelope(member),
            None => Name::Other(Cow::Owned(name.to_owned())),
        })
    }
}
