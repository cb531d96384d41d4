//! Server push (RFC 9113 §8.4): the page's stylesheet is pushed before the page, and a client on
//! the same connection receives it as a pushed response.
//!
//! `cargo run -p h2proto-tokio --example server_push`

use bytes::Bytes;
use h2proto_tokio::{Client, ClientConfig, Pusher, RecvBody, Server};
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};

async fn handler(req: Request<RecvBody>) -> Response<Full<Bytes>> {
    if req.uri().path() == "/" {
        if let Some(pusher) = req.extensions().get::<Pusher>() {
            let css = Response::new(Full::new(Bytes::from_static(b"h1 { color: teal }")));
            match pusher
                .push(Request::get("/style.css").body(()).expect("valid"), css)
                .await
            {
                Ok(id) => println!("server: pushed /style.css on stream {id}"),
                Err(e) => println!("server: push refused: {e}"),
            }
        }
        return Response::new(Full::new(Bytes::from_static(
            b"<link rel=stylesheet href=/style.css><h1>pushed!</h1>",
        )));
    }
    Response::new(Full::new(Bytes::from_static(b"h1 { color: teal }")))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::builder()
        .handler(|req| async move { handler(req).await })
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn({
        let server = server.clone();
        async move { server.serve(listener).await }
    });

    let client =
        Client::connect(&format!("http://{addr}/").parse()?, ClientConfig::default()).await?;
    let mut pushes = client.pushes().expect("first call");
    let resp = client
        .request(Request::get("/").body(Empty::<Bytes>::new())?)
        .await?;
    let page = resp.into_body().collect().await?.to_bytes();
    println!("client: page = {}", String::from_utf8_lossy(&page));
    if let Some(push) = pushes.recv().await {
        let path = push.request().uri().path().to_string();
        let body = push
            .response()
            .await?
            .into_body()
            .collect()
            .await?
            .to_bytes();
        println!("client: pushed {path} = {}", String::from_utf8_lossy(&body));
    }
    server.shutdown(std::time::Duration::from_secs(1));
    Ok(())
}
