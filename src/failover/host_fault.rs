//! Which outcomes of an attempt blame the host rather than the request.

use std::io;

use http::StatusCode;

use super::breaker::Outcome;
use crate::error::Error;

/// What one attempt says about the host it went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) outcome: Outcome,
    /// The request certainly never reached the host: a write may go to
    /// another host without running twice.
    pub(crate) never_sent: bool,
}

/// Judges an attempt's result.
///
/// | result | the host | failover |
/// |---|---|---|
/// | a response, or `Error::Api` (any envelope) | answered: success | no |
/// | `Error::Transport` (no connection, TLS, a reset, a timeout before the response head) | failed | yes |
/// | `Error::NotEnvelope` with 502, 503 or 504 (a gateway's page) | failed | yes |
/// | anything else (a body cut short, a signing error, another page) | neither | no |
pub(crate) fn judge<R>(result: &Result<R, Error>) -> Verdict {
    let neither = Verdict {
        outcome: Outcome::Neither,
        never_sent: false,
    };
    match result {
        Ok(_) | Err(Error::Api(_)) => Verdict {
            outcome: Outcome::Success,
            never_sent: false,
        },
        Err(Error::Transport(err)) => Verdict {
            outcome: Outcome::Failure,
            never_sent: is_connect_error(err.get_ref()),
        },
        Err(Error::NotEnvelope(err)) if is_gateway_status(err.status()) => Verdict {
            outcome: Outcome::Failure,
            never_sent: false,
        },
        Err(_) => neither,
    }
}

fn is_gateway_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    )
}

/// Whether an error of the transport says that no connection was made, so
/// that nothing of the request was sent: an I/O error of connecting
/// somewhere in its chain (hyper-util's client keeps it there), or
/// reqwest's `is_connect`.
fn is_connect_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<io::Error>()
            && matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::AddrNotAvailable
                    | io::ErrorKind::HostUnreachable
                    | io::ErrorKind::NetworkUnreachable
            )
        {
            return true;
        }
        #[cfg(feature = "reqwest")]
        if let Some(err) = err.downcast_ref::<reqwest::Error>()
            && err.is_connect()
        {
            return true;
        }
        next = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ApiError, BoxError};

    fn transport(err: impl Into<BoxError>) -> Result<(), Error> {
        Err(Error::from(err.into()))
    }

    #[test]
    fn an_envelope_clears_the_host() {
        let api = Err::<(), _>(Error::from(ApiError::new(
            StatusCode::OK,
            "InternalError",
            "boom",
        )));
        assert_eq!(judge(&api).outcome, Outcome::Success);
        assert_eq!(judge(&Ok::<_, Error>(())).outcome, Outcome::Success);
    }

    #[test]
    fn a_refused_connection_was_never_sent_a_reset_may_have_been() {
        let refused = judge(&transport(io::Error::from(
            io::ErrorKind::ConnectionRefused,
        )));
        assert_eq!(refused.outcome, Outcome::Failure);
        assert!(refused.never_sent);
        let reset = judge(&transport(io::Error::from(io::ErrorKind::ConnectionReset)));
        assert_eq!(reset.outcome, Outcome::Failure);
        assert!(!reset.never_sent);
    }
}
