//! The last throttle of a key, kept to answer a request that cannot wait
//! for its token.

use crate::{ApiError, Error, NotEnvelope};

/// A copy of the last throttled answer for a key: a `RequestLimitExceeded`
/// envelope or a 429 page, the only errors a throttle can be.
#[derive(Debug, Clone)]
pub(crate) enum LastThrottle {
    Api(ApiError),
    Page(NotEnvelope),
}

impl LastThrottle {
    /// A copy of `error`, if it is an answer of the API's.
    pub(crate) fn of(error: &Error) -> Option<Self> {
        match error {
            Error::Api(err) => Some(Self::Api(err.clone())),
            Error::NotEnvelope(err) => Some(Self::Page(err.clone())),
            _ => None,
        }
    }

    pub(crate) fn to_error(&self) -> Error {
        match self {
            Self::Api(err) => Error::Api(err.clone()),
            Self::Page(err) => Error::NotEnvelope(err.clone()),
        }
    }
}
