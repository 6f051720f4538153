//! Property tests of address parsing (`ToSocketAddrs`, reached through `net::lookup_host` and
//! every `bind`/`connect`): whatever string or tuple a caller passes, corio never panics, a
//! literal address resolves to exactly what std's `str::parse::<SocketAddr>` gives, a
//! malformed one or an out-of-range port is `InvalidInput`, and every `SocketAddr`'s `Display`
//! output round-trips.
//!
//! Inputs that would reach the system resolver (a `host:port` whose host is not an IP literal)
//! are left out: resolving them would send DNS queries off this machine, which the tests must
//! not do, and the answer would not be deterministic. [`reaches_resolver`] says which ones.
#![cfg(not(loom))]

use corio::net::{lookup_host, ToSocketAddrs};
use corio::runtime::{Builder, Runtime};
use proptest::prelude::*;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::OnceLock;

/// One runtime for every case (the blocking pool runs the non-literal strings' parsing).
fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

/// What `lookup_host(addr)` gives, collected.
fn lookup(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    rt().block_on(async { lookup_host(addr).await.map(|it| it.collect()) })
}

/// [`lookup`] of `(host, port)`, for a host of any string type.
fn lookup_tuple(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    lookup((host, port))
}

/// Whether resolving the string `s` would ask the system resolver (getaddrinfo): it is not a
/// socket-address literal, but splits at its last `:` into a host without NUL and a valid
/// port. Everything else is decided without any lookup.
fn reaches_resolver(s: &str) -> bool {
    if s.parse::<SocketAddr>().is_ok() {
        return false;
    }
    match s.rsplit_once(':') {
        Some((host, port)) => port.parse::<u16>().is_ok() && !host.contains('\0'),
        None => false,
    }
}

/// The contract for a string that needs no lookup: std's literal parse, or `InvalidInput`.
fn check_string(s: &str) -> Result<(), TestCaseError> {
    let got = lookup(s);
    match s.parse::<SocketAddr>() {
        Ok(addr) => prop_assert_eq!(got.map_err(|e| e.to_string()), Ok(vec![addr])),
        Err(_) => {
            let err = got.err();
            prop_assert!(
                err.as_ref().map(io::Error::kind) == Some(io::ErrorKind::InvalidInput),
                "{s:?} gave {err:?}, want InvalidInput"
            );
        }
    }
    Ok(())
}

/// Strings over the characters addresses are made of (plus a few that break them), so that a
/// good share are literals or near misses rather than noise.
fn addressy() -> impl Strategy<Value = String> {
    "[0-9a-fA-F:.\\[\\]%+\\- \u{0}]{0,48}"
}

/// A socket address's text with one random edit (insert, remove or replace a character, or
/// none): literals and their nearest misses, where a parser's edge cases are.
fn edited_literal() -> impl Strategy<Value = String> {
    let chars = vec![
        '0', '9', 'f', 'g', ':', '.', '[', ']', '%', '-', '+', ' ', '\0', '\u{e9}',
    ];
    (
        any::<SocketAddr>(),
        any::<prop::sample::Index>(),
        0u8..4,
        prop::sample::select(chars),
    )
        .prop_map(|(addr, at, edit, c)| {
            let mut text: Vec<char> = addr.to_string().chars().collect();
            let i = at.index(text.len() + 1);
            match edit {
                0 => text.insert(i, c),
                1 if i < text.len() => {
                    text.remove(i);
                }
                2 if i < text.len() => text[i] = c,
                _ => {}
            }
            text.into_iter().collect()
        })
}

