//! 进度查询限流: the public tracking page (`/track`) answers a limited number of lookups per
//! client a minute, so tracking numbers cannot be tried in bulk — and one client over its
//! limit does not stop anyone else.
//!
//! A client is its peer address (IPv6 by its /64 network, which one host commonly holds
//! whole), or, behind a trusted reverse proxy (`WebConfig::behind_proxy`), the address that
//! proxy put in `X-Forwarded-For`. The windows kept are bounded (`TRACK_CLIENTS_KEPT`): a
//! new client first pushes out windows that have run out, else the oldest.

#[cfg(test)]
mod tests;

use axum::http::HeaderMap;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Public tracking lookups allowed to one client a minute (an operating limit of this
/// service, not a policy parameter).
pub const TRACK_LOOKUPS_PER_MINUTE: u32 = 120;

/// Clients whose windows are kept at once: about 0.5 MB at most.
pub const TRACK_CLIENTS_KEPT: usize = 10_000;

/// One client's lookups in its current window.
#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    lookups: u32,
}

/// A fixed-window count of lookups per client.
#[derive(Debug)]
pub struct TrackThrottle {
    windows: Mutex<HashMap<IpAddr, Window>>,
    limit: u32,
    period: Duration,
    max_clients: usize,
}

impl Default for TrackThrottle {
    fn default() -> Self {
        TrackThrottle::new(
            TRACK_LOOKUPS_PER_MINUTE,
            Duration::from_secs(60),
            TRACK_CLIENTS_KEPT,
        )
    }
}

impl TrackThrottle {
    /// `limit` lookups per client each `period`, windows of at most `max_clients` kept.
    pub fn new(limit: u32, period: Duration, max_clients: usize) -> Self {
        TrackThrottle {
            windows: Mutex::new(HashMap::new()),
            limit,
            period,
            max_clients: max_clients.max(1),
        }
    }

    /// Whether `client` may look up once more at `now` (and counts the lookup if so).
    pub fn allow(&self, client: IpAddr, now: Instant) -> bool {
        let Ok(mut windows) = self.windows.lock() else {
            return false;
        };
        let current = |window: &Window| now.saturating_duration_since(window.started) < self.period;
        if let Some(window) = windows.get_mut(&client) {
            if !current(window) {
                *window = Window {
                    started: now,
                    lookups: 0,
                };
            }
            if window.lookups >= self.limit {
                return false;
            }
            window.lookups += 1;
            return true;
        }
        if self.limit == 0 {
            return false;
        }
        if windows.len() >= self.max_clients {
            windows.retain(|_, window| current(window));
        }
        if windows.len() >= self.max_clients {
            // Every window kept is running (as many clients as kept within one period): the
            // oldest goes, so a flood of addresses cannot lock the new clients out.
            let oldest = windows
                .iter()
                .min_by_key(|(_, window)| window.started)
                .map(|(address, _)| *address);
            if let Some(oldest) = oldest {
                windows.remove(&oldest);
            }
        }
        windows.insert(
            client,
            Window {
                started: now,
                lookups: 1,
            },
        );
        true
    }

    /// Clients whose windows are kept.
    pub fn clients(&self) -> usize {
        self.windows.lock().map_or(0, |windows| windows.len())
    }
}

/// The client a lookup is counted against: the peer's address, or behind a trusted proxy the
/// last address of `X-Forwarded-For` (the one that proxy appended: those before it are what
/// the client claimed, and a client could claim a new one each time; a last entry that is no
/// address falls back to the peer). IPv6 addresses count
/// by their /64 network; without a peer (a router served without connection info) every
/// lookup shares one window.
pub fn client_of(peer: Option<SocketAddr>, headers: &HeaderMap, behind_proxy: bool) -> IpAddr {
    let forwarded = behind_proxy.then(|| last_forwarded(headers)).flatten();
    let address = forwarded
        .or(peer.map(|peer| peer.ip()))
        .unwrap_or(IpAddr::from([0, 0, 0, 0]));
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The last entry of `X-Forwarded-For` (of its last header line) as an address.
fn last_forwarded(headers: &HeaderMap) -> Option<IpAddr> {
    let line = headers.get_all("x-forwarded-for").iter().next_back()?;
    let hop = line
        .to_str()
        .ok()?
        .split(',')
        .map(str::trim)
        .rfind(|hop| !hop.is_empty())?;
    hop.parse().ok()
}
