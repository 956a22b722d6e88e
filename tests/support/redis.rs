#![allow(dead_code)]
//! A real `redis-server` for the tests of the shared rate budget, started
//! by the test on a free loopback port and killed when it ends.
//!
//! When the machine has no `redis-server`, the first test binary to need
//! one installs it with `.ci/redis-setup` (the distribution's package),
//! under an exclusive file lock so that binaries running at the same time
//! install it once; a setup that fails fails the test, with its output.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long a server has to answer PING after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(10);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn has_redis_server() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Installs redis-server if it is missing, once per test binary.
fn provision() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        if has_redis_server() {
            return;
        }
        let lock_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("redis-server.lock");
        let lock = File::create(&lock_path)
            .unwrap_or_else(|err| panic!("create the lock {}: {err}", lock_path.display()));
        // Blocks while another test binary installs it; released on drop.
        lock.lock()
            .unwrap_or_else(|err| panic!("lock {}: {err}", lock_path.display()));
        let output = Command::new("bash")
            .arg(root().join(".ci/redis-setup"))
            .current_dir(root())
            .output()
            .unwrap_or_else(|err| panic!("run .ci/redis-setup: {err}"));
        assert!(
            output.status.success() && has_redis_server(),
            ".ci/redis-setup failed ({}), so the shared budget's tests cannot run:\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        drop(lock);
    });
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("a local address").port()
}

/// A redis-server of the test's own, on 127.0.0.1, with no persistence.
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server on a free port, and waits until it answers.
    pub fn start() -> Self {
        provision();
        let mut server = Self {
            port: free_port(),
            child: None,
        };
        server.restart();
        server
    }

    /// `redis://127.0.0.1:{port}/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL): its data is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port, empty, if it is not
    /// running, and waits until it answers.
    pub fn restart(&mut self) {
        if self.child.is_some() {
            return;
        }
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--dir", env!("CARGO_TARGET_TMPDIR")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("start redis-server: {err}"));
        self.child = Some(child);
        self.wait_until_up();
    }

    /// Stops the server's process (SIGSTOP): it holds its connections and
    /// answers nothing, as a Redis under a long stall.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("a running redis-server");
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} failed");
    }

    fn wait_until_up(&self) {
        let started = Instant::now();
        loop {
            if self.ping() {
                return;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "redis-server on port {} did not answer within {START_TIMEOUT:?}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if self.child.is_some() {
            // SIGKILL ends a paused server too.
            self.kill();
        }
    }
}
