//! HTTP message rules of RFC 9113 §8: which header lists are well-formed requests, responses
//! and trailers.
//!
//! §8.1.1: "A request or response that includes a field that is malformed ... is malformed" and
//! "Malformed requests or responses that are detected MUST be treated as a stream error of type
//! PROTOCOL_ERROR." The same functions check what *we* send, so the send side never emits what
//! the receive side would reject.

use crate::hpack::Header;

/// What the connection needs to remember about a validated message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageInfo {
    /// The `content-length` value, when present (§8.1.1 ties it to the DATA payload).
    pub content_length: Option<u64>,
    /// `:method` is HEAD: the response carries no content whatever its content-length says.
    pub is_head: bool,
    /// `:method` is CONNECT (§8.5), plain or extended (RFC 8441).
    pub is_connect: bool,
    /// The response `:status`, for responses.
    pub status: u16,
    /// The value of the RFC 9218 `priority` header field, when present.
    pub priority: Option<bytes::Bytes>,
}

/// A malformed message: the static text names the rule (it goes into logs, never peer data).
pub type Malformed = &'static str;

/// Field names may hold only these octets (§8.2.1): no controls, SP, uppercase, DEL or non-ASCII,
/// and (outside the leading colon of a pseudo-header) no colon.
const fn name_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0x21;
    while i < 0x7f {
        t[i] = !(i >= 0x41 && i <= 0x5a) && i != b':' as usize;
        i += 1;
    }
    t
}
static NAME_OK: [bool; 256] = name_table();

/// §8.2.1 field-name and field-value validity.
pub fn check_field(name: &[u8], value: &[u8]) -> Result<(), Malformed> {
    if name.is_empty() {
        return Err("empty field name (RFC 9113 §8.2.1)");
    }
    let body = if name[0] == b':' { &name[1..] } else { name };
    if !body.iter().all(|&b| NAME_OK[b as usize]) {
        return Err("invalid character in field name (RFC 9113 §8.2.1)");
    }
    if value.iter().any(|&b| b == 0 || b == b'\n' || b == b'\r') {
        return Err("NUL, CR or LF in field value (RFC 9113 §8.2.1)");
    }
    if let (Some(&f), Some(&l)) = (value.first(), value.last()) {
        if f == b' ' || f == b'\t' || l == b' ' || l == b'\t' {
            return Err("field value starts or ends with whitespace (RFC 9113 §8.2.1)");
        }
    }
    Ok(())
}

/// Checks a regular (non-pseudo) field shared by every message kind and folds what we track.
fn check_regular(h: &Header, info: &mut MessageInfo) -> Result<(), Malformed> {
    let name: &[u8] = &h.name;
    match name {
        // §8.2.2: connection-specific header fields.
        b"connection" | b"proxy-connection" | b"keep-alive" | b"transfer-encoding" | b"upgrade" => {
            Err("connection-specific header field (RFC 9113 §8.2.2)")
        }
        b"te" if h.value.as_ref() != b"trailers" => {
            Err("TE other than \"trailers\" (RFC 9113 §8.2.2)")
        }
        b"content-length" => {
            let v = parse_content_length(&h.value)?;
            match info.content_length {
                Some(prev) if prev != v => Err("conflicting content-length (RFC 9110 §8.6)"),
                _ => {
                    info.content_length = Some(v);
                    Ok(())
                }
            }
        }
        b"priority" => {
            info.priority = Some(h.value.clone());
            Ok(())
        }
        _ => Ok(()),
    }
}

/// RFC 9110 §8.6: `Content-Length = 1*DIGIT`; a list of identical values is tolerated.
fn parse_content_length(v: &[u8]) -> Result<u64, Malformed> {
    let mut result: Option<u64> = None;
    for part in v.split(|&b| b == b',') {
        let part = trim(part);
        if part.is_empty() || part.len() > 19 || !part.iter().all(u8::is_ascii_digit) {
            return Err("invalid content-length (RFC 9110 §8.6)");
        }
        let n = part.iter().fold(0u64, |a, &d| a * 10 + (d - b'0') as u64);
        if result.is_some_and(|r| r != n) {
            return Err("conflicting content-length (RFC 9110 §8.6)");
        }
        result = Some(n);
    }
    result.ok_or("invalid content-length (RFC 9110 §8.6)")
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |e| e + 1);
    &s[start..end]
}

