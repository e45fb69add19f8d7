//! The address a request came from, for the limits counted per address (failed logins, the public ticket form):
//! the peer, or, when the peer is a proxy the operator trusts (their load balancer), the client that proxy names in
//! `X-Forwarded-For`. Behind a balancer every request has the balancer's address: counted by it, twenty failures
//! from anyone would lock everyone out. Untrusted peers cannot choose their address by sending the header.

use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// Networks whose requests are forwarded for someone else (`KEFU_TRUSTED_PROXIES`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// From a comma-separated list of addresses and networks: `10.0.0.5, 10.1.0.0/16, fd00::/8`.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{item:?} is not an IP address or network"))?;
            let ip = ip.to_canonical();
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{item:?}: the prefix length must be 0 to {max}"))?,
                None => max,
            };
            nets.push((ip, bits));
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|(net, bits)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                u32::from(*net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                u128::from(*net) & mask == u128::from(ip) & mask
            }
            _ => false,
        })
    }

    /// The client behind `peer`: each trusted proxy appends the address it received from, so the list is read
    /// from the right, past the trusted hops; the first other address is the client. A list a trusted proxy did
    /// not write cannot be told apart, so an untrusted peer is its own client.
    pub fn client(&self, peer: IpAddr, forwarded_for: Option<&str>) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_for.unwrap_or_default().rsplit(',') {
            let Ok(ip) = hop.trim().parse::<IpAddr>() else {
                // Garbage in the list: trust nothing left of it.
                return client;
            };
            client = ip.to_canonical();
            if !self.contains(client) {
                return client;
            }
        }
        client
    }
}

/// The requesting client's address (see the module).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        // Several X-Forwarded-For lines read as one list, in order.
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let forwarded = forwarded.join(",");
        Ok(ClientIp(
            state
                .trusted_proxies
                .client(peer, (!forwarded.is_empty()).then_some(forwarded.as_str())),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_are_parsed_and_matched_by_prefix() {
        let t = TrustedProxies::parse("10.0.0.5, 192.168.0.0/16 ,fd00::/8").unwrap();
        assert!(t.contains(ip("10.0.0.5")));
        assert!(!t.contains(ip("10.0.0.6")));
        assert!(t.contains(ip("192.168.44.1")));
        assert!(t.contains(ip("::ffff:192.168.1.1")), "IPv4-mapped addresses are IPv4");
        assert!(t.contains(ip("fd12::1")));
        assert!(!t.contains(ip("fe80::1")));
        assert!(TrustedProxies::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").unwrap_err().contains("0 to 32"));
        assert!(TrustedProxies::parse("proxy.local").unwrap_err().contains("not an IP"));
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // Through the balancer: the address it received from.
        assert_eq!(t.client(ip("10.0.0.2"), Some("203.0.113.7")), ip("203.0.113.7"));
        // A client that sent its own header cannot choose: the balancer appended the real address.
        assert_eq!(
            t.client(ip("10.0.0.2"), Some("1.2.3.4, 203.0.113.7")),
            ip("203.0.113.7")
        );
        // Two trusted hops.
        assert_eq!(
            t.client(ip("10.0.0.2"), Some("203.0.113.7, 10.9.9.9")),
            ip("203.0.113.7")
        );
        // Straight from the internet, the header is the sender's word: ignored.
        assert_eq!(t.client(ip("198.51.100.1"), Some("203.0.113.7")), ip("198.51.100.1"));
        // No header, or garbage in it: the last address known.
        assert_eq!(t.client(ip("10.0.0.2"), None), ip("10.0.0.2"));
        assert_eq!(t.client(ip("10.0.0.2"), Some("junk, 10.1.1.1")), ip("10.1.1.1"));
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.2"), Some("203.0.113.7")),
            ip("10.0.0.2")
        );
    }
}
