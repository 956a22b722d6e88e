//! Which responses are streams rather than envelopes.

use http::HeaderMap;
use http::header::CONTENT_TYPE;

/// Media types whose bodies are passed through unread.
const STREAMING: &[&str] = &["text/event-stream", "application/octet-stream"];

/// The Content-Type without its parameters.
fn essence(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    Some(value.split(';').next().unwrap_or_default().trim())
}

/// `true` when the Content-Type names a streaming media type, whatever its
/// parameters and case. Everything else is read as an envelope.
pub(crate) fn is_streaming(headers: &HeaderMap) -> bool {
    essence(headers)
        .is_some_and(|essence| STREAMING.iter().any(|s| s.eq_ignore_ascii_case(essence)))
}

/// `true` when the Content-Type is `text/event-stream`, whatever its
/// parameters and case.
pub(crate) fn is_event_stream(headers: &HeaderMap) -> bool {
    essence(headers).is_some_and(|essence| essence.eq_ignore_ascii_case("text/event-stream"))
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
