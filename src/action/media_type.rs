//! Which responses are streams rather than envelopes.

use http::HeaderMap;
use http::header::CONTENT_TYPE;

const EVENT_STREAM: &[u8] = b"text/event-stream";

/// The Content-Type of form-encoded parameters, exactly as the official SDKs
/// send it with a GET (the signature covers it).
pub(crate) const FORM_URLENCODED: &str = "application/x-www-form-urlencoded";

/// Media types whose bodies are passed through unread.
const STREAMING: &[&[u8]] = &[EVENT_STREAM, b"application/octet-stream"];

/// `true` when the essence of the Content-Type (what precedes any `;`,
/// trimmed) is one of `names`, whatever the case.
///
/// Compares bytes with the ASCII names from the front, so that a value that
/// cannot match, such as the common `application/json` shorter than either
/// streaming name, costs a length check: no pass to check it is text, none
/// to find the `;`.
fn names_any(headers: &HeaderMap, names: &[&[u8]]) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    let value = value.as_bytes().trim_ascii_start();
    names.iter().any(|name| {
        value
            .split_at_checked(name.len())
            .is_some_and(|(essence, rest)| {
                essence.eq_ignore_ascii_case(name)
                    && matches!(rest.trim_ascii_start(), [] | [b';', ..])
            })
    })
}

/// `true` when the Content-Type names a streaming media type, whatever its
/// parameters and case. Everything else is read as an envelope.
pub(crate) fn is_streaming(headers: &HeaderMap) -> bool {
    names_any(headers, STREAMING)
}

/// `true` when the Content-Type is `text/event-stream`, whatever its
/// parameters and case.
#[cfg(feature = "sse")]
pub(crate) fn is_event_stream(headers: &HeaderMap) -> bool {
    names_any(headers, &[EVENT_STREAM])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streaming(content_type: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
        is_streaming(&headers)
    }

    #[test]
    fn parameters_and_case_do_not_matter() {
        assert!(streaming("text/event-stream"));
        assert!(streaming("Text/Event-Stream; charset=utf-8"));
        assert!(streaming(" application/octet-stream "));
        assert!(!streaming("application/json; charset=utf-8"));
        assert!(!streaming("text/plain"));
        assert!(!streaming("text/event-streams"));
        assert!(!streaming("text/event-stream x"));
        assert!(!streaming("; text/event-stream"));
        assert!(streaming("application/octet-stream ;"));
        assert!(!is_streaming(&HeaderMap::new()));
    }

    #[test]
    fn event_streams_whatever_their_parameters_and_case() {
        let stream = |content_type: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, content_type.parse().unwrap());
            is_event_stream(&headers)
        };
        assert!(stream("text/event-stream"));
        assert!(stream(" Text/Event-Stream ; charset=utf-8"));
        assert!(!stream("application/octet-stream"));
        assert!(!stream("application/json"));
        assert!(!stream("text/event-streams"));
        assert!(!is_event_stream(&HeaderMap::new()));
    }
}
