//! The one divergence from serde_json that the decoder allows, as code the
//! differential tests and the fuzz target share: inside payload values the
//! block scanner checks strings, brackets, punctuation and that every byte
//! outside strings is one scalars are made of, but not how scalars made of
//! them are spelt (`tru`, `01`, `1.2.3`), which the caller's own
//! deserializer will see. Before asking serde_json, each misspelt payload
//! scalar is replaced by `0` and blanks, so that the oracle judges
//! everything else.
//!
//! Payload is every array and object except the three the decoder reads
//! itself: the top-level object, the first `Response` member's object, and
//! the first `Error` member's object inside it. A scalar is a run, outside
//! strings, of the bytes a literal or a number may begin or continue with:
//! `0-9 + - . E` and the letters of `true false null` (`a e f l n r s t u`).
//! Any other byte outside strings (DEL, a control byte, `@`, `x`…) is left
//! as it is, so that serde_json refuses it, as the scanner must.

use std::borrow::Cow;

/// `body` with every misspelt scalar inside a payload value replaced by `0`
/// and blanks of the same length.
pub fn neutralize_payload_scalars(body: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Cow::Borrowed(body);
    let mut frames: Vec<Frame> = Vec::new();
    // The member name before the value about to start, if any.
    let mut name: Option<String> = None;
    let mut expect_key = false;
    let mut i = 0;
    while i < body.len() {
        let byte = body[i];
        match byte {
            b'"' => {
                let start = i;
                i += 1;
                while i < body.len() && body[i] != b'"' {
                    i += if body[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(body.len());
                if expect_key {
                    name = decode_name(&body[start..i]);
                    expect_key = false;
                } else {
                    value_starts(&mut frames, &mut name, None);
                }
                continue;
            }
            b'{' | b'[' => {
                let object = byte == b'{';
                let role = value_starts(&mut frames, &mut name, Some(object));
                frames.push(Frame {
                    object,
                    role,
                    seen: false,
                });
                expect_key = object;
            }
            b'}' | b']' => {
                frames.pop();
                expect_key = false;
            }
            b',' => expect_key = frames.last().is_some_and(|f| f.object),
            _ if is_scalar_byte(byte) => {
                let start = i;
                while i < body.len() && is_scalar_byte(body[i]) {
                    i += 1;
                }
                let in_payload = frames.last().is_some_and(|f| f.role == Role::Payload);
                if in_payload && !is_scalar(&body[start..i]) {
                    let bytes = out.to_mut();
                    bytes[start] = b'0';
                    bytes[start + 1..i].fill(b' ');
                }
                value_starts(&mut frames, &mut name, None);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Notes that a value starts (a container when `container` says whether it
/// is an object) and returns a container's role.
fn value_starts(frames: &mut [Frame], name: &mut Option<String>, container: Option<bool>) -> Role {
    let name = name.take();
    match frames.last_mut() {
        None if container == Some(true) => Role::Top,
        None => Role::Payload,
        Some(parent) => parent.child(container, name.as_deref()),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Top,
    Response,
    Error,
    Payload,
}

struct Frame {
    object: bool,
    role: Role,
    /// Top: `Response` was seen; Response: `Error` was seen.
    seen: bool,
}

impl Frame {
    /// The role of a value that is this frame's member `name`: the first
    /// `Response` of the top object, the first `Error` of `Response`, and
    /// only if they are objects; all else is payload.
    fn child(&mut self, container: Option<bool>, name: Option<&str>) -> Role {
        let (wanted, role) = match self.role {
            Role::Top => ("Response", Role::Response),
            Role::Response => ("Error", Role::Error),
            Role::Error | Role::Payload => return Role::Payload,
        };
        if !self.object || name != Some(wanted) || std::mem::replace(&mut self.seen, true) {
            return Role::Payload;
        }
        if container == Some(true) {
            role
        } else {
            Role::Payload
        }
    }
}

fn decode_name(raw: &[u8]) -> Option<String> {
    serde_json::from_slice(raw).ok()
}

fn is_scalar_byte(byte: u8) -> bool {
    matches!(
        byte,
        b'0'..=b'9'
            | b'+'
            | b'-'
            | b'.'
            | b'E'
            | b'a'
            | b'e'
            | b'f'
            | b'l'
            | b'n'
            | b'r'
            | b's'
            | b't'
            | b'u'
    )
}

fn is_scalar(run: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(run).is_ok()
}
