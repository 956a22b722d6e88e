//! The future that waits before a retry.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Sleep;

pin_project! {
    /// The wait before a retry, returned by
    /// [`RetryPolicy`](super::RetryPolicy) to [`tower::retry::Retry`].
    ///
    /// It sleeps on tokio's clock, so tests with a paused clock run at
    /// once; dropping it (with the response future that holds it) cancels
    /// the sleep and the retry.
    pub struct RetryDelay {
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl RetryDelay {
    pub(crate) fn new(delay: Duration) -> Self {
        // Retrying at once needs no timer entry.
        let sleep = (!delay.is_zero()).then(|| tokio::time::sleep(delay));
        Self { sleep }
    }
}

impl Future for RetryDelay {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.project().sleep.as_pin_mut() {
            Some(sleep) => sleep.poll(cx),
            None => Poll::Ready(()),
        }
    }
}

impl fmt::Debug for RetryDelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryDelay")
            .field("deadline", &self.sleep.as_ref().map(Sleep::deadline))
            .finish()
    }
}
