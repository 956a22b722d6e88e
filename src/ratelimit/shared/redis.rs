//! [`RedisStore`]: a shared budget in Redis, one hash per key, changed
//! only by Lua scripts that read the server's clock.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use redis::Script;
use redis::aio::ConnectionManager;

use super::store::{Grant, Lease, LeaseAsk, RateStore, StoreError, StoreFuture};

/// A key unused for this long is forgotten: its budget starts anew.
const IDLE_TTL_MS: u64 = 10 * 60 * 1000;

/// Takes up to ARGV[1] tokens of the key KEYS[1], and adds ARGV[2]
/// accepted answers to its measurement.
///
/// Every time is the server's (`TIME`, allowed in a script that writes
/// since Redis 5 replicates scripts by their effects), in microseconds. The
/// hash holds the generation (`gen`, the count of cuts), the rate the last
/// cut was taken from (`last_max`) and its time (`last_cut`), the
/// theoretical arrival time of the next token (`tat`, GCRA), the rate last
/// granted (`rate`), the accepted rate measured in windows of a second
/// (`win_start`, `win_accepted`, `measured`, smoothed as in the AWS SDKs),
/// and the answers accepted since the last cut (`cyc_accepted`, counted
/// from `cyc_start`).
/// A key never cut has no `last_max`: the reply grants a free lease, unless
/// the caller knows a rate (ARGV[8], the rate of the last cut, which each
/// reply of slots or of a time to ask again carries back in thousandths:
/// Redis has lost the key, restarted empty), from which
/// the key starts as if it had just been cut from it: the fleet resumes at
/// `beta` of it and climbs back along the curve (2.5 s at 20 a second),
/// while the processes
/// still on their local limiters come back one probe interval at most
/// later, rather than at the whole rate at once, local rates on top.
/// Otherwise the rate follows the CUBIC curve since the last cut up to
/// `last_max`, then, beyond, grows by ARGV[9] of it per second (compounded)
/// where CUBIC would grow faster; less the headroom, at most twice the
/// measured rate and at least the floor. The reply is {generation, first
/// token in µs from now, µs between tokens, count}. An idle key does not
/// bank tokens: the schedule starts from now.
/// A lease is granted while the schedule is taken no further ahead than
/// one batch (so at most two batches are out): beyond, the reply grants
/// none and says when to ask again, and the callers of a busy key wait in
/// their process rather than hold tokens scheduled at a rate that a cut
/// has since changed (the tokens out when a throttle comes are sent at the
/// rate throttled; with two batches ahead, the fleet's second throttle of
/// a cycle came from them). The times to ask again are handed out a batch
/// apart (`wake`), so that processes waiting together take turns rather
/// than all ask at the first free slot.
const LEASE_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local want = tonumber(ARGV[1])
local accepted = tonumber(ARGV[2])
local beta = tonumber(ARGV[3])
local scale = tonumber(ARGV[4])
local min_rate = tonumber(ARGV[5])
local headroom = tonumber(ARGV[6])
local ttl = tonumber(ARGV[7])
local known = tonumber(ARGV[8])
local probe = tonumber(ARGV[9])
local h = redis.call('HMGET', KEYS[1], 'gen', 'last_max', 'last_cut', 'tat', 'win_start', 'win_accepted', 'measured', 'wake', 'cyc_accepted')
local gen = tonumber(h[1]) or 0
local win_start = tonumber(h[5]) or now
local win_accepted = (tonumber(h[6]) or 0) + accepted
local measured = tonumber(h[7])
if now - win_start >= 1000000 then
  local rate = win_accepted * 1000000 / (now - win_start)
  if measured then measured = 0.8 * rate + 0.2 * measured else measured = rate end
  win_start = now
  win_accepted = 0
  redis.call('HSET', KEYS[1], 'measured', measured)
end
redis.call('HSET', KEYS[1], 'win_start', win_start, 'win_accepted', win_accepted, 'cyc_accepted', (tonumber(h[9]) or 0) + accepted)
redis.call('PEXPIRE', KEYS[1], ttl)
local last_max = tonumber(h[2])
local last_cut = tonumber(h[3])
if not last_max and known > 0 then
  last_max = known
  last_cut = now
  redis.call('HSET', KEYS[1], 'last_max', last_max, 'last_cut', last_cut, 'cyc_start', now, 'cyc_accepted', 0)
