//! What the policy does when it stops: the `not retrying` event, and the
//! attempts and the reason recorded on the error it returns.

use http::Request;

use crate::action::header;
use crate::{Error, RetryStopped, StopReason};

/// Reports that no further attempt follows `error`, the outcome of attempt
/// number `attempts`, and records it on the error
/// ([`Error::retry_stopped`]).
pub(super) fn give_up<B>(
    request: &Request<B>,
    error: &mut Error,
    attempts: u32,
    reason: StopReason,
) {
    tracing::debug!(
        action = header::action(request.headers()),
        code = error.code().map(tracing::field::display),
        request_id = error.request_id().map(tracing::field::display),
        attempts,
        reason = %reason,
        %error,
        "not retrying",
    );
    // After the event, whose fields already say it.
    error.set_retry_stopped(RetryStopped::new(attempts, reason));
}
