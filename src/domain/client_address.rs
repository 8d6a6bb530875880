//! Who the client is: the address the per-address limits (sign-in and
//! public-lookup throttles), the audit record and the request log use.
//!
//! The TCP peer is the client, unless the peer is one of our own proxies
//! (`GATEKEEPER_TRUSTED_PROXIES`): then the client is found in the
//! `X-Forwarded-For` header, read from the right. Each proxy appends the
//! address it received the request from, so the right-most entries were
//! written by our proxies and the left-most by whoever sent the request
//! first — anyone may write anything there. The rule walks from the right,
//! skipping addresses of trusted proxies, and takes the first address that is
//! not one: the last hop our own proxies vouch for. Entries further left are
//! never read, so a client cannot choose its address by sending the header,
//! and cannot make the rule fall back to the proxy's address (shared by
//! everyone) by sending garbage.
//!
//! Only `X-Forwarded-For` is read, not RFC 7239 `Forwarded`: HAProxy
//! (`option forwardfor`) and nginx (`$proxy_add_x_forwarded_for`) write the
//! former, and a proxy that writes one header passes the other through
//! untouched — reading both would let a client write the one the proxy does
//! not.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` entries are believed: addresses and
/// CIDR ranges. Empty (the default): no header is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// An entry of the trusted-proxy list that is neither an address nor a
/// CIDR range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not an IP address or a CIDR range such as 10.0.0.0/8 or fd00::/8")]
pub struct BadProxyEntry(pub String);

impl TrustedProxies {
    /// Parses a comma-separated list of addresses (`10.0.0.5`, `::1`) and
    /// CIDR ranges (`10.0.0.0/8`, `fd00::/8`); spaces around entries are
    /// ignored, and an empty list trusts no one. A range with host bits set
    /// (`10.0.0.5/8`) is refused: it is most likely a typing mistake.
    pub fn parse(list: &str) -> Result<TrustedProxies, BadProxyEntry> {
        let mut nets = Vec::new();
        for entry in list.split(',').map(str::trim) {
            if entry.is_empty() {
                if list.trim().is_empty() {
                    continue;
                }
                return Err(BadProxyEntry(entry.to_owned()));
            }
            let net = if entry.contains('/') {
                let net: IpNet = entry
                    .parse()
                    .map_err(|_detail| BadProxyEntry(entry.to_owned()))?;
                if net.trunc() != net {
                    return Err(BadProxyEntry(entry.to_owned()));
                }
                canonical_net(net)
            } else {
                let ip: IpAddr = entry
                    .parse()
                    .map_err(|_detail| BadProxyEntry(entry.to_owned()))?;
                IpNet::from(ip.to_canonical())
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// An IPv4-mapped IPv6 range (`::ffff:10.0.0.0/104`) as the IPv4 range it
/// names, so that it matches the canonical addresses compared with it.
fn canonical_net(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .unwrap_or(net),
            None => net,
        },
        _ => net,
    }
}

/// The client's address for a request from `peer` that carried the
/// `X-Forwarded-For` header lines `forwarded_for` (in the order received;
/// several lines count as one list, as HTTP says). `None` for a line is one
/// that is not valid text.
///
/// - A peer that is not a trusted proxy is the client; its header is ignored.
/// - From a trusted peer, the entries are walked from the right: trusted
///   addresses are skipped, the first other address is the client.
/// - When every entry is trusted, the left-most is the client (a request from
///   inside, through several of our proxies).
/// - A header the walk cannot read (no entries, an entry that is not an
///   address, a line that is not text) before it reaches the client's entry
///   means the proxy sent something we do not understand: the peer is the
///   client. What lies left of the client's entry is never read.
///
/// Entries may carry a port (`203.0.113.7:4711`, `[2001:db8::7]:4711`);
/// IPv4-mapped IPv6 addresses are taken as the IPv4 address they carry.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = Option<&'a str>>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.trusts(peer) {
        return peer;
    }
    let mut entries: Vec<Option<&str>> = Vec::new();
    for line in forwarded_for {
        match line {
            Some(line) => entries.extend(line.split(',').map(|e| Some(e.trim()))),
            None => entries.push(None),
        }
    }
    let mut leftmost_trusted = None;
    for entry in entries.into_iter().rev() {
        let Some(ip) = entry.and_then(parse_entry) else {
            return peer;
        };
        if !trusted.trusts(ip) {
            return ip;
        }
        leftmost_trusted = Some(ip);
    }
    leftmost_trusted.unwrap_or(peer)
}

