//! The ratelimit tests, one binary: each module was a test file of its own.

#[cfg(all(feature = "emulator", feature = "redis"))]
#[path = "../support/redis.rs"]
mod redis_server;

#[cfg(feature = "emulator")]
mod batch;
#[cfg(feature = "emulator")]
mod ratelimit;
#[cfg(all(feature = "emulator", feature = "redis"))]
mod shared;
