//! A minimal hand-written ClientHello for SSL 3.0, TLS 1.0 and TLS 1.1.
//!
//! rustls deliberately implements only TLS 1.2 and 1.3: it has no code for the older record
//! formats, key derivations (SSL 3.0 MAC, TLS 1.0/1.1 PRF) or CBC cipher suites those versions
//! need, so it cannot even *offer* them. To learn whether a server still accepts an old version
//! we do not need to finish a handshake: we send one ClientHello that offers exactly that version
//! and read only the first thing the server answers — the version in its ServerHello, or an
//! alert. Nothing else is parsed, at most [`READ_CAP`] bytes are read, and the whole exchange is
//! bounded by the caller's timeout.

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Wire codes of the versions.
pub const SSL3: u16 = 0x0300;
pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;

/// The most we read from a server before giving up on finding a ServerHello.
pub const READ_CAP: usize = 4096;

const CONTENT_ALERT: u8 = 21;
const CONTENT_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const HANDSHAKE_SERVER_HELLO: u8 = 2;
/// Largest record a server may send (2^14 plus expansion, RFC 5246 6.2.3).
const MAX_RECORD: usize = 16384 + 2048;

/// Cipher suites offered: every family a server of the SSL 3.0 – TLS 1.2 era may insist on
/// (ECDHE/DHE/RSA key exchange; AES-GCM, AES-CBC, 3DES, RC4), so a refusal means the version,
/// not a cipher, was refused.
const CIPHER_SUITES: &[u16] = &[
    0xc02b, 0xc02f, 0xc02c, 0xc030, // ECDHE-{ECDSA,RSA}-AES-GCM
    0xcca9, 0xcca8, // ECDHE ChaCha20
    0xc009, 0xc013, 0xc00a, 0xc014, // ECDHE-{ECDSA,RSA}-AES-CBC-SHA
    0xc023, 0xc027, 0xc024, 0xc028, // ECDHE AES-CBC-SHA256/384
    0x009e, 0x009f, 0x0033, 0x0039, 0x0067, 0x006b, // DHE-RSA
    0x009c, 0x009d, 0x002f, 0x0035, 0x003c, 0x003d, // RSA AES
    0xc012, 0x0016, 0x000a, // 3DES
    0xc011, 0x0005, 0x0004, // RC4
    0x00ff, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
];

/// A ClientHello record offering exactly `version`, with SNI when a host name is given
/// (SSL 3.0 hellos carry no extensions, as SSL 3.0 servers may choke on them).
pub fn client_hello(version: u16, sni: Option<&str>, random: [u8; 32]) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&random);
    body.push(0); // empty session id
    put_u16(&mut body, (CIPHER_SUITES.len() * 2) as u16);
    for c in CIPHER_SUITES {
        put_u16(&mut body, *c);
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    if version > SSL3 {
        let mut ext = Vec::new();
        if let Some(name) = sni.filter(|n| !n.is_empty() && n.parse::<std::net::IpAddr>().is_err())
        {
            let name = name.as_bytes();
            // server_name: list length, type host_name (0), name length, name
            put_u16(&mut ext, 0x0000);
            put_u16(&mut ext, (name.len() + 5) as u16);
            put_u16(&mut ext, (name.len() + 3) as u16);
            ext.push(0);
            put_u16(&mut ext, name.len() as u16);
            ext.extend_from_slice(name);
        }
        // supported_groups: x25519, secp256r1, secp384r1
        ext.extend_from_slice(&[0x00, 0x0a, 0, 8, 0, 6, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]);
        // ec_point_formats: uncompressed
        ext.extend_from_slice(&[0x00, 0x0b, 0, 2, 1, 0]);
        if version >= TLS12 {
            // signature_algorithms: rsa_pkcs1 sha256/384/sha1, ecdsa sha256/384, rsa_pss sha256
            ext.extend_from_slice(&[
                0x00, 0x0d, 0, 14, 0, 12, 0x04, 0x01, 0x05, 0x01, 0x02, 0x01, 0x04, 0x03, 0x05,
                0x03, 0x08, 0x04,
            ]);
        }
        put_u16(&mut body, ext.len() as u16);
        body.extend_from_slice(&ext);
    }
    let mut hs = Vec::with_capacity(body.len() + 4);
    hs.push(HANDSHAKE_CLIENT_HELLO);
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = Vec::with_capacity(hs.len() + 5);
    rec.push(CONTENT_HANDSHAKE);
    // Record-layer version: TLS 1.0 for every TLS hello (what servers expect), SSL 3.0 for SSL 3.0.
    rec.extend_from_slice(&version.min(TLS10).to_be_bytes());
    put_u16(&mut rec, hs.len() as u16);
    rec.extend_from_slice(&hs);
    rec
}

