//! Fetches a URL over HTTP/2 and prints status, headers and body.
//!
//! `cargo run -p h2proto-tokio --example hello_client -- https://127.0.0.1:8443/ --insecure`

use h2proto_tokio::{tls, Client, ClientConfig};
use http_body_util::{BodyExt, Empty};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "https://127.0.0.1:8443/".to_string());
    let trust = if args.iter().any(|a| a == "--insecure") {
        tls::Trust::DangerAcceptAny
    } else {
        tls::Trust::WebPki
    };
    let uri: http::Uri = url.parse()?;
    let config = ClientConfig {
        tls: Some(tls::client_config(&trust)?),
        ..ClientConfig::default()
    };
    let client = Client::connect(&uri, config).await?;
    let req = http::Request::get(uri).body(Empty::<bytes::Bytes>::new())?;
    let resp = client.request(req).await?;
    println!("{:?} {}", resp.version(), resp.status());
    for (name, value) in resp.headers() {
        println!("{name}: {}", value.to_str().unwrap_or("<binary>"));
    }
    let body = resp.into_body().collect().await?.to_bytes();
    println!("\n{}", String::from_utf8_lossy(&body));
    Ok(())
}