end
if not last_max then
  return {gen, -1, 0, 0}
end
local k = (last_max * (1 - beta) / scale) ^ (1 / 3)
local d = (now - last_cut) / 1000000 - k
local rate = scale * d * d * d + last_max
if d > 0 then
  local probed = last_max * (1 + probe) ^ d
  if probed < rate then rate = probed end
end
rate = rate * (1 - headroom)
if measured and rate > 2 * measured then rate = 2 * measured end
if rate < min_rate then rate = min_rate end
local interval = 1000000 / rate
local tat = tonumber(h[4]) or now
if tat < now then tat = now end
local horizon = want * interval
if tat - now > horizon then
  local at = tat - horizon
  local wake = tonumber(h[8])
  if wake and wake > at then at = wake end
  redis.call('HSET', KEYS[1], 'rate', rate, 'wake', at + want * interval)
  return {gen, math.floor(at - now), math.floor(interval), 0, math.floor(last_max * 1000)}
end
redis.call('HSET', KEYS[1], 'tat', tat + want * interval, 'rate', rate)
return {gen, math.floor(tat - now), math.floor(interval), want, math.floor(last_max * 1000)}
";

/// Cuts the rate of KEYS[1] for a throttle of a request sent under
/// generation ARGV[1], unless a cut has answered it already: to `beta` of
/// the rate the fleet was accepted at, starting a new generation.
///
/// That rate is the rate last granted, or the measured accepted rate at
/// the first cut (before any rate is granted) and when the fleet used less
/// than 75% of the rate granted (then the granted rate proves nothing; the
/// measured one, from counts that each process reports with its next
/// lease, is too noisy to be preferred otherwise); with neither, there is
/// nothing to cut from yet. Both overstate the limit of an API
/// that admits bursts: a throttle comes once its burst allowance is spent,
/// and the answers of the last second include that allowance. The answers
/// accepted since the last cut, over the time since, do not: between two
/// throttles the allowance was spent twice, so they average to the limit
/// itself, unless the burst allowance refilled to the full while the fleet
/// sent below the limit (or was idle), when they understate it. The cut
/// starts from them when they are lower, but no lower than 90% of the
/// other: a probe as slow as the budget's gets no further past the limit
/// than that before it is throttled. Whatever the base, it is no lower
/// than the rate the last cut went to (`beta` of its base): the rate
/// granted may have been held down by the measured one (at most twice
/// it), and the measured one by callers in their retries' backoff after a
/// burst of throttles, and a base too low costs the fleet the slow probe's
/// time to climb back; the decrease stays multiplicative (each cut at
/// least to `beta` squared of the last one's base).
/// No cut comes less than 2 s after the last (or after the key was started
/// from a known rate, which is one): the limit's burst allowance is spent
/// then, and the throttles that the rate just cut to meets while it
/// refills say nothing new; cut on, the fleet would fall far below the
/// limit and take the slow probe's time to climb back.
/// Tokens already leased stay leased (they are in the processes' hands), so
/// the schedule ahead is stretched to the new rate instead: the next token
/// is due when it would have been had those been spaced at the new rate.
const CUT_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local beta = tonumber(ARGV[2])
local min_rate = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local h = redis.call('HMGET', KEYS[1], 'gen', 'rate', 'measured', 'tat', 'cyc_start', 'cyc_accepted', 'last_max', 'last_cut')
local gen = tonumber(h[1]) or 0
if tonumber(ARGV[1]) ~= gen then
  return 0
end
local last_cut = tonumber(h[8])
if last_cut and now - last_cut < 2000000 then
  return 0
end
local rate = tonumber(h[2])
local measured = tonumber(h[3])
local from = rate
if not from or (measured and measured < 0.75 * from) then from = measured end
if not from then
  return 0
end
local cyc_start = tonumber(h[5])
local last_max = tonumber(h[7])
if cyc_start and now - cyc_start >= 2000000 then
  local since = (tonumber(h[6]) or 0) * 1000000 / (now - cyc_start)
  if since < 0.9 * from then since = 0.9 * from end
  if since < from then from = since end
end
if last_max and from < beta * last_max then
  from = beta * last_max
