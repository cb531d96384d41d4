//! `h2proto load`: an HTTP/2 load generator in the spirit of nghttp2's `h2load`.
//!
//! Built directly on the sans-IO core (no channels, no handler tasks): one tokio task per
//! connection owns a client [`Connection`] and its socket, keeps up to `-m` streams in flight,
//! and writes everything `poll_transmit` produced in one batch. Requests are spread evenly over
//! the `-c` connections; connections are spread over `-t` runtime threads.
//!
//! Output follows h2load's layout (`finished in …, … req/s, …B/s`, request counts, status
//! classes, traffic, latency). A request *succeeds* when it ends normally with a 2xx or 3xx
//! status; the exit status is non-zero when any request did not.

use bytes::Bytes;
use h2proto::{Config, Connection, Event, Header, Role, StreamId};
use h2proto_tokio::tls;
use std::collections::HashMap;
use std::future::poll_fn;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The flags of `h2proto load`.
#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// URL to request (`https://` over TLS with ALPN h2, `http://` as h2c prior knowledge).
    pub url: String,
    /// Total number of requests.
    #[arg(short = 'n', long = "requests", default_value_t = 1)]
    pub requests: u64,
    /// Number of concurrent connections.
    #[arg(short = 'c', long = "clients", default_value_t = 1)]
    pub clients: usize,
    /// Maximum streams in flight per connection.
    #[arg(short = 'm', long = "max-concurrent-streams", default_value_t = 1)]
    pub max_streams: usize,
    /// Runtime threads the connections are spread over.
    #[arg(short = 't', long = "threads", default_value_t = 1)]
    pub threads: usize,
    /// Cleartext HTTP/2 with prior knowledge (implied by an `http://` URL).
    #[arg(long)]
    pub h2c: bool,
    /// POST the contents of this file with every request.
    #[arg(short = 'd', long = "data")]
    pub data: Option<PathBuf>,
    /// Accept any TLS certificate (self-signed test servers).
    #[arg(long, short = 'k')]
    pub insecure: bool,
}

/// What every connection task shares.
struct Target {
    host: String,
    port: u16,
    tls: Option<(Arc<h2proto_tokio::rustls::ClientConfig>, String)>,
    headers: Vec<Header>,
    body: Option<Bytes>,
    max_streams: usize,
}

/// The results of one connection (merged at the end).
#[derive(Default)]
struct Tally {
    started: u64,
    done: u64,
    succeeded: u64,
    errored: u64,
    status: [u64; 6],
    /// Bytes read from the socket (TLS records included when over TLS: what h2load counts).
    wire_bytes: u64,
    data_bytes: u64,
    header_bytes: u64,
    /// Per-request latency in nanoseconds, request sent to stream end.
    latencies: Vec<u64>,
    errors: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.started += other.started;
        self.done += other.done;
        self.succeeded += other.succeeded;
        self.errored += other.errored;
        for (a, b) in self.status.iter_mut().zip(other.status) {
            *a += b;
        }
        self.wire_bytes += other.wire_bytes;
        self.data_bytes += other.data_bytes;
        self.header_bytes += other.header_bytes;
        self.latencies.extend(other.latencies);
        self.errors.extend(other.errors);
    }
}

