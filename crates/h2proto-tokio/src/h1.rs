//! What arrives first on a cleartext port: the HTTP/2 preface (prior knowledge, RFC 9113 §3.3),
//! an HTTP/1.1 request asking to upgrade to h2c (RFC 7540 §3.2), or plain HTTP/1.1.

use bytes::Bytes;
use h2proto::frame::PREFACE;
use h2proto::Header;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest HTTP/1.1 request head we read before giving up.
const MAX_HEAD: usize = 16 << 10;
/// Largest request body we accept with an h2c Upgrade (it is read before switching).
const MAX_UPGRADE_BODY: usize = 1 << 20;

/// The outcome of sniffing a cleartext connection.
pub(crate) enum Sniffed {
    /// The client sent the preface: `buffered` holds everything read so far (preface included).
    Prior {
        buffered: Vec<u8>,
    },
    /// An HTTP/1.1 request with `Upgrade: h2c`: switch and answer it on stream 1.
    Upgrade {
        settings: Vec<u8>,
        request: Vec<Header>,
        body: Bytes,
        leftover: Vec<u8>,
    },
    /// Anything else (answered with 505 by [`reject_http1`]), or a connection closed early.
    Http1 {
        reason: &'static str,
    },
    Closed,
}

/// Reads just enough to tell the three cases apart.
pub(crate) async fn sniff<IO: AsyncRead + Unpin>(io: &mut IO) -> std::io::Result<Sniffed> {
    // Read straight into `buf` (no chunk array: the future stays small, see server.rs).
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.reserve(1024);
        let n = io.read_buf(&mut buf).await?;
        if n == 0 {
            return Ok(Sniffed::Closed);
        }
        let k = buf.len().min(PREFACE.len());
        if buf[..k] == PREFACE[..k] {
            if buf.len() >= PREFACE.len() {
                return Ok(Sniffed::Prior { buffered: buf });
            }
            continue;
        }
        if let Some(end) = find_head_end(&buf) {
            return upgrade_request(io, buf, end).await;
        }
        if buf.len() > MAX_HEAD {
            return Ok(Sniffed::Http1 {
                reason: "request head too large",
            });
        }
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Parses an HTTP/1.1 request head; an upgrade needs `Upgrade: h2c`, `HTTP2-Settings` and both
/// named in `Connection` (RFC 7540 §3.2, §3.2.1).
async fn upgrade_request<IO: AsyncRead + Unpin>(
    io: &mut IO,
    mut buf: Vec<u8>,
    end: usize,
) -> std::io::Result<Sniffed> {
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Ok(Sniffed::Http1 {
            reason: "not an HTTP request",
        });
    };
    if !version.starts_with("HTTP/1.") {
        return Ok(Sniffed::Http1 {
            reason: "not an HTTP/1.x request",
        });
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        fields.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let upgrade_h2c = get("upgrade")
        .map(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("h2c")))
        .unwrap_or(false);
    let connection_ok = get("connection")
        .map(|v| {
            let tokens: Vec<String> = v
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect();
            tokens.iter().any(|t| t == "upgrade") && tokens.iter().any(|t| t == "http2-settings")
        })
        .unwrap_or(false);
    let Some(settings) = get("http2-settings") else {
        return Ok(Sniffed::Http1 {
            reason: "HTTP/1.1 without Upgrade: h2c",
        });
    };
    if !upgrade_h2c || !connection_ok {
        return Ok(Sniffed::Http1 {
            reason: "HTTP/1.1 without Upgrade: h2c",
        });
    }
    // §3.2.1: HTTP2-Settings is the base64url SETTINGS payload, without padding.
    let Some(settings) = base64url_decode(settings) else {
        return Ok(Sniffed::Http1 {
            reason: "invalid HTTP2-Settings",
        });
    };
    if get("transfer-encoding").is_some() {
        return Ok(Sniffed::Http1 {
            reason: "chunked request bodies cannot be upgraded",
        });
    }
    let length: usize = get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_UPGRADE_BODY {
        return Ok(Sniffed::Http1 {
            reason: "request body too large for an upgrade",
        });
    }
    let mut rest = buf.split_off(end);
    while rest.len() < length {
        let mut chunk = vec![0u8; (length - rest.len()).min(64 << 10)];
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Ok(Sniffed::Closed);
        }
        rest.extend_from_slice(&chunk[..n]);
    }
    let leftover = rest.split_off(length);
    let authority = get("host").unwrap_or("").to_string();
    let mut request = vec![
        Header::new(":method", method.to_string()),
        Header::new(":scheme", "http"),
        Header::new(":authority", authority),
        Header::new(":path", target.to_string()),
    ];
    for (name, value) in &fields {
        let hop = matches!(
            name.as_str(),
            "host"
                | "connection"
                | "upgrade"
                | "http2-settings"
                | "keep-alive"
                | "proxy-connection"
                | "transfer-encoding"
        );
        if hop || (name == "te" && value != "trailers") {
            continue;
        }
        request.push(Header::new(name.clone(), value.clone()));
    }
    Ok(Sniffed::Upgrade {
        settings,
        request,
        body: Bytes::from(rest),
        leftover,
    })
}