/// Validates a request header list (§8.3.1, §8.5, RFC 8441 §4).
///
/// `extended_connect` is whether we advertised SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441
/// §3: without it a `:protocol` pseudo-header is malformed).
pub fn validate_request(
    headers: &[Header],
    extended_connect: bool,
) -> Result<MessageInfo, Malformed> {
    let mut info = MessageInfo::default();
    let (mut method, mut scheme, mut path, mut authority, mut protocol) =
        (None, None, None, None, None);
    let mut host: Option<&[u8]> = None;
    let mut regular_seen = false;
    for h in headers {
        check_field(&h.name, &h.value)?;
        if h.name.first() == Some(&b':') {
            // §8.3: "All pseudo-header fields MUST appear in a field block before all regular
            // field lines"; duplicates and undefined pseudo-headers are malformed.
            if regular_seen {
                return Err("pseudo-header after a regular field (RFC 9113 §8.3)");
            }
            let slot = match h.name.as_ref() {
                b":method" => &mut method,
                b":scheme" => &mut scheme,
                b":path" => &mut path,
                b":authority" => &mut authority,
                b":protocol" => &mut protocol,
                b":status" => return Err(":status in a request (RFC 9113 §8.3)"),
                _ => return Err("unknown pseudo-header (RFC 9113 §8.3)"),
            };
            if slot.is_some() {
                return Err("duplicate pseudo-header (RFC 9113 §8.3)");
            }
            *slot = Some(h.value.as_ref());
        } else {
            regular_seen = true;
            if h.name.as_ref() == b"host" {
                host = Some(h.value.as_ref());
            }
            check_regular(h, &mut info)?;
        }
    }
    let method = method.ok_or("missing :method (RFC 9113 §8.3.1)")?;
    if method.is_empty() {
        return Err("empty :method (RFC 9113 §8.3.1)");
    }
    info.is_head = method == b"HEAD";
    info.is_connect = method == b"CONNECT";
    if let Some(proto) = protocol {
        // RFC 8441 §4: ":protocol" only on CONNECT, only once enabled, with :scheme and :path.
        if !extended_connect {
            return Err(":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)");
        }
        if !info.is_connect || proto.is_empty() {
            return Err(":protocol on a non-CONNECT request (RFC 8441 §4)");
        }
        if scheme.is_none() || path.is_none() || authority.is_none() {
            return Err("extended CONNECT without :scheme, :path or :authority (RFC 8441 §4)");
        }
    } else if info.is_connect {
        // §8.5: "The :scheme and :path pseudo-header fields MUST be omitted", ":authority ...
        // MUST" be present.
        if scheme.is_some() || path.is_some() {
            return Err("CONNECT with :scheme or :path (RFC 9113 §8.5)");
        }
        if authority.is_none_or(|a| a.is_empty()) {
            return Err("CONNECT without :authority (RFC 9113 §8.5)");
        }
    } else {
        // §8.3.1: "All HTTP/2 requests MUST include exactly one valid value for the :method,
        // :scheme, and :path pseudo-header fields, unless they are CONNECT requests".
        let scheme = scheme.ok_or("missing :scheme (RFC 9113 §8.3.1)")?;
        let path = path.ok_or("missing :path (RFC 9113 §8.3.1)")?;
        if scheme.is_empty() {
            return Err("empty :scheme (RFC 9113 §8.3.1)");
        }
        if path.is_empty() {
            return Err("empty :path (RFC 9113 §8.3.1)");
        }
    }
    // §8.3.1: a Host that differs from :authority SHOULD be treated as malformed.
    if let (Some(a), Some(h)) = (authority, host) {
        if a != h {
            return Err("host differs from :authority (RFC 9113 §8.3.1)");
        }
    }
    Ok(info)
}

