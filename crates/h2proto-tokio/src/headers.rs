//! Conversions between `http` types and HTTP/2 header lists (RFC 9113 §8.2, §8.3).

use crate::Error;
use bytes::Bytes;
use h2proto::Header;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Method, Request, Response, StatusCode, Uri};

/// RFC 9113 §8.2.2: "An endpoint MUST NOT generate an HTTP/2 message containing
/// connection-specific header fields"; these are dropped when converting from HTTP/1-style maps.
fn is_connection_specific(name: &HeaderName, value: &HeaderValue) -> bool {
    match name.as_str() {
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade" => true,
        // §8.2.2: TE may be present but MUST NOT contain any value other than "trailers".
        "te" => value.as_bytes() != b"trailers",
        _ => false,
    }
}

fn push_map(map: &HeaderMap, out: &mut Vec<Header>) {
    for (name, value) in map {
        if is_connection_specific(name, value) || name == http::header::HOST {
            continue;
        }
        let mut h = Header::new(name_bytes(name), value_bytes(value));
        h.sensitive = value.is_sensitive();
        out.push(h);
    }
}

/// A field value as `Bytes`: common `content-type` values from static memory (no allocation per
/// response); others are copied (`HeaderValue` does not hand out its own `Bytes`).
fn value_bytes(value: &HeaderValue) -> Bytes {
    const COMMON: &[&str] = &[
        "text/html",
        "text/html; charset=utf-8",
        "text/plain",
        "text/plain; charset=utf-8",
        "text/css",
        "text/css; charset=utf-8",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/octet-stream",
        "image/png",
        "image/jpeg",
        "image/svg+xml",
        "image/x-icon",
    ];
    let v = value.as_bytes();
    match COMMON.iter().find(|c| c.as_bytes() == v) {
        Some(c) => Bytes::from_static(c.as_bytes()),
        None => Bytes::copy_from_slice(v),
    }
}

/// A field name as `Bytes`: the common ones from static memory (no allocation per response).
fn name_bytes(name: &HeaderName) -> Bytes {
    const COMMON: &[&str] = &[
        "content-type",
        "content-length",
        "date",
        "server",
        "cache-control",
        "etag",
        "last-modified",
        "vary",
        "location",
        "content-encoding",
        "accept-ranges",
        "user-agent",
        "accept",
        "accept-encoding",
    ];
    let s = name.as_str();
    match COMMON.iter().find(|c| **c == s) {
        Some(c) => Bytes::from_static(c.as_bytes()),
        None => Bytes::copy_from_slice(s.as_bytes()),
    }
}

/// A `:status` value: the common codes from static memory.
fn status_bytes(status: StatusCode) -> Bytes {
    match status.as_u16() {
        200 => Bytes::from_static(b"200"),
        204 => Bytes::from_static(b"204"),
        206 => Bytes::from_static(b"206"),
        301 => Bytes::from_static(b"301"),
        302 => Bytes::from_static(b"302"),
        304 => Bytes::from_static(b"304"),
        400 => Bytes::from_static(b"400"),
        404 => Bytes::from_static(b"404"),
        500 => Bytes::from_static(b"500"),
        _ => Bytes::copy_from_slice(status.as_str().as_bytes()),
    }
}

/// The header list of a request: pseudo-header fields first (§8.3.1), then the regular fields.
///
/// `:authority` comes from the URI, else from a `Host` field; the `Host` field itself is not sent
/// (§8.3.1: clients "MUST use the :authority pseudo-header field instead of the Host header").
pub fn request_headers(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    default_scheme: &Scheme,
    default_authority: Option<&Authority>,
) -> Vec<Header> {
    let mut out = Vec::with_capacity(headers.len() + 4);
    out.push(Header::new(
        ":method",
        Bytes::copy_from_slice(method.as_str().as_bytes()),
    ));
    let scheme = uri.scheme().unwrap_or(default_scheme);
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        })
        .or_else(|| default_authority.map(|a| a.as_str().to_string()));
    if method == Method::CONNECT {
        // §8.5: a CONNECT request has only :method and :authority.
        if let Some(a) = authority {
            out.push(Header::new(":authority", a));
        }
    } else {
        out.push(Header::new(
            ":scheme",
            Bytes::copy_from_slice(scheme.as_str().as_bytes()),
        ));
        if let Some(a) = authority {
            out.push(Header::new(":authority", a));
        }
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let path = if path.is_empty() { "/" } else { path };
        out.push(Header::new(":path", path.to_string()));
    }
    push_map(headers, &mut out);
    out
}