fn put_u16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_be_bytes());
}

/// What the first bytes from the server say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A ServerHello choosing this version.
    ServerHello { version: u16 },
    /// An alert (level, description) before any ServerHello.
    Alert { level: u8, description: u8 },
    /// Bytes that are not a TLS record (an HTTP server, a banner, noise); a short description.
    NotTls(String),
}

/// The parser's verdict on what has arrived so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse {
    /// Need more bytes.
    Incomplete,
    Done(Reply),
}

/// Read the server's first answer from `buf`: records are walked, handshake fragments joined,
/// until a ServerHello's version or an alert is seen. Never panics on any input.
pub fn parse_reply(buf: &[u8]) -> Parse {
    let mut hs: Vec<u8> = Vec::new();
    let mut rest = buf;
    loop {
        if rest.is_empty() {
            return Parse::Incomplete;
        }
        let ctype = rest[0];
        if ctype != CONTENT_HANDSHAKE && ctype != CONTENT_ALERT {
            return Parse::Done(Reply::NotTls(describe(rest)));
        }
        if rest.len() < 5 {
            return Parse::Incomplete;
        }
        if rest[1] != 3 {
            return Parse::Done(Reply::NotTls(describe(rest)));
        }
        let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
        if len == 0 || len > MAX_RECORD {
            return Parse::Done(Reply::NotTls(format!(
                "TLS record of impossible length {len}"
            )));
        }
        let available = &rest[5..];
        if ctype == CONTENT_ALERT {
            // An alert is two bytes; it never follows a partial handshake message here.
            if available.len() < 2 {
                return Parse::Incomplete;
            }
            return Parse::Done(Reply::Alert {
                level: available[0],
                description: available[1],
            });
        }
        let take = len.min(available.len());
        hs.extend_from_slice(&available[..take]);
        // Handshake header (type, 3-byte length) then the two version bytes.
        if hs.len() >= 6 {
            if hs[0] != HANDSHAKE_SERVER_HELLO {
                return Parse::Done(Reply::NotTls(format!(
                    "handshake message type {} instead of ServerHello",
                    hs[0]
                )));
            }
            return Parse::Done(Reply::ServerHello {
                version: u16::from_be_bytes([hs[4], hs[5]]),
            });
        }
        if take < len {
            return Parse::Incomplete;
        }
        rest = &available[len..];
    }
}

/// A short, printable description of bytes that are not TLS (never the bytes themselves
/// beyond a few safe characters: servers must not write to the user's terminal).
fn describe(bytes: &[u8]) -> String {
    let head: String = bytes
        .iter()
        .take(16)
        .map(|b| {
            if b.is_ascii_alphanumeric() || *b == b' ' || *b == b'/' || *b == b'.' {
                *b as char
            } else {
                '.'
            }
        })
        .collect();
    if bytes.starts_with(b"HTTP/") {
        "an HTTP response (plain HTTP on a TLS port?)".to_string()
    } else if bytes.first().is_some_and(|b| b & 0x80 != 0) && bytes.len() > 2 && bytes[2] == 4 {
        "an SSL 2.0 ServerHello".to_string()
    } else {
        format!("non-TLS data starting `{head}`")
    }
}

/// Why no reply could be read.
#[derive(Debug, thiserror::Error)]
pub enum HelloError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("connection closed without an answer")]
    Closed,
    #[error("more than {READ_CAP} bytes without a ServerHello")]
    TooLong,
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("{0}")]
    Io(std::io::Error),
}

/// Send a hello offering `version` over an open stream and read the reply.
/// The caller bounds the time (see [`probe`]).
pub async fn exchange<S>(
    stream: &mut S,
    version: u16,
    sni: Option<&str>,
) -> Result<Reply, HelloError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut random = [0u8; 32];
    // Any bytes will do for a probe that never completes a handshake; use real randomness anyway.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    stream
        .write_all(&client_hello(version, sni, random))
        .await
        .map_err(HelloError::Io)?;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            // A reset right after our hello is how some servers refuse a version.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(HelloError::Io(e)),
        };
        if n == 0 {
            return Err(HelloError::Closed);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Parse::Done(reply) = parse_reply(&buf) {
            return Ok(reply);
        }
        if buf.len() >= READ_CAP {
            return Err(HelloError::TooLong);
        }
    }
}

