//! `h2proto get`: fetch URLs over HTTP/2 (one connection per origin, requests concurrent), with
//! an `nghttp -v` style frame trace, pushed responses reported, and a progress bar for large
//! downloads to a file.

use bytes::Bytes;
use h2proto::frame::{Frame, FrameType};
use h2proto::Header;
use h2proto_tokio::{tls, Client, ClientConfig, RecvBody};
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The flags of `h2proto get`.
#[derive(clap::Args, Debug)]
pub struct GetArgs {
    /// URLs to fetch; those of one origin share a connection and run concurrently.
    #[arg(required = true)]
    pub urls: Vec<String>,
    /// Print every frame sent and received (stderr), with the time since start.
    #[arg(short, long)]
    pub verbose: bool,
    /// Write the bodies to FILE instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Extra request header, `name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Send DATA as the request body (POST); `@FILE` reads it from a file.
    #[arg(short, long)]
    pub data: Option<String>,
    /// Cleartext HTTP/2 with prior knowledge (an https:// URL is fetched as http://).
    #[arg(long)]
    pub h2c: bool,
    /// For http:// URLs: start with HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2) instead of prior
    /// knowledge.
    #[arg(long)]
    pub upgrade: bool,
    /// Accept any server certificate.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Trust the certificates of this PEM file instead of the web PKI roots.
    #[arg(long)]
    pub cacert: Option<PathBuf>,
}

/// Bodies larger than this get a progress bar when written to a file.
const PROGRESS_THRESHOLD: u64 = 1 << 20;

pub fn run(args: GetArgs) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(fetch_all(args))
}

struct Prepared {
    url: String,
    uri: Uri,
    request: Request<Full<Bytes>>,
}

fn prepare(args: &GetArgs, body: &Option<Bytes>) -> Result<Vec<Prepared>, String> {
    let mut extra = Vec::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("invalid header {h:?} (expected 'name: value')"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("invalid header name in {h:?}"))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| format!("invalid header value in {h:?}"))?;
        extra.push((name, value));
    }
    let mut out = Vec::new();
    for url in &args.urls {
        let mut uri: Uri = url.parse().map_err(|e| format!("invalid URL {url}: {e}"))?;
        if args.h2c && uri.scheme_str() == Some("https") {
            let mut parts = uri.into_parts();
            parts.scheme = Some(http::uri::Scheme::HTTP);
            uri = Uri::from_parts(parts).map_err(|e| format!("invalid URL {url}: {e}"))?;
        }
        match uri.scheme_str() {
            Some("https") | Some("http") => {}
            _ => return Err(format!("invalid URL {url}: use http:// or https://")),
        }
        if uri.host().is_none() {
            return Err(format!("invalid URL {url}: no host"));
        }
        let method = if body.is_some() {
            Method::POST
        } else {
            Method::GET
        };
        let mut request = Request::builder()
            .method(method)
            .uri(uri.clone())
            .body(Full::new(body.clone().unwrap_or_default()))
            .map_err(|e| format!("invalid request for {url}: {e}"))?;
        for (n, v) in &extra {
            request.headers_mut().append(n.clone(), v.clone());
        }
        out.push(Prepared {
            url: url.clone(),
            uri,
            request,
        });
    }
    Ok(out)
}

fn client_config(args: &GetArgs, start: Instant) -> Result<ClientConfig, String> {
    let trust = if args.insecure {
        tls::Trust::DangerAcceptAny
    } else if let Some(ca) = &args.cacert {
        tls::Trust::CaFile(ca.clone())
    } else {
        tls::Trust::WebPki
    };
    let mut config = ClientConfig {
        tls: Some(tls::client_config(&trust)?),
        upgrade: args.upgrade,
        ..ClientConfig::default()
    };
    if args.verbose {
        config.trace = Some(Arc::new(move |sent, frame, headers| {
            eprint!("{}", format_frame(start.elapsed(), sent, frame, headers));
        }));
    }
    Ok(config)
}