/// One `X-Forwarded-For` entry: an address, with or without a port.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = entry.parse::<SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    entry
        .strip_prefix('[')
        .and_then(|e| e.strip_suffix(']'))
        .and_then(|e| e.parse::<std::net::Ipv6Addr>().ok())
        .map(|ip| IpAddr::V6(ip).to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    fn trusted(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap_or_default()
    }

    fn client(peer: &str, header: &[&str], list: &str) -> IpAddr {
        client_address(ip(peer), header.iter().map(|h| Some(*h)), &trusted(list))
    }

    #[test]
    fn the_list_takes_addresses_and_ranges() {
        let t = trusted(" 10.0.0.5 , 192.168.0.0/16,fd00::/8, ::1,::ffff:172.16.0.0/108");
        assert_eq!(t.0.len(), 5);
        for yes in [
            "10.0.0.5",
            "192.168.200.1",
            "fd12::1",
            "::1",
            "::ffff:10.0.0.5",
            "172.16.3.4",
            "::ffff:172.16.3.4",
        ] {
            assert!(t.trusts(ip(yes)), "{yes}");
        }
        for no in ["10.0.0.6", "192.169.0.1", "fe80::1", "::2", "172.32.0.1"] {
            assert!(!t.trusts(ip(no)), "{no}");
        }
        assert!(TrustedProxies::parse("").is_ok_and(|t| t.is_empty()));
        assert!(TrustedProxies::parse("  ").is_ok_and(|t| t.is_empty()));
        assert!(TrustedProxies::parse("0.0.0.0/0").is_ok_and(|t| t.trusts(ip("8.8.8.8"))));
    }

    #[test]
    fn a_bad_entry_is_refused_by_name() {
        for (list, bad) in [
            ("10.0.0.5,proxy.example", "proxy.example"),
            ("10.0.0.300", "10.0.0.300"),
            ("10.0.0.0/33", "10.0.0.0/33"),
            ("10.0.0.5/8", "10.0.0.5/8"),
            ("10.0.0.5,,10.0.0.6", ""),
            ("10.0.0.5,", ""),
            ("10.0.0.5:8080", "10.0.0.5:8080"),
            ("fd00::/129", "fd00::/129"),
            ("10.0.0.0/", "10.0.0.0/"),
        ] {
            assert_eq!(
                TrustedProxies::parse(list),
                Err(BadProxyEntry(bad.to_owned())),
                "{list}"
            );
        }
        let message = BadProxyEntry("proxy.example".into()).to_string();
        assert!(message.contains("\"proxy.example\""), "{message}");
    }

    #[test]
    fn with_no_trusted_proxy_the_header_is_ignored() {
        assert_eq!(
            client("203.0.113.7", &["198.51.100.1"], ""),
            ip("203.0.113.7")
        );
        assert_eq!(client("10.0.0.5", &["198.51.100.1"], ""), ip("10.0.0.5"));
    }

    #[test]
    fn an_untrusted_peer_cannot_spoof() {
        // The peer is not our proxy: whatever it says, it is the client.
        assert_eq!(
            client("203.0.113.7", &["198.51.100.1, 10.0.0.5"], "10.0.0.0/8"),
            ip("203.0.113.7")
        );
        assert_eq!(
            client("203.0.113.7", &["garbage"], "10.0.0.0/8"),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn behind_one_proxy_the_last_entry_is_the_client() {
        assert_eq!(
            client("10.0.0.5", &["203.0.113.7"], "10.0.0.5"),
            ip("203.0.113.7")
        );
        // Left-most entries are the client's own words: ignored, spoofed or not.
        assert_eq!(
            client("10.0.0.5", &["1.1.1.1, 8.8.8.8, 203.0.113.7"], "10.0.0.5"),
            ip("203.0.113.7")
        );
        // Spoofing a trusted proxy's address on the left changes nothing.
        assert_eq!(
            client("10.0.0.5", &["10.0.0.5, 203.0.113.7"], "10.0.0.5"),
            ip("203.0.113.7")
        );
        // Garbage on the left is never read, so it cannot force the proxy's
        // (everyone's) address either.
        assert_eq!(
            client(
                "10.0.0.5",
                &["not an address, unknown, 203.0.113.7"],
                "10.0.0.5"
            ),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn several_hops_are_skipped_while_trusted() {
        // client -> CDN edge (10.1.0.9) -> balancer (10.0.0.5) -> us
        assert_eq!(
            client(
                "10.0.0.5",
                &["6.6.6.6, 203.0.113.7, 10.1.0.9"],
                "10.0.0.0/8"
            ),
            ip("203.0.113.7")
        );
        // An untrusted hop in the middle stops the walk there: what it says
        // about who came before cannot be believed.
        assert_eq!(
            client(
                "10.0.0.5",
                &["203.0.113.7, 198.51.100.1, 10.1.0.9"],
                "10.0.0.0/8"
            ),
            ip("198.51.100.1")
        );
        // Several header lines (HAProxy adds a line of its own) are one list,
        // in order.
        assert_eq!(
            client(
                "10.0.0.5",
                &["6.6.6.6", "203.0.113.7", "10.1.0.9"],
                "10.0.0.0/8"
            ),
            ip("203.0.113.7")
        );
        // Every entry trusted: the furthest one is the client.
        assert_eq!(
            client("10.0.0.5", &["10.2.0.1, 10.1.0.9"], "10.0.0.0/8"),
            ip("10.2.0.1")
        );
    }

    #[test]
    fn ipv6_and_ports() {
        assert_eq!(
            client("fd00::5", &["2001:db8::7"], "fd00::/8"),
            ip("2001:db8::7")
        );
        assert_eq!(
            client("fd00::5", &["[2001:db8::7]:4711"], "fd00::/8"),
            ip("2001:db8::7")
        );
        assert_eq!(
            client("fd00::5", &["[2001:db8::7]"], "fd00::/8"),
            ip("2001:db8::7")
        );
        assert_eq!(
            client("10.0.0.5", &["203.0.113.7:4711"], "10.0.0.5"),
            ip("203.0.113.7")
        );
        // A dual-stack socket reports an IPv4 peer as IPv4-mapped IPv6: it is
        // still the trusted IPv4 proxy, and mapped entries are IPv4 clients.
        assert_eq!(
            client("::ffff:10.0.0.5", &["::ffff:203.0.113.7"], "10.0.0.5"),
            ip("203.0.113.7")
        );
        assert_eq!(client("::ffff:203.0.113.7", &[], ""), ip("203.0.113.7"));
        // Mixed families along the way.
        assert_eq!(
            client("10.0.0.5", &["2001:db8::7, fd00::9"], "10.0.0.5, fd00::/8"),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn a_malformed_header_from_a_trusted_proxy_means_the_peer() {
        for header in [
            &[][..],
            &[""],
            &["unknown"],
            &["203.0.113.7, "],
            &["203.0.113.7,,"],
            &["proxy.example"],
            &["203.0.113.7 198.51.100.1"],
            &["fe80::1%eth0"],
            &["203.0.113.7, 10.1.0.9:port"],
        ] {
            assert_eq!(
                client("10.0.0.5", header, "10.0.0.0/8"),
                ip("10.0.0.5"),
                "{header:?}"
            );
        }
        // A header line that is not text, where the walk reads it...
        assert_eq!(
            client_address(
                ip("10.0.0.5"),
                [Some("203.0.113.7"), None],
                &trusted("10.0.0.5")
            ),
            ip("10.0.0.5")
        );
        // ...and left of the client's entry, where it is never read.
        assert_eq!(
            client_address(
                ip("10.0.0.5"),
                [None, Some("203.0.113.7")],
                &trusted("10.0.0.5")
            ),
            ip("203.0.113.7")
        );
    }
}