/// An IPv6 literal with an optional numeric scope id, as `[ip%scope]:port`-style parts.
fn v6_with_scope() -> impl Strategy<Value = (Ipv6Addr, u32)> {
    (any::<Ipv6Addr>(), any::<u32>())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    /// Any string at all: no panic, and the literal-or-InvalidInput contract.
    #[test]
    fn any_string_never_panics(s in any::<String>()) {
        prop_assume!(!reaches_resolver(&s));
        check_string(&s)?;
    }

    /// Address-shaped strings: same contract, many more literals and near misses.
    #[test]
    fn addressy_strings_agree_with_std(s in addressy()) {
        prop_assume!(!reaches_resolver(&s));
        check_string(&s)?;
    }

    /// Literals with one edit: std's parse and corio agree on every one (the edits that turn
    /// the text into a `host:port` with a non-literal host would need a DNS lookup: not tried).
    #[test]
    fn edited_literals_agree_with_std(s in edited_literal()) {
        if !reaches_resolver(&s) {
            check_string(&s)?;
        }
    }

    /// Every socket address prints to a string that resolves back to it (IPv6 flow info is not
    /// part of the text form, so it comes back as 0; the scope id does round-trip).
    #[test]
    fn display_round_trips(addr in any::<SocketAddr>()) {
        let want = match addr {
            SocketAddr::V6(a) => SocketAddr::V6(SocketAddrV6::new(*a.ip(), a.port(), 0, a.scope_id())),
            a => a,
        };
        let text = addr.to_string();
        prop_assert_eq!(lookup(&text).map_err(|e| e.to_string()), Ok(vec![want]));
    }

    /// A port past 65535 after a valid host is InvalidInput, bracketed IPv6 or not.
    #[test]
    fn out_of_range_port_is_invalid_input(ip in any::<IpAddr>(), port in 65_536u64..=u64::MAX) {
        let text = match ip {
            IpAddr::V4(v4) => format!("{v4}:{port}"),
            IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        };
        prop_assert!(!reaches_resolver(&text));
        let err = lookup(&text).err();
        prop_assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::InvalidInput));
    }

    /// A host with an embedded NUL never reaches the resolver: InvalidInput, as a string and
    /// as a `(host, port)` tuple.
    #[test]
    fn embedded_nul_is_invalid_input(
        a in "[a-z0-9.]{0,20}",
        b in "[a-z0-9.]{0,20}",
        port in any::<u16>(),
    ) {
        let host = format!("{a}\0{b}");
        let err = lookup(format!("{host}:{port}")).err();
        prop_assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::InvalidInput));
        let err = lookup_tuple(&host, port).err();
        prop_assert_eq!(err.map(|e| e.kind()), Some(io::ErrorKind::InvalidInput));
    }

    /// `(ip text, port)` tuples resolve to exactly `SocketAddr::new(ip, port)`; typed
    /// `(IpAddr, u16)` tuples and `SocketAddr`s themselves pass through unchanged.
    #[test]
    fn tuples_resolve_to_the_literal(ip in any::<IpAddr>(), port in any::<u16>()) {
        let want = vec![SocketAddr::new(ip, port)];
        prop_assert_eq!(lookup_tuple(&ip.to_string(), port).map_err(|e| e.to_string()), Ok(want.clone()));
        let owned = (ip.to_string(), port);
        let got = lookup(owned).unwrap();
        prop_assert_eq!(&got, &want);
        let got = lookup((ip, port)).unwrap();
        prop_assert_eq!(&got, &want);
        let got = lookup(want[0]).unwrap();
        prop_assert_eq!(got, want);
    }

    /// `("v6%scope", port)`: an IPv6 host with a numeric scope id keeps its scope.
    #[test]
    fn tuple_v6_scope_id_is_kept((ip, scope) in v6_with_scope(), port in any::<u16>()) {
        let got = lookup_tuple(&format!("{ip}%{scope}"), port).map_err(|e| e.to_string());
        prop_assert_eq!(got, Ok(vec![SocketAddr::V6(SocketAddrV6::new(ip, port, 0, scope))]));
    }

    /// A slice of addresses resolves to the same addresses in the same order.
    #[test]
    fn slices_keep_order(addrs in prop::collection::vec(any::<SocketAddr>(), 0..8)) {
        let got = lookup(&addrs[..]).unwrap();
        prop_assert_eq!(got, addrs);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// `bind` and `connect` reject a malformed address with InvalidInput before touching a
    /// socket (the same parsing, reached through the socket constructors).
    #[test]
    fn bind_and_connect_reject_malformed(s in addressy()) {
        prop_assume!(!reaches_resolver(&s) && s.parse::<SocketAddr>().is_err());
        let (l, u, c) = rt().block_on(async {
            (
                corio::net::TcpListener::bind(s.as_str()).await.err(),
                corio::net::UdpSocket::bind(s.as_str()).await.err(),
                corio::net::TcpStream::connect(s.as_str()).await.err(),
            )
        });
        prop_assert_eq!(l.map(|e| e.kind()), Some(io::ErrorKind::InvalidInput));
        prop_assert_eq!(u.map(|e| e.kind()), Some(io::ErrorKind::InvalidInput));
        prop_assert_eq!(c.map(|e| e.kind()), Some(io::ErrorKind::InvalidInput));
    }
}

/// Fixed cases the random ones may miss: the boundary ports, IPv6 without brackets or with a
/// scope, and the forms std itself rejects.
#[test]
fn boundary_cases() {
    assert_eq!(
        lookup("127.0.0.1:65535").unwrap(),
        vec!["127.0.0.1:65535".parse::<SocketAddr>().unwrap()]
    );
    assert_eq!(
        lookup("[::1]:0").unwrap(),
        vec!["[::1]:0".parse::<SocketAddr>().unwrap()]
    );
    assert_eq!(
        lookup("[fe80::1%7]:80").unwrap(),
        vec![SocketAddr::V6(SocketAddrV6::new(
            "fe80::1".parse().unwrap(),
            80,
            0,
            7
        ))]
    );
    for bad in [
        "",
        ":",
        "127.0.0.1",
        "127.0.0.1:",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "[::1]",
        "[::1]:",
        "[::1]:99999",
        "1.2.3.4:80:",
        "\0:80",
    ] {
        assert!(!reaches_resolver(bad), "{bad:?}");
        let err = lookup(bad).expect_err(bad);
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}: {err}");
    }
}
