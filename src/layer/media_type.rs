//! Which responses are streams rather than envelopes.

use http::HeaderMap;
use http::header::CONTENT_TYPE;

/// Media types whose bodies are passed through unread.
const STREAMING: &[&str] = &["text/event-stream", "application/octet-stream"];

/// `true` when the Content-Type names a streaming media type, whatever its
/// parameters and case. Everything else is read as an envelope.
pub(crate) fn is_streaming(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    STREAMING.iter().any(|s| s.eq_ignore_ascii_case(essence))
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
}