/// Runs the load and prints the summary. Fails (exit 1) when any request did not succeed.
pub fn run(args: LoadArgs) -> Result<(), String> {
    if args.clients == 0 || args.max_streams == 0 || args.threads == 0 {
        return Err("-c, -m and -t must be at least 1".to_string());
    }
    let uri: http::Uri = args
        .url
        .parse()
        .map_err(|e| format!("invalid URL {:?}: {e}", args.url))?;
    let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
    let cleartext = match scheme.as_str() {
        "http" => true,
        "https" => args.h2c,
        other => return Err(format!("unsupported scheme {other:?} (http or https)")),
    };
    let host = uri
        .host()
        .ok_or_else(|| format!("URL {:?} has no host", args.url))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri
        .port_u16()
        .unwrap_or(if scheme == "http" { 80 } else { 443 });
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .unwrap_or_default();
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let body = match &args.data {
        Some(file) => {
            Some(Bytes::from(std::fs::read(file).map_err(|e| {
                format!("cannot read {}: {e}", file.display())
            })?))
        }
        None => None,
    };
    let method: &'static str = if body.is_some() { "POST" } else { "GET" };
    let mut headers = vec![
        Header::new(":method", method),
        Header::new(":scheme", if cleartext { "http" } else { "https" }),
        Header::new(":authority", authority),
        Header::new(":path", path),
        Header::new("user-agent", "h2proto-load"),
    ];
    if let Some(b) = &body {
        headers.push(Header::new("content-length", b.len().to_string()));
    }
    let tls = if cleartext {
        None
    } else {
        let trust = if args.insecure {
            tls::Trust::DangerAcceptAny
        } else {
            tls::Trust::WebPki
        };
        Some((tls::client_config(&trust)?, host.clone()))
    };
    let target = Arc::new(Target {
        host,
        port,
        tls,
        headers,
        body,
        max_streams: args.max_streams,
    });

    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()
    }
    .map_err(|e| format!("cannot start the runtime: {e}"))?;

    let clients = args.clients as u64;
    let (total, elapsed) = runtime.block_on(async move {
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..clients {
            let quota = args.requests / clients + u64::from(i < args.requests % clients);
            if quota == 0 {
                continue;
            }
            let target = target.clone();
            tasks.spawn(async move { connection(target, quota).await });
        }
        let mut total = Tally::default();
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(t) => total.merge(t),
                Err(e) => total.errors.push(format!("connection task failed: {e}")),
            }
        }
        (total, start.elapsed())
    });
    report(&total, args.requests, elapsed);
    let failed = args.requests - total.succeeded;
    if failed > 0 {
        return Err(format!("{failed} of {} requests failed", args.requests));
    }
    Ok(())
}

/// Prints the summary in h2load's layout.
fn report(t: &Tally, requests: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    println!(
        "finished in {:.2}s, {:.2} req/s, {}/s",
        secs,
        t.done as f64 / secs,
        human_bytes(t.wire_bytes as f64 / secs)
    );
    println!(
        "requests: {} total, {} started, {} done, {} succeeded, {} failed, {} errored",
        requests,
        t.started,
        t.done,
        t.succeeded,
        requests - t.succeeded,
        t.errored
    );
    println!(
        "status codes: {} 2xx, {} 3xx, {} 4xx, {} 5xx{}",
        t.status[2],
        t.status[3],
        t.status[4],
        t.status[5],
        if t.status[0] + t.status[1] > 0 {
            format!(", {} other", t.status[0] + t.status[1])
        } else {
            String::new()
        }
    );
    println!(
        "traffic: {} ({}) total, {} ({}) headers (decoded), {} ({}) data",
        human_bytes(t.wire_bytes as f64),
        t.wire_bytes,
        human_bytes(t.header_bytes as f64),
        t.header_bytes,
        human_bytes(t.data_bytes as f64),
        t.data_bytes
    );
    let mut lat = t.latencies.clone();
    lat.sort_unstable();
    if !lat.is_empty() {
        let pct = |p: f64| lat[((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1];
        let mean = lat.iter().map(|&x| x as f64).sum::<f64>() / lat.len() as f64;
        println!(
            "latency: min {}, mean {}, p50 {}, p99 {}, max {}",
            human_time(lat[0] as f64),
            human_time(mean),
            human_time(pct(0.50) as f64),
            human_time(pct(0.99) as f64),
            human_time(lat[lat.len() - 1] as f64)
        );
    }
    let mut seen = std::collections::HashSet::new();
    for e in &t.errors {
        if seen.insert(e) {
            eprintln!("error: {e}");
        }
    }
}

fn human_bytes(n: f64) -> String {
    if n >= (1u64 << 30) as f64 {
        format!("{:.2}GB", n / (1u64 << 30) as f64)
    } else if n >= (1u64 << 20) as f64 {
        format!("{:.2}MB", n / (1u64 << 20) as f64)
    } else if n >= 1024.0 {
        format!("{:.2}KB", n / 1024.0)
    } else {
        format!("{n:.0}B")
    }
}

fn human_time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2}s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2}ms", ns / 1e6)
    } else {
        format!("{:.0}us", ns / 1e3)
    }
}