/// Reads until `buf` holds at least the 24 bytes of the client preface (not checked here: the
/// connection checks it), returning everything read.
pub(crate) async fn read_preface<IO: AsyncRead + Unpin>(
    io: &mut IO,
    mut buf: Vec<u8>,
) -> std::io::Result<Vec<u8>> {
    while buf.len() < PREFACE.len() {
        buf.reserve(1024);
        let n = io.read_buf(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    Ok(buf)
}

/// Client side of `Upgrade: h2c` (RFC 7540 §3.2): sends an `OPTIONS *` request asking to
/// switch, and reads the answer head. Returns the bytes read past the `101` head (the server's
/// first HTTP/2 frames), or an error naming the status when the server declined.
///
/// `OPTIONS *` keeps the upgraded stream 1 trivial: its response is discarded and real requests
/// start on stream 3.
pub(crate) async fn client_upgrade<IO: AsyncRead + AsyncWrite + Unpin>(
    io: &mut IO,
    authority: &str,
    settings: &[u8],
) -> std::io::Result<Vec<u8>> {
    let req = format!(
        "OPTIONS * HTTP/1.1\r\nHost: {authority}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: {}\r\n\r\n",
        base64url_encode(settings)
    );
    io.write_all(req.as_bytes()).await?;
    io.flush().await?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 16 << 10 {
            return Err(std::io::Error::other(
                "h2c upgrade: response head too large",
            ));
        }
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::other(
                "h2c upgrade: connection closed before an answer",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let status_line = buf[..end].split(|&b| b == b'\r').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line).into_owned();
    if !status_line.starts_with("HTTP/1.1 101") {
        return Err(std::io::Error::other(format!(
            "h2c upgrade declined by the server: {status_line}"
        )));
    }
    Ok(buf[end..].to_vec())
}

/// The 101 answer to an accepted upgrade (RFC 7540 §3.2).
pub(crate) async fn switching_protocols<IO: AsyncWrite + Unpin>(
    io: &mut IO,
) -> std::io::Result<()> {
    io.write_all(
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
    )
    .await?;
    io.flush().await
}

/// Answers an HTTP/1.1 request this server will not serve: `505`, one explanatory line, close.
pub(crate) async fn reject_http1<IO: AsyncWrite + Unpin>(
    io: &mut IO,
    reason: &str,
) -> std::io::Result<()> {
    let body = format!(
        "This server speaks HTTP/2 only ({reason}); use prior knowledge (curl --http2-prior-knowledge) or Upgrade: h2c.\n"
    );
    let head = format!(
        "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    io.write_all(head.as_bytes()).await?;
    io.write_all(body.as_bytes()).await?;
    io.flush().await?;
    io.shutdown().await
}

/// Decodes base64url (RFC 4648 §5), padding optional.
pub(crate) fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Encodes base64url without padding (for a client's HTTP2-Settings).
pub fn base64url_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trip() {
        for data in [
            &b""[..],
            b"a",
            b"ab",
            b"abc",
            b"\x00\x03\x00\x00\x00\x64\xff",
        ] {
            assert_eq!(base64url_decode(&base64url_encode(data)).unwrap(), data);
        }
        assert_eq!(base64url_encode(b"\x00\x03\x00\x00\x00\x64"), "AAMAAABk");
    }
}