async fn fetch_all(args: GetArgs) -> Result<(), String> {
    let start = Instant::now();
    let body = match &args.data {
        Some(d) => Some(match d.strip_prefix('@') {
            Some(path) => Bytes::from(
                std::fs::read(path).map_err(|e| format!("cannot read data file {path}: {e}"))?,
            ),
            None => Bytes::from(d.clone()),
        }),
        None => None,
    };
    let prepared = prepare(&args, &body)?;
    let config = client_config(&args, start)?;
    let mut clients: HashMap<String, Client> = HashMap::new();
    let mut push_tasks = Vec::new();
    for p in &prepared {
        let origin = format!(
            "{}://{}",
            p.uri.scheme_str().unwrap_or("https"),
            p.uri.authority().map(|a| a.as_str()).unwrap_or("")
        );
        if clients.contains_key(&origin) {
            continue;
        }
        let client = Client::connect(&p.uri, config.clone())
            .await
            .map_err(|e| format!("{origin}: {e}"))?;
        if let Some(mut pushes) = client.pushes() {
            push_tasks.push(tokio::spawn(async move {
                let mut tasks = Vec::new();
                while let Some(push) = pushes.recv().await {
                    tasks.push(tokio::spawn(report_push(push)));
                }
                for t in tasks {
                    let _ = t.await;
                }
            }));
        }
        clients.insert(origin, client);
    }

    let mut out = Output::open(&args.output)?;
    let mut tasks = Vec::new();
    for (i, p) in prepared.into_iter().enumerate() {
        let origin = format!(
            "{}://{}",
            p.uri.scheme_str().unwrap_or("https"),
            p.uri.authority().map(|a| a.as_str()).unwrap_or("")
        );
        let client = clients[&origin].clone();
        tasks.push((
            p.url.clone(),
            tokio::spawn(async move {
                let resp = client.request(p.request).await.map_err(|e| e.to_string())?;
                if i == 0 {
                    // The first body streams straight to the output, in `write_first`.
                    Ok::<_, String>(Fetched::Streaming(resp))
                } else {
                    let status = resp.status();
                    let bytes = collect(resp.into_body()).await?;
                    Ok(Fetched::Done(status, bytes))
                }
            }),
        ));
    }
    let mut failures = Vec::new();
    for (url, task) in tasks {
        let result = match task.await {
            Ok(Ok(Fetched::Streaming(resp))) => out.stream(resp).await,
            Ok(Ok(Fetched::Done(status, bytes))) => out.write(status, &bytes),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = result {
            failures.push(format!("{url}: {e}"));
        }
    }
    out.finish()?;
    drop(clients);
    for t in push_tasks {
        let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
    }
    match failures.len() {
        0 => Ok(()),
        _ => Err(failures.join("; ")),
    }
}

enum Fetched {
    Streaming(http::Response<RecvBody>),
    Done(http::StatusCode, Bytes),
}

async fn collect(body: RecvBody) -> Result<Bytes, String> {
    Ok(body.collect().await.map_err(|e| e.to_string())?.to_bytes())
}

async fn report_push(push: h2proto_tokio::PushedResponse) {
    let what = format!("{} {}", push.request().method(), push.request().uri());
    match push.response().await {
        Ok(resp) => {
            let status = resp.status();
            match collect(resp.into_body()).await {
                Ok(b) => eprintln!("pushed: {what} -> {} ({} bytes)", status.as_u16(), b.len()),
                Err(e) => eprintln!("pushed: {what} -> {} (body failed: {e})", status.as_u16()),
            }
        }
        Err(e) => eprintln!("pushed: {what} -> {e}"),
    }
}

/// Where bodies go: stdout, or a file (with a progress bar for large bodies).
struct Output {
    file: Option<std::fs::File>,
    to_file: bool,
}

impl Output {
    fn open(path: &Option<PathBuf>) -> Result<Output, String> {
        let file = match path {
            Some(p) => Some(
                std::fs::File::create(p)
                    .map_err(|e| format!("cannot write {}: {e}", p.display()))?,
            ),
            None => None,
        };
        Ok(Output {
            to_file: file.is_some(),
            file,
        })
    }

    fn sink(&mut self) -> Box<dyn Write + '_> {
        match &mut self.file {
            Some(f) => Box::new(f),
            None => Box::new(std::io::stdout().lock()),
        }
    }

    fn write(&mut self, status: http::StatusCode, bytes: &[u8]) -> Result<(), String> {
        note_status(status);
        self.sink()
            .write_all(bytes)
            .map_err(|e| format!("write failed: {e}"))
    }

    async fn stream(&mut self, resp: http::Response<RecvBody>) -> Result<(), String> {
        note_status(resp.status());
        let length = resp
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let bar =
            (self.to_file && !matches!(length, Some(n) if n <= PROGRESS_THRESHOLD)).then(|| {
                let bar = match length {
                    Some(n) => indicatif::ProgressBar::new(n),
                    None => indicatif::ProgressBar::new_spinner(),
                };
                let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bytes}/{total_bytes} {bytes_per_sec} {wide_bar}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar
            });
        let mut body = resp.into_body();
        let mut result = Ok(());
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    if let Some(data) = frame.data_ref() {
                        if let Err(e) = self.sink().write_all(data) {
                            result = Err(format!("write failed: {e}"));
                            break;
                        }
                        if let Some(bar) = &bar {
                            bar.inc(data.len() as u64);
                        }
                    }
                }
                Err(e) => {
                    result = Err(e.to_string());
                    break;
                }
            }
        }
        if let Some(bar) = bar {
            bar.finish();
        }
        result
    }

    fn finish(&mut self) -> Result<(), String> {
        self.sink()
            .flush()
            .map_err(|e| format!("write failed: {e}"))
    }
}