/// The header list of a response: `:status` then the regular fields (§8.3.2).
pub fn response_headers(status: StatusCode, headers: &HeaderMap) -> Vec<Header> {
    let mut out = Vec::with_capacity(headers.len() + 1);
    out.push(Header::new(":status", status_bytes(status)));
    push_map(headers, &mut out);
    out
}

/// A trailer section: regular fields only (§8.1).
pub fn trailer_headers(map: &HeaderMap) -> Vec<Header> {
    let mut out = Vec::with_capacity(map.len());
    push_map(map, &mut out);
    out
}

/// Regular fields into a map; a pseudo-header field here is malformed (§8.3).
pub fn header_map(headers: Vec<Header>) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for h in headers {
        if h.name.first() == Some(&b':') {
            return Err(Error::Malformed("pseudo-header field among regular fields"));
        }
        let name = HeaderName::from_bytes(&h.name)
            .map_err(|_| Error::Malformed("invalid header field name"))?;
        let mut value = HeaderValue::from_maybe_shared(h.value)
            .map_err(|_| Error::Malformed("invalid header field value"))?;
        value.set_sensitive(h.sensitive);
        map.append(name, value);
    }
    Ok(map)
}

/// The pieces of a request header list.
pub struct RequestHead {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub protocol: Option<String>,
}

/// Splits a request header list into method, URI and fields (§8.3.1).
pub fn parse_request(headers: Vec<Header>) -> Result<RequestHead, Error> {
    let (mut method, mut scheme, mut authority, mut path, mut protocol) =
        (None, None, None, None, None);
    let mut regular = Vec::with_capacity(headers.len());
    for h in headers {
        match &h.name[..] {
            b":method" => method = Some(h.value),
            b":scheme" => scheme = Some(h.value),
            b":authority" => authority = Some(h.value),
            b":path" => path = Some(h.value),
            b":protocol" => protocol = Some(String::from_utf8_lossy(&h.value).into_owned()),
            _ => regular.push(h),
        }
    }
    let method = Method::from_bytes(&method.ok_or(Error::Malformed("missing :method"))?)
        .map_err(|_| Error::Malformed("invalid :method"))?;
    // From the parts: the authority and path are taken over from the decoded `Bytes`, not copied.
    let invalid = |_| Error::Malformed("invalid request target");
    let mut parts = http::uri::Parts::default();
    if let Some(s) = scheme {
        parts.scheme = Some(Scheme::try_from(&s[..]).map_err(invalid)?);
    }
    if let Some(a) = authority {
        parts.authority = Some(Authority::from_maybe_shared(a).map_err(invalid)?);
    }
    parts.path_and_query = Some(match path {
        Some(p) => PathAndQuery::from_maybe_shared(p).map_err(invalid)?,
        None => PathAndQuery::from_static("/"),
    });
    let uri = Uri::from_parts(parts).map_err(|_| Error::Malformed("invalid request target"))?;
    Ok(RequestHead {
        method,
        uri,
        headers: header_map(regular)?,
        protocol,
    })
}

/// Builds a response head (no body yet) from a response header list (§8.3.2).
pub fn parse_response(headers: Vec<Header>) -> Result<(StatusCode, HeaderMap), Error> {
    let mut status = None;
    let mut regular = Vec::with_capacity(headers.len());
    for h in headers {
        if &h.name[..] == b":status" {
            status = Some(h.value);
        } else {
            regular.push(h);
        }
    }
    let status = StatusCode::from_bytes(&status.ok_or(Error::Malformed("missing :status"))?)
        .map_err(|_| Error::Malformed("invalid :status"))?;
    Ok((status, header_map(regular)?))
}

/// `http::Request` with an empty body from a pushed request's header list.
pub fn pushed_request(headers: Vec<Header>) -> Result<Request<()>, Error> {
    let head = parse_request(headers)?;
    let mut req = Request::new(());
    *req.method_mut() = head.method;
    *req.uri_mut() = head.uri;
    *req.headers_mut() = head.headers;
    Ok(req)
}

/// Assembles a response from its parts.
pub fn response<B>(status: StatusCode, headers: HeaderMap, body: B) -> Response<B> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    *resp.version_mut() = http::Version::HTTP_2;
    resp
}

/// The `content-length` value, if present and valid.
pub fn content_length(map: &HeaderMap) -> Option<u64> {
    map.get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}
