//! [`Emulator`]: the emulator served over HTTP/1.1 on a local socket.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::Service;

use super::{EmulatorBuilder, EmulatorService, Injection, Log};

/// The pause after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// How long connections may take to finish their answers once the
/// emulator shuts down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running emulator: a hyper server on a local socket, answering as
/// Tencent Cloud API 3.0 does.
///
/// Made by [`EmulatorBuilder::start`]. Dropping it stops the server: it
/// accepts no more connections and closes the open ones once their answers
/// are sent (idle keep-alive connections at once).
/// [`shutdown`](Self::shutdown) does the same and waits until it is done.
///
/// ```
/// use tower_tencentcloud::emulator::Emulator;
/// use tower_tencentcloud::action::ActionRequest;
/// use tower_tencentcloud::sign::Credentials;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let emulator = Emulator::builder()
///     .credentials(Credentials::new("AKIDEXAMPLE", "emulator-secret-key"))
///     .start()
///     .await?;
/// assert!(emulator.endpoint().starts_with("http://127.0.0.1:"));
///
/// // Requests name the service; the endpoint only says where to send them.
/// let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
///     .region("ap-guangzhou")
///     .endpoint(emulator.endpoint())
///     .build()?;
/// # drop(request);
/// emulator.shutdown().await;
/// # Ok(())
/// # }
/// ```
pub struct Emulator {
    addr: SocketAddr,
    service: EmulatorService,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl Emulator {
    /// A builder with the defaults of [`EmulatorBuilder::new`].
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::new()
    }

    pub(crate) async fn bind(service: EmulatorService, addr: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel();
        let server = tokio::spawn(serve(listener, service.clone(), stop));
        Ok(Self {
            addr,
            service,
            shutdown: Some(shutdown),
            server: Some(server),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`, for [`ActionRequest::endpoint`](crate::action::ActionRequest::endpoint)
    /// or the official SDKs' `HttpProfile(protocol="http", endpoint=...)`
    /// (without the scheme).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The record of every call answered so far.
    pub fn log(&self) -> Log {
        self.service.log()
    }

    /// Answers the next matching call(s) with a fault; see [`Injection`].
    pub fn inject(&self, injection: impl Into<Injection>) {
        self.service.inject(injection);
    }

    /// The emulator as an in-process service that shares this server's
    /// fleet, rate limits, faults and log.
    pub fn service(&self) -> EmulatorService {
        self.service.clone()
    }

    /// Stops the server and waits until its connections are closed.
    pub async fn shutdown(mut self) {
        self.stop();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

async fn serve(listener: TcpListener, service: EmulatorService, mut stop: oneshot::Receiver<()>) {
    let graceful = GracefulShutdown::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A connection reset before accept, or no file descriptor
                // left: the listener itself is still good.
                Err(err) => {
                    tracing::debug!(error = %err, "emulator: accept failed");
                    // Out of descriptors, accepting again at once fails again.
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let service = service.clone();
        let hyper_service = hyper::service::service_fn(move |request| {
            // Always ready: the emulator never applies backpressure.
            service.clone().call(request)
        });
        let connection =
            http1::Builder::new().serve_connection(TokioIo::new(stream), hyper_service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection ends in error when a fault drops it or cuts a
            // body short, or when the client goes away: nothing to report.
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
}
