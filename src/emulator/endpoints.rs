//! [`EmulatorEndpoints`]: one emulator behind several ports, each standing
//! for an endpoint of the API, each with faults of its own.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::Service;

use super::body::EmulatorBody;
use super::reply::bad_gateway;
use super::{EmulatorBuilder, EmulatorService, Log};

/// The pause after a failed accept or a failed bind.
const RETRY_PAUSE: Duration = Duration::from_millis(10);

/// What one endpoint of [`EmulatorEndpoints`] does instead of answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EndpointFault {
    /// Refuses connections: the listening socket is closed and the open
    /// connections are dropped, as a host that is down.
    Refuse,
    /// Answers every request with the gateway's `502 Bad Gateway` HTML
    /// page, without an envelope; the emulator never sees the request.
    BadGateway,
    /// Accepts connections and reads requests, but answers none until the
    /// fault is lifted.
    Hang,
}

/// One emulator served on several local ports, each standing for an
/// endpoint of the API (`cvm.tencentcloudapi.com`, `.com.cn`, `.cn`), with
/// faults per endpoint: to test failover.
///
/// The endpoints share one fleet, one set of rate limits and injected
/// faults, and one [`Log`], so that the log tells how many times each write
/// ran whichever endpoint it came through; [`served`](Self::served) counts
/// the requests that reached the emulator through each endpoint. Dropping
/// it stops every endpoint.
///
/// An index beyond the last endpoint is ignored by the setters and
/// answered with `None` or 0 by the getters.
///
/// ```
/// use tower_tencentcloud::emulator::{EmulatorBuilder, EmulatorEndpoints, EndpointFault};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> std::io::Result<()> {
/// let endpoints = EmulatorEndpoints::start(EmulatorBuilder::new(), 2).await?;
/// let addr = endpoints.addr(0).unwrap();
/// assert_eq!(endpoints.endpoint(0).unwrap(), format!("http://{addr}"));
///
/// endpoints.fault(0, EndpointFault::Refuse);
/// # tokio::time::sleep(std::time::Duration::from_millis(1)).await; // the endpoint's task acts
/// assert!(tokio::net::TcpStream::connect(addr).await.is_err());
///
/// endpoints.recover(0);
/// # tokio::time::sleep(std::time::Duration::from_millis(1)).await;
/// assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
/// # Ok(())
/// # }
/// ```
pub struct EmulatorEndpoints {
    service: EmulatorService,
    stations: Vec<Station>,
}

struct Station {
    addr: SocketAddr,
    mode: watch::Sender<Option<EndpointFault>>,
    served: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl EmulatorEndpoints {
    /// Starts `count` endpoints on free ports of 127.0.0.1, answering as the
    /// emulator `builder` describes (its [`addr`](EmulatorBuilder::addr) is
    /// not used), on the current tokio runtime.
    pub async fn start(builder: EmulatorBuilder, count: usize) -> io::Result<Self> {
        let service = builder.into_service();
        let mut stations = Vec::with_capacity(count);
        for _ in 0..count {
            let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
            let addr = listener.local_addr()?;
            let (mode, watch) = watch::channel(None);
            let served = Arc::new(AtomicU64::new(0));
            let task = tokio::spawn(serve(
                listener,
                addr,
                service.clone(),
                watch,
                served.clone(),
            ));
            stations.push(Station {
                addr,
                mode,
                served,
                task,
            });
        }
        Ok(Self { service, stations })
    }

    /// How many endpoints there are.
    pub fn len(&self) -> usize {
        self.stations.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.stations.is_empty()
    }

    /// The address endpoint `index` listens on (when it does).
    pub fn addr(&self, index: usize) -> Option<SocketAddr> {
        self.stations.get(index).map(|station| station.addr)
    }

    /// `http://{addr}` of endpoint `index`, for
    /// [`ActionRequest::endpoint`](crate::action::ActionRequest::endpoint)
    /// and failover rings.
    pub fn endpoint(&self, index: usize) -> Option<String> {
        self.addr(index).map(|addr| format!("http://{addr}"))
    }

    /// Makes endpoint `index` fail with `fault` until
    /// [`recover`](Self::recover).
    pub fn fault(&self, index: usize, fault: EndpointFault) {
        if let Some(station) = self.stations.get(index) {
            station.mode.send_replace(Some(fault));
        }
    }

    /// Lifts the fault of endpoint `index`: it listens again on the same
    /// port, answers, and answers the requests it held back.
    pub fn recover(&self, index: usize) {
        if let Some(station) = self.stations.get(index) {
            station.mode.send_replace(None);
        }
    }

    /// The fault of endpoint `index` now.
    pub fn fault_of(&self, index: usize) -> Option<EndpointFault> {
        self.stations
            .get(index)
            .and_then(|station| *station.mode.borrow())
    }

    /// How many requests reached the emulator through endpoint `index`
    /// (not those a fault turned away).
    pub fn served(&self, index: usize) -> u64 {
        self.stations
            .get(index)
            .map_or(0, |station| station.served.load(Ordering::Relaxed))
    }

    /// The record of every call answered, through any endpoint.
    pub fn log(&self) -> Log {
        self.service.log()
    }

    /// The emulator behind the endpoints, to inject faults of the API
    /// ([`Fault`](super::Fault)) or call it in process.
    pub fn service(&self) -> EmulatorService {
        self.service.clone()
    }
}

impl Drop for EmulatorEndpoints {
    fn drop(&mut self) {
        // The connections end with their station's watch channel.
        for station in &self.stations {
            station.task.abort();
        }
    }
}

impl fmt::Debug for EmulatorEndpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoints: Vec<_> = self
            .stations
            .iter()
            .map(|station| (station.addr, *station.mode.borrow()))
            .collect();
        f.debug_struct("EmulatorEndpoints")
            .field("endpoints", &endpoints)
            .field("service", &self.service)
            .finish()
    }
}