/// One connection: connect, run `quota` requests, close.
async fn connection(target: Arc<Target>, quota: u64) -> Tally {
    let mut tally = Tally::default();
    let tcp = match TcpStream::connect((target.host.as_str(), target.port)).await {
        Ok(s) => s,
        Err(e) => {
            tally.errors.push(format!("connect: {e}"));
            return tally;
        }
    };
    let _ = tcp.set_nodelay(true);
    match &target.tls {
        None => drive(tcp, &target, quota, &mut tally).await,
        Some((config, name)) => {
            let server_name =
                match h2proto_tokio::rustls::pki_types::ServerName::try_from(name.clone()) {
                    Ok(n) => n,
                    Err(e) => {
                        tally.errors.push(format!("invalid server name: {e}"));
                        return tally;
                    }
                };
            let connector = tokio_rustls::TlsConnector::from(config.clone());
            match connector.connect(server_name, tcp).await {
                Ok(stream) => {
                    if let Err(e) = tls::check_alpn(stream.get_ref().1.alpn_protocol()) {
                        tally.errors.push(e);
                        return tally;
                    }
                    drive(stream, &target, quota, &mut tally).await
                }
                Err(e) => tally.errors.push(format!("TLS handshake: {e}")),
            }
        }
    }
    tally
}

/// A stream in flight.
struct InFlight {
    sent_at: Instant,
    status: u16,
    /// Request body still to queue (the part beyond the send buffer).
    body: Option<Bytes>,
}

/// Wake-up reasons of the connection loop.
enum Io {
    Read(usize),
    Wrote,
    Failed(std::io::Error),
}

async fn drive<S>(mut io: S, target: &Target, quota: u64, t: &mut Tally)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let config = Config {
        enable_push: false,
        initial_window_size: (1 << 31) - 1,
        connection_window_size: (1 << 31) - 1,
        // One batch can hold all the requests we keep in flight.
        ..Config::default()
    };
    let mut conn = Connection::new(Role::Client, config, Instant::now());
    let mut flights: HashMap<StreamId, InFlight> = HashMap::with_capacity(target.max_streams * 2);
    let mut out: Vec<u8> = Vec::with_capacity(64 << 10);
    let mut out_pos = 0usize;
    let mut inbuf = vec![0u8; 64 << 10].into_boxed_slice();
    let mut remaining = quota;
    t.latencies.reserve(quota as usize);
    let mut last_error: Option<String> = None;

    loop {
        let now = Instant::now();
        // Open streams up to -m (and the server's limit).
        while remaining > 0 && flights.len() < target.max_streams && conn.can_open_stream() {
            let end_stream = target.body.is_none();
            match conn.send_request(target.headers.clone(), end_stream) {
                Ok(id) => {
                    remaining -= 1;
                    t.started += 1;
                    let mut f = InFlight {
                        sent_at: now,
                        status: 0,
                        body: None,
                    };
                    if let Some(body) = &target.body {
                        f.body = queue_body(&mut conn, id, body.clone());
                    }
                    flights.insert(id, f);
                }
                Err(e) => {
                    last_error = Some(format!("cannot send request: {e:?}"));
                    break;
                }
            }
        }
        // Everything queued goes out in one buffer.
        while conn.poll_transmit(now, &mut out) {}
        while let Some(ev) = conn.poll_event() {
            event(&mut conn, ev, now, &mut flights, t, &mut last_error);
        }
        if flights.is_empty() && (remaining == 0 || !conn.can_open_stream()) && out_pos == out.len()
        {
            break;
        }
        let wake = poll_fn(|cx| {
            let mut wrote = false;
            while out_pos < out.len() {
                match Pin::new(&mut io).poll_write(cx, &out[out_pos..]) {
                    Poll::Ready(Ok(0)) => {
                        return Poll::Ready(Io::Failed(std::io::ErrorKind::WriteZero.into()))
                    }
                    Poll::Ready(Ok(n)) => {
                        out_pos += n;
                        wrote = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Io::Failed(e)),
                    Poll::Pending => break,
                }
            }
            if out_pos == out.len() {
                out.clear();
                out_pos = 0;
                if let Poll::Ready(Err(e)) = Pin::new(&mut io).poll_flush(cx) {
                    return Poll::Ready(Io::Failed(e));
                }
            }
            let mut buf = ReadBuf::new(&mut inbuf);
            match Pin::new(&mut io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => return Poll::Ready(Io::Read(buf.filled().len())),
                Poll::Ready(Err(e)) => return Poll::Ready(Io::Failed(e)),
                Poll::Pending => {}
            }
            if wrote {
                Poll::Ready(Io::Wrote)
            } else {
                Poll::Pending
            }
        })
        .await;
        match wake {
            Io::Wrote => continue,
            Io::Failed(e) => {
                last_error = Some(format!("I/O: {e}"));
                break;
            }
            Io::Read(0) => {
                last_error.get_or_insert_with(|| "connection closed by the server".to_string());
                break;
            }
            Io::Read(n) => {
                t.wire_bytes += n as u64;
                let now = Instant::now();
                if let Err(e) = conn.handle_input(&inbuf[..n], now) {
                    last_error = Some(e.to_string());
                }
                while let Some(ev) = conn.poll_event() {
                    event(&mut conn, ev, now, &mut flights, t, &mut last_error);
                }
                if last_error.is_some() && conn.error().is_some() {
                    // Send the GOAWAY, then give up on the rest.
                    while conn.poll_transmit(now, &mut out) {}
                    let _ = tokio::io::AsyncWriteExt::write_all(&mut io, &out[out_pos..]).await;
                    break;
                }
            }
        }
    }
    // Whatever is still in flight or never started failed.
    let lost = flights.len() as u64;
    t.errored += lost;
    if lost + remaining > 0 {
        t.errors.push(
            last_error.unwrap_or_else(|| "connection ended with requests unfinished".to_string()),
        );
    }
    // Close politely: GOAWAY, then shut the write side.
    conn.goaway(h2proto::ErrorCode::NO_ERROR, Bytes::new());
    out.clear();
    while conn.poll_transmit(Instant::now(), &mut out) {}
    let _ = tokio::io::AsyncWriteExt::write_all(&mut io, &out).await;
    let _ = tokio::io::AsyncWriteExt::shutdown(&mut io).await;
}