/// Validates a response header list (§8.3.2). 1xx responses are valid here too; the caller
/// decides what an informational response means. 101 is not allowed (§8.6).
pub fn validate_response(headers: &[Header]) -> Result<MessageInfo, Malformed> {
    let mut info = MessageInfo::default();
    let mut status: Option<&[u8]> = None;
    let mut regular_seen = false;
    for h in headers {
        check_field(&h.name, &h.value)?;
        if h.name.first() == Some(&b':') {
            if regular_seen {
                return Err("pseudo-header after a regular field (RFC 9113 §8.3)");
            }
            if h.name.as_ref() != b":status" {
                return Err("request or unknown pseudo-header in a response (RFC 9113 §8.3)");
            }
            if status.is_some() {
                return Err("duplicate :status (RFC 9113 §8.3.2)");
            }
            status = Some(h.value.as_ref());
        } else {
            regular_seen = true;
            check_regular(h, &mut info)?;
        }
    }
    let s = status.ok_or("missing :status (RFC 9113 §8.3.2)")?;
    if s.len() != 3 || !s.iter().all(u8::is_ascii_digit) || s[0] == b'0' {
        return Err("invalid :status (RFC 9110 §15)");
    }
    info.status = s.iter().fold(0u16, |a, &d| a * 10 + (d - b'0') as u16);
    if info.status == 101 {
        return Err("101 Switching Protocols in HTTP/2 (RFC 9113 §8.6)");
    }
    Ok(info)
}

/// Validates trailers (§8.1: "Trailers MUST NOT include pseudo-header fields").
pub fn validate_trailers(headers: &[Header]) -> Result<(), Malformed> {
    let mut info = MessageInfo::default();
    for h in headers {
        check_field(&h.name, &h.value)?;
        if h.name.first() == Some(&b':') {
            return Err("pseudo-header in trailers (RFC 9113 §8.1)");
        }
        check_regular(h, &mut info)?;
    }
    Ok(())
}