async fn serve(
    listener: TcpListener,
    addr: SocketAddr,
    service: EmulatorService,
    mut mode: watch::Receiver<Option<EndpointFault>>,
    served: Arc<AtomicU64>,
) {
    let mut listener = Some(listener);
    loop {
        if *mode.borrow_and_update() == Some(EndpointFault::Refuse) {
            // A closed socket is what makes the kernel refuse connections.
            listener = None;
            if mode.changed().await.is_err() {
                return;
            }
            continue;
        }
        let bound = match &listener {
            Some(bound) => bound,
            None => match TcpListener::bind(addr).await {
                Ok(bound) => listener.insert(bound),
                Err(err) => {
                    tracing::debug!(error = %err, %addr, "emulator endpoint: bind failed");
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
            },
        };
        tokio::select! {
            accepted = bound.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, service.clone(), mode.clone(), served.clone()));
                }
                Err(err) => {
                    tracing::debug!(error = %err, %addr, "emulator endpoint: accept failed");
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            },
            changed = mode.changed() => if changed.is_err() {
                return;
            },
        }
    }
}

async fn connection(
    stream: TcpStream,
    service: EmulatorService,
    mode: watch::Receiver<Option<EndpointFault>>,
    served: Arc<AtomicU64>,
) {
    let mut refused = mode.clone();
    let hyper_service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let mut service = service.clone();
        let mut mode = mode.clone();
        let served = served.clone();
        async move {
            let fault = *mode.borrow_and_update();
            if fault == Some(EndpointFault::Hang) {
                let lifted = mode
                    .wait_for(|fault| *fault != Some(EndpointFault::Hang))
                    .await;
                if lifted.is_err() {
                    return Err(io::Error::other("the endpoint stopped"));
                }
            }
            if *mode.borrow() == Some(EndpointFault::BadGateway) {
                return Ok::<Response<EmulatorBody>, io::Error>(bad_gateway(SystemTime::now()));
            }
            served.fetch_add(1, Ordering::Relaxed);
            service.call(request).await
        }
    });
    let connection = http1::Builder::new().serve_connection(TokioIo::new(stream), hyper_service);
    tokio::select! {
        // A connection ends in error when the client goes away: nothing to
        // report.
        _ = connection => {}
        // Dropping the connection closes its socket: a host that is down
        // keeps no connection open. So does an endpoint that stops.
        _ = refused.wait_for(|fault| *fault == Some(EndpointFault::Refuse)) => {}
    }
}
