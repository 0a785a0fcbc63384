use super::*;
use axum::http::HeaderValue;

fn address(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn one_client_over_its_limit_does_not_stop_another() {
    let throttle = TrackThrottle::new(3, Duration::from_secs(60), 100);
    let start = Instant::now();
    let (abuser, neighbour) = (address("203.0.113.7"), address("198.51.100.2"));
    let allowed: Vec<bool> = (0..5).map(|_| throttle.allow(abuser, start)).collect();
    assert_eq!(allowed, [true, true, true, false, false]);
    assert!(throttle.allow(neighbour, start));
    // Half a minute on the window still runs; a minute on it starts again.
    assert!(!throttle.allow(abuser, start + Duration::from_secs(30)));
    assert!(throttle.allow(abuser, start + Duration::from_secs(60)));
}

#[test]
fn the_windows_kept_stay_bounded_spent_ones_going_first() {
    let throttle = TrackThrottle::new(2, Duration::from_secs(60), 3);
    let start = Instant::now();
    let clients: Vec<IpAddr> = (1..=3).map(|n| IpAddr::from([10, 0, 0, n])).collect();
    assert!(throttle.allow(clients[0], start));
    assert!(throttle.allow(clients[1], start));
    // The third client comes half a minute later and spends its limit.
    let later = start + Duration::from_secs(30);
    assert!(throttle.allow(clients[2], later));
    assert!(throttle.allow(clients[2], later));
    assert!(!throttle.allow(clients[2], later));
    // A minute after the start the first two windows have run out: a newcomer replaces them,
    // and the third client's window (still running) is kept, so it stays refused.
    let after = start + Duration::from_secs(61);
    assert!(throttle.allow(IpAddr::from([10, 0, 1, 1]), after));
    assert_eq!(throttle.clients(), 2);
    assert!(!throttle.allow(clients[2], after));
    // A flood of new addresses within one window: never more than three kept, and each
    // newcomer is answered.
    for n in 0..1000u16 {
        let [high, low] = n.to_be_bytes();
        assert!(throttle.allow(IpAddr::from([10, 1, high, low]), after));
        assert!(throttle.clients() <= 3);
    }
}

#[test]
fn the_client_is_the_peer_unless_a_trusted_proxy_says_otherwise() {
    let peer: SocketAddr = "192.0.2.10:50000".parse().unwrap();
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-forwarded-for",
        HeaderValue::from_static("1.2.3.4, 203.0.113.9"),
    );
    // Not behind a proxy (the default): the header is anyone's to write, so it is ignored.
    assert_eq!(
        client_of(Some(peer), &headers, false),
        address("192.0.2.10")
    );
    // Behind one: the address the proxy appended, not the one the client claimed first.
    assert_eq!(
        client_of(Some(peer), &headers, true),
        address("203.0.113.9")
    );
    headers.insert(
        "x-forwarded-for",
        HeaderValue::from_static("1.2.3.4, unknown"),
    );
    assert_eq!(client_of(Some(peer), &headers, true), address("192.0.2.10"));
    assert_eq!(
        client_of(Some(peer), &HeaderMap::new(), true),
        address("192.0.2.10")
    );
    // IPv6 by its /64; an IPv4-mapped address as IPv4; no peer: one shared window.
    let v6: SocketAddr = "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443".parse().unwrap();
    assert_eq!(
        client_of(Some(v6), &HeaderMap::new(), false),
        address("2001:db8:1:2::")
    );
    let mapped: SocketAddr = "[::ffff:192.0.2.10]:443".parse().unwrap();
    assert_eq!(
        client_of(Some(mapped), &HeaderMap::new(), false),
        address("192.0.2.10")
    );
    assert_eq!(
        client_of(None, &HeaderMap::new(), false),
        address("0.0.0.0")
    );
}
