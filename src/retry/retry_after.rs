//! The `Retry-After` header of a failed response: how long the server asks
//! the client to wait before the next attempt.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::{DATE, RETRY_AFTER};

use crate::Error;

/// The wait that the response behind `error` asks for, if it carries a
/// valid `Retry-After`: delay-seconds, or an HTTP date measured from the
/// response's own `Date` (the server's clock, so that a skewed local clock
/// does not stretch or cancel the wait), else from the local clock. A date
/// in the past asks for no wait; a value that is neither is ignored.
pub(crate) fn retry_after(error: &Error) -> Option<Duration> {
    let headers = match error {
        Error::Api(err) => err.headers(),
        Error::NotEnvelope(err) => err.headers(),
        _ => return None,
    };
    parse(headers)
}

fn parse(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // Digits beyond u64 are a wait longer than any cap.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let now = headers
        .get(DATE)
        .and_then(|date| date.to_str().ok())
        .and_then(|date| httpdate::parse_http_date(date).ok())
        .unwrap_or_else(SystemTime::now);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn delay_seconds() {
        assert_eq!(
            parse(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse(&headers(&[("retry-after", " 0 ")])),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse(&headers(&[("retry-after", "99999999999999999999999")])),
            Some(Duration::from_secs(u64::MAX))
        );
    }

    #[test]
    fn an_http_date_counts_from_the_response_date() {
        let dated = headers(&[
            ("retry-after", "Wed, 21 Oct 2015 07:28:10 GMT"),
            ("date", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ]);
        assert_eq!(parse(&dated), Some(Duration::from_secs(10)));
        let past = headers(&[
            ("retry-after", "Wed, 21 Oct 2015 07:27:00 GMT"),
            ("date", "Wed, 21 Oct 2015 07:28:00 GMT"),
        ]);
        assert_eq!(parse(&past), Some(Duration::ZERO));
        // Without a Date, from the local clock: long past.
        let undated = headers(&[("retry-after", "Wed, 21 Oct 2015 07:28:10 GMT")]);
        assert_eq!(parse(&undated), Some(Duration::ZERO));
    }

    #[test]
    fn anything_else_is_ignored() {
        for value in ["", "-1", "1.5", "soon", "3 s"] {
            assert_eq!(
                parse(&headers(&[("retry-after", value)])),
                None,
                "{value:?}"
            );
        }
        assert_eq!(parse(&HeaderMap::new()), None);
    }
}