/// Queues as much of a request body as the send buffer takes; returns the rest.
fn queue_body(conn: &mut Connection, id: StreamId, mut body: Bytes) -> Option<Bytes> {
    loop {
        let cap = conn.send_capacity(id);
        if body.len() <= cap {
            return match conn.send_data(id, body, true) {
                Ok(()) => None,
                Err(_) => Some(Bytes::new()),
            };
        }
        if cap == 0 {
            return Some(body);
        }
        let part = body.split_to(cap);
        if conn.send_data(id, part, false).is_err() {
            return Some(body);
        }
    }
}

fn event(
    conn: &mut Connection,
    ev: Event,
    now: Instant,
    flights: &mut HashMap<StreamId, InFlight>,
    t: &mut Tally,
    last_error: &mut Option<String>,
) {
    match ev {
        Event::ResponseReceived {
            stream_id, headers, ..
        } => {
            if let Some(f) = flights.get_mut(&stream_id) {
                for h in &headers {
                    t.header_bytes += (h.name.len() + h.value.len()) as u64;
                    if h.name.as_ref() == b":status" {
                        f.status = std::str::from_utf8(&h.value)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0);
                    }
                }
            }
        }
        Event::DataReceived {
            stream_id,
            data,
            flow_len,
            ..
        } => {
            t.data_bytes += data.len() as u64;
            conn.release_capacity(stream_id, flow_len as usize);
        }
        Event::StreamWritable { stream_id } => {
            if let Some(f) = flights.get_mut(&stream_id) {
                if let Some(body) = f.body.take() {
                    f.body = queue_body(conn, stream_id, body);
                }
            }
        }
        Event::StreamClosed { stream_id } => {
            if let Some(f) = flights.remove(&stream_id) {
                t.done += 1;
                t.latencies
                    .push(now.saturating_duration_since(f.sent_at).as_nanos() as u64);
                let class = (f.status / 100) as usize;
                t.status[class.min(5)] += 1;
                if (200..400).contains(&f.status) {
                    t.succeeded += 1;
                }
            }
        }
        Event::StreamReset {
            stream_id, code, ..
        } if flights.remove(&stream_id).is_some() => {
            t.errored += 1;
            if t.errors.len() < 100 {
                t.errors.push(format!("stream reset: {code}"));
            }
        }
        Event::GoAwayReceived { code, .. } if code != h2proto::ErrorCode::NO_ERROR => {
            *last_error = Some(format!("GOAWAY {code}"));
        }
        _ => {}
    }
}