end
local to = from * beta
if to < min_rate then to = min_rate end
redis.call('HSET', KEYS[1], 'gen', gen + 1, 'last_max', from, 'last_cut', now, 'rate', to, 'cyc_start', now, 'cyc_accepted', 0)
local tat = tonumber(h[4])
if rate and tat and tat > now then
  redis.call('HSET', KEYS[1], 'tat', now + (tat - now) * rate / to)
end
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
";

static LEASE: LazyLock<Script> = LazyLock::new(|| Script::new(LEASE_SCRIPT));
static CUT: LazyLock<Script> = LazyLock::new(|| Script::new(CUT_SCRIPT));

/// A [`RateStore`] in Redis (5 or later), through a
/// [`ConnectionManager`] that reconnects by itself.
///
/// Each key is one hash, named `tower-tencentcloud:rate:{account}:{key}`,
/// that expires after 10 idle minutes; each call is one `EVALSHA` of an
/// atomic script (loaded again by itself after a restart of Redis) that
/// reads the time from the server. Give the manager a response timeout
/// no longer than the budget's, so that a dead connection is noticed.
///
/// ```no_run
/// # async fn example() -> redis::RedisResult<()> {
/// use std::time::Duration;
/// use redis::aio::{ConnectionManager, ConnectionManagerConfig};
/// use tower_tencentcloud::ratelimit::shared::RedisStore;
///
/// let config = ConnectionManagerConfig::new()
///     .set_connection_timeout(Some(Duration::from_millis(100)))
///     .set_response_timeout(Some(Duration::from_millis(100)));
/// let client = redis::Client::open("redis://127.0.0.1/")?;
/// let store = RedisStore::new(ConnectionManager::new_with_config(client, config).await?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
}

impl RedisStore {
    /// A store on `connection`.
    pub fn new(connection: ConnectionManager) -> Self {
        Self { connection }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

impl RateStore for RedisStore {
    fn lease(&self, key: &str, ask: LeaseAsk) -> StoreFuture<'_, Lease> {
        let mut connection = self.connection.clone();
        let key = key.to_owned();
        Box::pin(async move {
            let curve = ask.curve();
            let reply: Vec<i64> = LEASE
                .key(&key)
                .arg(ask.want())
                .arg(ask.accepted())
                .arg(curve.beta())
                .arg(curve.scale())
                .arg(curve.min_rate())
                .arg(curve.headroom())
                .arg(IDLE_TTL_MS)
                .arg(ask.known_rate())
                .arg(ask.probe())
                .invoke_async(&mut connection)
                .await
                .map_err(StoreError::new)?;
            let ([generation, first, interval, count], last_max) = match *reply.as_slice() {
                [a, b, c, d, last_max] => ([a, b, c, d], last_max),
                [a, b, c, d] => ([a, b, c, d], 0),
                _ => {
                    return Err(StoreError::new(
                        "the lease script answered an unexpected reply",
                    ));
                }
            };
            let last_max = last_max as f64 / 1000.0;
            let generation = u64::try_from(generation).unwrap_or(0);
            if first < 0 {
                return Ok(Lease::new(generation, Grant::Free));
            }
            let micros = |value: i64| Duration::from_micros(u64::try_from(value).unwrap_or(0));
            if count == 0 {
                let after = micros(first);
                return Ok(Lease::new(generation, Grant::Later { after }).with_last_max(last_max));
            }
            Ok(Lease::new(
                generation,
                Grant::Slots {
                    first: micros(first),
                    interval: micros(interval.max(1)),
                    count: u32::try_from(count).unwrap_or(0),
                },
            )
            .with_last_max(last_max))
        })
    }

    fn cut(&self, key: &str, generation: u64, ask: LeaseAsk) -> StoreFuture<'_, bool> {
        let mut connection = self.connection.clone();
        let key = key.to_owned();
        Box::pin(async move {
            let curve = ask.curve();
            let cut: i64 = CUT
                .key(&key)
                .arg(generation)
                .arg(curve.beta())
                .arg(curve.min_rate())
                .arg(IDLE_TTL_MS)
                .invoke_async(&mut connection)
                .await
                .map_err(StoreError::new)?;
            Ok(cut == 1)
        })
    }
}