fn note_status(status: http::StatusCode) {
    if !status.is_success() {
        eprintln!("status {}", status.as_u16());
    }
}

/// One frame in the spirit of `nghttp -v`:
/// `[  0.012] send HEADERS frame <length=30, flags=0x05, stream_id=1>` then details.
pub fn format_frame(
    elapsed: Duration,
    sent: bool,
    frame: &Frame,
    headers: Option<&[Header]>,
) -> String {
    let mut encoded = Vec::new();
    frame.encode(&mut encoded);
    let length = encoded.len().saturating_sub(h2proto::frame::HEADER_LEN);
    let kind = frame.kind();
    let name = kind
        .name()
        .map(str::to_string)
        .unwrap_or_else(|| format!("UNKNOWN(0x{:02x})", kind.0));
    let mut s = format!(
        "[{:>3}.{:03}] {} {} frame <length={}, flags=0x{:02x}, stream_id={}>\n",
        elapsed.as_secs(),
        elapsed.subsec_millis(),
        if sent { "send" } else { "recv" },
        name,
        length,
        frame.flags(),
        frame.stream_id().0,
    );
    let flags = h2proto::frame::flags::names(kind, frame.flags());
    if !flags.is_empty() {
        s.push_str(&format!("          ; {}\n", flags.join(" | ")));
    }
    match frame {
        Frame::Settings(st) if !st.ack => {
            s.push_str(&format!("          (niv={})\n", st.params.len()));
            for (id, v) in &st.params {
                let n = id.name().unwrap_or("UNKNOWN");
                s.push_str(&format!("          [{n}(0x{:02x}):{v}]\n", id.0));
            }
        }
        Frame::WindowUpdate(w) => {
            s.push_str(&format!(
                "          (window_size_increment={})\n",
                w.increment
            ));
        }
        Frame::RstStream(r) => s.push_str(&format!("          (error_code={})\n", r.error_code)),
        Frame::GoAway(g) => s.push_str(&format!(
            "          (last_stream_id={}, error_code={}, opaque_data({})=[{}])\n",
            g.last_stream_id.0,
            g.error_code,
            g.debug_data.len(),
            String::from_utf8_lossy(&g.debug_data)
        )),
        Frame::Ping(p) => s.push_str(&format!("          (opaque_data={})\n", hex(&p.payload))),
        Frame::PushPromise(p) => s.push_str(&format!(
            "          (promised_stream_id={})\n",
            p.promised_id.0
        )),
        _ => {}
    }
    if kind == FrameType::HEADERS
        || kind == FrameType::PUSH_PROMISE
        || kind == FrameType::CONTINUATION
    {
        for h in headers.unwrap_or(&[]) {
            s.push_str(&format!(
                "          {}: {}\n",
                String::from_utf8_lossy(&h.name),
                String::from_utf8_lossy(&h.value)
            ));
        }
    }
    s
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
