//! Which URIs an import may fetch (`glance.common.utils.validate_uri` with
//! `[import_filtering_opts]`): scheme, host and port lists on the URI as
//! Python's `urlparse` reads it, then the addresses the host resolves to,
//! where loopback and link-local ones are refused unless the host is
//! explicitly allowed. Resolving is the caller's part: [`screen`] checks
//! the text, [`admit`] the addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::config::ImportFiltering;

/// A URI that passed the textual checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host, lower-cased, without brackets.
    pub host: String,
    /// The port to connect to (the scheme's default when none is given).
    pub port: u16,
    /// The host is in `allowed_hosts`: its addresses are not checked.
    pub whitelisted: bool,
    /// The port lists refuse the port; only the mock's loopback
    /// allowance can still let the URI through.
    pub port_refused: bool,
}

/// `urllib.parse.urlsplit`'s scheme, host and port (`Err` for a port
/// Python refuses to read).
fn split(uri: &str) -> Result<(String, Option<String>, Option<u16>), ()> {
    let (scheme, rest) = match uri.split_once(':') {
        Some((s, rest))
            if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (s.to_ascii_lowercase(), rest)
        }
        _ => (String::new(), uri),
    };
    let Some(after) = rest.strip_prefix("//") else {
        return Ok((scheme, None, None));
    };
    let netloc = &after[..after.find(['/', '?', '#']).unwrap_or(after.len())];
    let hostinfo = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
    let (host, port) = if let Some(bracketed) = hostinfo.strip_prefix('[') {
        let (host, tail) = bracketed.split_once(']').unwrap_or((bracketed, ""));
        (host, tail.strip_prefix(':'))
    } else {
        match hostinfo.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostinfo, None),
        }
    };
    let port = match port.filter(|p| !p.is_empty()) {
        None => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse::<u16>().map_err(|_| ())?),
        Some(_) => return Err(()),
    };
    let host = (!host.is_empty()).then(|| host.to_ascii_lowercase());
    Ok((scheme, host, port))
}

/// A host as an IP address, in the standard notations only (Python's
/// `ipaddress` refuses `127.1`, `0x7f000001` and the like).
pub fn literal_ip(host: &str) -> Option<IpAddr> {
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    host.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// The textual checks of `get_validated_address`: an allowed scheme, a
/// host that is an IP address or a name (not digits and dots only), in
/// the host lists' favour, and the port lists. `None` if refused.
pub fn screen(uri: &str, f: &ImportFiltering) -> Option<Target> {
    let (scheme, host, port) = split(uri).ok()?;
    let listed = |list: &[String], v: &str| list.iter().any(|x| x == v);
    let scheme_refused = scheme.is_empty()
        || if f.allowed_schemes.is_empty() {
            listed(&f.disallowed_schemes, &scheme)
        } else {
            !listed(&f.allowed_schemes, &scheme)
        };
    if scheme_refused {
        return None;
    }
    let host = host?;
    let host = match literal_ip(&host) {
        Some(ip) => ip.to_string(),
        None if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') => return None,
        None => host,
    };
    let host_refused = if f.allowed_hosts.is_empty() {
        listed(&f.disallowed_hosts, &host)
    } else {
        !listed(&f.allowed_hosts, &host)
    };
    if host_refused {
        return None;
    }
    let port_refused = port.filter(|p| *p != 0).is_some_and(|p| {
        if f.allowed_ports.is_empty() {
            f.disallowed_ports.contains(&p)
        } else {
            !f.allowed_ports.contains(&p)
        }
    });
    Some(Target {
        whitelisted: listed(&f.allowed_hosts, &host),
        port: port
            .filter(|p| *p != 0)
            .unwrap_or(if scheme == "https" { 443 } else { 80 }),
        host,
        port_refused,
    })
}

fn loopback_or_link_local(addr: IpAddr) -> bool {
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    };
    match addr {
        IpAddr::V4(a) => a.is_loopback() || a.is_link_local(),
        IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// `resolve_pinned_address` on the addresses `target.host` resolved to:
/// whether one of them may be fetched from. With the mock's
/// `allow_loopback`, a host that resolves to loopback only passes, port
/// lists notwithstanding.
pub fn admit(target: &Target, addrs: &[IpAddr], f: &ImportFiltering) -> bool {
    if addrs.is_empty() {
        return false;
    }
    if f.allow_loopback && addrs.iter().all(IpAddr::is_loopback) {
        return true;
    }
    if target.port_refused {
        return false;
    }
    let blocked_hosts: &[String] = if f.allowed_hosts.is_empty() {
        &f.disallowed_hosts
    } else {
        &[]
    };
    addrs.iter().any(|addr| {
        if target.whitelisted {
            return true;
        }
        if loopback_or_link_local(*addr) {
            return false;
        }
        !blocked_hosts.iter().any(|b| {
            *b != target.host
                && match literal_ip(b) {
                    Some(ip) => ip == *addr,
                    None => *b == addr.to_string(),
                }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glance() -> ImportFiltering {
        ImportFiltering {
            allow_loopback: false,
            ..ImportFiltering::default()
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn urls_are_split_as_python_does() {
        assert_eq!(
            split("HTTP://User@Example.COM:8080/x?y"),
            Ok(("http".into(), Some("example.com".into()), Some(8080)))
        );
        assert_eq!(
            split("http://[::1]:80/"),
            Ok(("http".into(), Some("::1".into()), Some(80)))
        );
        assert_eq!(split("http://h:99999/"), Err(()));
        assert_eq!(split("http://h:x/"), Err(()));
        assert_eq!(split("no-scheme"), Ok((String::new(), None, None)));
    }

    #[test]
    fn schemes_hosts_and_ports_are_screened() {
        let f = glance();
        assert!(screen("file:///etc/passwd", &f).is_none());
        assert!(screen("ftp://example.com/x", &f).is_none());
        assert!(screen("http://127.1/x", &f).is_none());
        assert!(screen("http://2130706433/x", &f).is_none());
        let t = screen("http://example.com:8080/x", &f).expect("screened");
        assert!(t.port_refused);
        let t = screen("https://example.com/x", &f).expect("screened");
        assert_eq!((t.port, t.port_refused), (443, false));
        let only = ImportFiltering {
            allowed_hosts: vec!["127.0.0.1".into()],
            ..glance()
        };
        assert!(screen("http://example.com/", &only).is_none());
        assert!(
            screen("http://127.0.0.1/", &only)
                .expect("listed")
                .whitelisted
        );
    }

    #[test]
    fn loopback_is_refused_unless_allowed() {
        let f = glance();
        let t = screen("http://localhost:9708/x", &f).expect("screened");
        assert!(!admit(&t, &[ip("127.0.0.1")], &f));
        assert!(!admit(&t, &[ip("::ffff:127.0.0.1")], &f));
        assert!(!admit(&t, &[ip("127.0.0.1")], &ImportFiltering::default()));
        let opted_in = ImportFiltering {
            allow_loopback: true,
            ..glance()
        };
        assert!(admit(&t, &[ip("127.0.0.1")], &opted_in));
        let t = screen("http://example.com/x", &f).expect("screened");
        assert!(admit(&t, &[ip("169.254.169.254"), ip("93.184.216.34")], &f));
        assert!(!admit(&t, &[ip("169.254.169.254")], &f));
        let blocked = ImportFiltering {
            disallowed_hosts: vec!["93.184.216.34".into()],
            ..glance()
        };
        assert!(!admit(&t, &[ip("93.184.216.34")], &blocked));
        assert!(!admit(&t, &[], &f));
    }
}
