//! The Tencent Cloud API 3.0 emulator on its own, for any client or SDK.
//!
//! ```text
//! TENCENTCLOUD_SECRET_ID=AKIDEXAMPLE TENCENTCLOUD_SECRET_KEY=secret \
//!     cargo run --example emulator --features emulator -- --listen 127.0.0.1:8080 --rate-limit 20
//! ```
//!
//! The first line of output is the URL it listens on; each call then prints
//! one line of the log (RequestId, SecretId, action, outcome). It runs until
//! killed.

use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::Duration;

use tower_tencentcloud::emulator::{Emulator, EmulatorBuilder, Fault};
use tower_tencentcloud::sign::Credentials;

const USAGE: &str = "\
usage: emulator [--listen ADDR] [--rate-limit N] [--internal-error-rate P]
                [--bad-gateway-rate P] [--truncated-body-rate P]
                [--drop-connection-rate P] [--delay-ms MS] [--delay-rate P]
                [--instances N] [--seed N] [--log-capacity N] [--log-params-mib N]

  --listen ADDR              address to listen on, HOST:PORT (default 127.0.0.1:0, a free
                             port; a name such as localhost:8080 listens on its IPv4 address)
  --rate-limit N             calls per second for each (SecretId, action)
  --internal-error-rate P    answer InternalError with probability P (0..=1)
  --bad-gateway-rate P       answer a 502 HTML page with probability P
  --truncated-body-rate P    cut the body short with probability P
  --drop-connection-rate P   close the connection unanswered with probability P
  --delay-ms MS              delay answers by MS milliseconds (with --delay-rate, default 1)
  --delay-rate P             how often --delay-ms applies
  --instances N              instances seeded in ap-guangzhou (default 50)
  --seed N                   seed of the fleet and the fault draws
  --log-capacity N           calls the log keeps, oldest dropped beyond (default 100000)
  --log-params-mib N         MiB of request parameters the log keeps (default 32)

Credentials come from TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY
(and TENCENTCLOUD_SESSION_TOKEN for temporary ones).";

#[tokio::main]
async fn main() -> ExitCode {
    let builder = match parse(std::env::args().skip(1)) {
        Ok(Some(builder)) => builder,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("emulator: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let builder = match Credentials::from_env() {
        Ok(credentials) => builder.credentials(credentials),
        Err(err) => {
            eprintln!("emulator: {err}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let emulator = match builder.start().await {
        Ok(emulator) => emulator,
        Err(err) => {
            eprintln!("emulator: cannot listen: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", emulator.endpoint());

    // Prints the log as it grows, until the process is killed.
    let log = emulator.log();
    let mut printed = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        for entry in log.entries_after(printed) {
            println!("{entry}");
            printed += 1;
        }
    }
}

/// The emulator the flags describe; `None` for `--help`.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<EmulatorBuilder>, String> {
    let mut builder = Emulator::builder();
    let mut delay = None;
    let mut delay_rate = 1.0;
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let rate = || parse_rate(&flag, &value);
        builder = match flag.as_str() {
            "--listen" => builder.addr(listen_addr(&value)?),
            "--log-capacity" => builder.log_capacity(parse_number(&flag, &value)?),
            "--log-params-mib" => {
                let mib: usize = parse_number(&flag, &value)?;
                builder.log_params_limit(mib.saturating_mul(1 << 20))
            }
            "--rate-limit" => builder.rate_limit(parse_number(&flag, &value)?),
            "--internal-error-rate" => builder.internal_error_rate(rate()?),
            "--bad-gateway-rate" => builder.fault_rate(Fault::BadGateway, rate()?),
            "--truncated-body-rate" => builder.fault_rate(Fault::TruncatedBody, rate()?),
            "--drop-connection-rate" => builder.fault_rate(Fault::DropConnection, rate()?),
            "--delay-ms" => {
                delay = Some(Duration::from_millis(parse_number(&flag, &value)?));
                builder
            }
            "--delay-rate" => {
                delay_rate = rate()?;
                builder
            }
            "--instances" => builder.instances(parse_number(&flag, &value)?),
            "--seed" => builder.seed(parse_number(&flag, &value)?),
            _ => return Err(format!("unknown flag {flag:?}")),
        };
    }
    if let Some(delay) = delay {
        builder = builder.fault_rate(Fault::Delay(delay), delay_rate);
    }
    Ok(Some(builder))
}

/// `127.0.0.1:8080`, `[::1]:8080`, or a name and a port (`localhost:8080`),
/// resolved here, its IPv4 address first.
fn listen_addr(value: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = value.parse() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = value
        .to_socket_addrs()
        .map_err(|err| format!("--listen {value:?}: not HOST:PORT ({err})"))?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("--listen {value:?}: the name has no address"))
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} {value:?}: not a whole number"))
}

fn parse_rate(flag: &str, value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(rate) if (0.0..=1.0).contains(&rate) => Ok(rate),
        _ => Err(format!(
            "{flag} {value:?}: not a probability between 0 and 1"
        )),
    }
}