/// The name of an alert description (RFC 5246 7.2, RFC 8446 6).
pub fn alert_name(description: u8) -> &'static str {
    match description {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown alert",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_hello(version: u16) -> Vec<u8> {
        // record header, then handshake type 2, length, version, (rest not needed)
        let mut v = vec![22, 3, 1, 0, 10, 2, 0, 0, 70];
        v.extend_from_slice(&version.to_be_bytes());
        v.extend_from_slice(&[0; 4]);
        v
    }

    #[test]
    fn hello_is_a_well_formed_record() {
        for (version, sni) in [
            (SSL3, None),
            (TLS10, Some("login.test")),
            (TLS11, Some("127.0.0.1")),
            (TLS12, Some("x")),
        ] {
            let h = client_hello(version, sni, [7; 32]);
            assert_eq!(h[0], 22);
            assert_eq!(u16::from_be_bytes([h[1], h[2]]), version.min(TLS10));
            assert_eq!(u16::from_be_bytes([h[3], h[4]]) as usize, h.len() - 5);
            assert_eq!(h[5], 1, "ClientHello");
            let hs_len = u32::from_be_bytes([0, h[6], h[7], h[8]]) as usize;
            assert_eq!(hs_len, h.len() - 9);
            assert_eq!(u16::from_be_bytes([h[9], h[10]]), version);
            let has_sni = h.windows(10).any(|w| w == b"login.test");
            assert_eq!(has_sni, sni == Some("login.test"));
        }
        // SSL 3.0: no extensions block at all
        let h = client_hello(SSL3, Some("login.test"), [0; 32]);
        let after_compression = 9 + 2 + 32 + 1 + 2 + CIPHER_SUITES.len() * 2 + 2;
        assert_eq!(h.len(), after_compression);
    }

    #[test]
    fn server_hello_and_alerts_are_read() {
        assert_eq!(
            parse_reply(&server_hello(TLS10)),
            Parse::Done(Reply::ServerHello { version: TLS10 })
        );
        assert_eq!(
            parse_reply(&[21, 3, 3, 0, 2, 2, 70]),
            Parse::Done(Reply::Alert {
                level: 2,
                description: 70
            })
        );
        assert_eq!(alert_name(70), "protocol_version");
    }

    #[test]
    fn partial_input_asks_for_more() {
        let full = server_hello(TLS11);
        for cut in 0..11 {
            assert_eq!(parse_reply(&full[..cut]), Parse::Incomplete, "cut at {cut}");
        }
        assert_eq!(parse_reply(&[21, 3, 1, 0, 2, 2]), Parse::Incomplete);
    }

    #[test]
    fn fragmented_server_hello_is_joined() {
        // The handshake header split over three records of 2, 2 and 2 bytes.
        let bytes = [
            22, 3, 1, 0, 2, 2, 0, 22, 3, 1, 0, 2, 0, 70, 22, 3, 1, 0, 2, 3, 2,
        ];
        assert_eq!(
            parse_reply(&bytes),
            Parse::Done(Reply::ServerHello { version: TLS11 })
        );
    }

    #[test]
    fn garbage_is_not_tls() {
        for g in [
            &b"HTTP/1.1 400 Bad Request\r\n"[..],
            b"SSH-2.0-OpenSSH",
            b"\x00\x00\x00\x00\x00\x00",
            b"\x16\x09\x01\x00\x05hello",
        ] {
            assert!(
                matches!(parse_reply(g), Parse::Done(Reply::NotTls(_))),
                "{g:?}"
            );
        }
        assert!(matches!(
            parse_reply(&[22, 3, 1, 0xff, 0xff]),
            Parse::Done(Reply::NotTls(_))
        ));
        assert!(matches!(
            parse_reply(&[22, 3, 1, 0, 0]),
            Parse::Done(Reply::NotTls(_))
        ));
        // A Certificate message where a ServerHello must be.
        assert!(matches!(
            parse_reply(&[22, 3, 3, 0, 6, 11, 0, 0, 2, 3, 3]),
            Parse::Done(Reply::NotTls(_))
        ));
        let d = describe(b"\x1b[31mred\x07");
        assert!(!d.contains('\x1b') && !d.contains('\x07'), "{d}");
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A cheap deterministic fuzz: every byte at every position of short inputs.
        let mut seed: u32 = 12345;
        for _ in 0..20000 {
            seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
            let len = (seed >> 16) as usize % 40;
            let mut v = Vec::with_capacity(len);
            for i in 0..len {
                seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
                let b = (seed >> 16) as u8;
                // Bias the first bytes towards plausible record headers.
                v.push(match i {
                    0 => [21, 22, b][b as usize % 3],
                    1 => [3, b][b as usize % 2],
                    _ => b,
                });
            }
            let _ = parse_reply(&v);
        }
    }
}