/// Validates the request carried by a PUSH_PROMISE (§8.4: "Promised requests MUST be safe ...
/// and cacheable", and MUST NOT include a request body, so GET or HEAD).
pub fn validate_push_request(headers: &[Header]) -> Result<MessageInfo, Malformed> {
    let info = validate_request(headers, false)?;
    let method = headers
        .iter()
        .find(|h| h.name.as_ref() == b":method")
        .map(|h| h.value.as_ref());
    if !matches!(method, Some(b"GET") | Some(b"HEAD")) {
        return Err("promised request is not safe and cacheable (RFC 9113 §8.4)");
    }
    if info.content_length.is_some_and(|n| n > 0) {
        return Err("promised request with content (RFC 9113 §8.4)");
    }
    if !headers.iter().any(|h| h.name.as_ref() == b":authority") {
        return Err("promised request without :authority (RFC 9113 §8.4.1)");
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hs(list: &[(&str, &str)]) -> Vec<Header> {
        list.iter()
            .map(|(n, v)| Header::new(n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    fn get() -> Vec<(&'static str, &'static str)> {
        vec![
            (":method", "GET"),
            (":scheme", "https"),
            (":path", "/"),
            (":authority", "example.com"),
        ]
    }

    #[test]
    fn s8_3_1_valid_request() {
        let info = validate_request(&hs(&get()), false).unwrap();
        assert!(!info.is_head && !info.is_connect);
    }

    #[test]
    fn s8_3_1_missing_pseudo_headers() {
        for drop in [":method", ":scheme", ":path"] {
            let l: Vec<_> = get().into_iter().filter(|(n, _)| *n != drop).collect();
            assert!(validate_request(&hs(&l), false).is_err(), "{drop}");
        }
    }

    #[test]
    fn s8_3_1_empty_path() {
        let mut l = get();
        l[2].1 = "";
        assert!(validate_request(&hs(&l), false).is_err());
    }

    #[test]
    fn s8_3_pseudo_after_regular_duplicate_unknown() {
        let mut l = get();
        l.insert(1, ("accept", "*/*"));
        assert!(validate_request(&hs(&l), false).is_err());
        let mut l = get();
        l.push((":path", "/again"));
        assert!(validate_request(&hs(&l), false).is_err());
        let mut l = get();
        l.insert(0, (":foo", "x"));
        assert!(validate_request(&hs(&l), false).is_err());
        let mut l = get();
        l.insert(0, (":status", "200"));
        assert!(validate_request(&hs(&l), false).is_err());
    }

    #[test]
    fn s8_2_1_field_syntax() {
        assert!(check_field(b"Accept", b"x").is_err());
        assert!(check_field(b"", b"x").is_err());
        assert!(check_field(b"a b", b"x").is_err());
        assert!(check_field(b"a:b", b"x").is_err());
        assert!(check_field(b"a", b"x\r\ny").is_err());
        assert!(check_field(b"a", b"x\0").is_err());
        assert!(check_field(b"a", b" x").is_err());
        assert!(check_field(b"a", b"x\t").is_err());
        assert!(check_field(b"a", b"").is_ok());
        assert!(check_field(b"x-ok_1.~", b"v a l").is_ok());
    }

    #[test]
    fn s8_2_2_connection_specific_fields() {
        for (n, v) in [
            ("connection", "close"),
            ("keep-alive", "1"),
            ("proxy-connection", "x"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("te", "gzip"),
        ] {
            let mut l = get();
            l.push((n, v));
            assert!(validate_request(&hs(&l), false).is_err(), "{n}");
        }
        let mut l = get();
        l.push(("te", "trailers"));
        assert!(validate_request(&hs(&l), false).is_ok());
    }

    #[test]
    fn s8_5_connect() {
        let ok = hs(&[(":method", "CONNECT"), (":authority", "example.com:443")]);
        assert!(validate_request(&ok, false).unwrap().is_connect);
        let bad = hs(&[
            (":method", "CONNECT"),
            (":authority", "a:1"),
            (":path", "/"),
        ]);
        assert!(validate_request(&bad, false).is_err());
        let bad = hs(&[(":method", "CONNECT")]);
        assert!(validate_request(&bad, false).is_err());
    }

    #[test]
    fn rfc8441_s4_extended_connect() {
        let l = hs(&[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "https"),
            (":path", "/chat"),
            (":authority", "example.com"),
        ]);
        assert!(validate_request(&l, true).is_ok());
        assert!(validate_request(&l, false).is_err());
        let mut g = get();
        g.push((":protocol", "websocket"));
        assert!(validate_request(&hs(&g), true).is_err());
    }

    #[test]
    fn s8_3_1_host_must_match_authority() {
        let mut l = get();
        l.push(("host", "other.example"));
        assert!(validate_request(&hs(&l), false).is_err());
    }

    #[test]
    fn content_length_parsing() {
        let mut l = get();
        l.push(("content-length", "12"));
        assert_eq!(
            validate_request(&hs(&l), false).unwrap().content_length,
            Some(12)
        );
        let mut l = get();
        l.push(("content-length", "1x"));
        assert!(validate_request(&hs(&l), false).is_err());
        let mut l = get();
        l.push(("content-length", "5"));
        l.push(("content-length", "6"));
        assert!(validate_request(&hs(&l), false).is_err());
        assert_eq!(parse_content_length(b"7, 7"), Ok(7));
    }

    #[test]
    fn s8_3_2_responses() {
        assert_eq!(
            validate_response(&hs(&[(":status", "204")]))
                .unwrap()
                .status,
            204
        );
        assert_eq!(
            validate_response(&hs(&[(":status", "103")]))
                .unwrap()
                .status,
            103
        );
        assert!(validate_response(&hs(&[(":status", "101")])).is_err());
        assert!(validate_response(&hs(&[(":status", "20")])).is_err());
        assert!(validate_response(&hs(&[])).is_err());
        assert!(validate_response(&hs(&[(":status", "200"), (":path", "/")])).is_err());
    }

    #[test]
    fn s8_1_trailers() {
        assert!(validate_trailers(&hs(&[("grpc-status", "0")])).is_ok());
        assert!(validate_trailers(&hs(&[(":status", "200")])).is_err());
    }

    #[test]
    fn s8_4_promised_requests_are_safe() {
        assert!(validate_push_request(&hs(&get())).is_ok());
        let mut l = get();
        l[0].1 = "POST";
        assert!(validate_push_request(&hs(&l)).is_err());
    }
}
