//! `h2proto serve` as a child process, `h2proto get` against it.

mod common;

use common::*;
use std::net::TcpListener;
use std::process::{Command, Output};

fn get(args: &[&str]) -> Output {
    Command::new(BIN).arg("get").args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn tls_builtin_pages() {
    let server = serve(&["--push"]);
    let base = format!("https://127.0.0.1:{}", server.port);

    let out = get(&["--insecure", &format!("{base}/")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Hello from h2proto"));
    assert!(stderr(&out).contains("pushed: GET"), "{}", stderr(&out));

    // Two URLs share one connection; bodies come out in order.
    let out = get(&[
        "--insecure",
        &format!("{base}/bytes/3"),
        &format!("{base}/bytes/100000"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout.len(), 100_003);

    let out = get(&["--insecure", "-d", "ping-pong", &format!("{base}/echo")]);
    assert_eq!(out.stdout, b"ping-pong");

    let out = get(&["--insecure", "-v", &format!("{base}/bytes/10")]);
    let trace = stderr(&out);
    assert!(trace.contains("send HEADERS frame"), "{trace}");
    assert!(trace.contains("recv DATA frame <length=10"), "{trace}");
    assert!(trace.contains(":path: /bytes/10"), "{trace}");

    let file = std::env::temp_dir().join(format!("h2proto-get-{}.bin", std::process::id()));
    let out = get(&[
        "--insecure",
        "-o",
        file.to_str().unwrap(),
        &format!("{base}/bytes/3000000"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 3_000_000);
    std::fs::remove_file(&file).unwrap();

    // Without --insecure the self-signed certificate is refused.
    let out = get(&[&format!("{base}/")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("TLS"), "{}", stderr(&out));
}

#[test]
fn h2c_directory() {
    let dir = std::env::temp_dir().join(format!("h2proto-site-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("index.html"), "<html>root</html>").unwrap();
    std::fs::write(dir.join("sub/data.txt"), "some data\n").unwrap();
    let server = serve(&["--h2c", dir.to_str().unwrap()]);
    let base = format!("http://127.0.0.1:{}", server.port);

    let out = get(&[&format!("{base}/")]);
    assert_eq!(out.stdout, b"<html>root</html>");
    let out = get(&["--h2c", &format!("{base}/sub/data.txt")]);
    assert_eq!(out.stdout, b"some data\n");
    let out = get(&[&format!("{base}/missing")]);
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
    let out = get(&[&format!("{base}/%2e%2e/%2e%2e/etc/passwd")]);
    assert!(stderr(&out).contains("404"), "{}", stderr(&out));
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn fails_with(args: &[&str], expected: &str) {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?}");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("h2proto: ") && err.contains(expected),
        "{err}"
    );
}

#[test]
fn bad_input_exits_1_with_one_line() {
    let port = free_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    fails_with(
        &[
            "serve",
            "--listen",
            &listen,
            "--cert",
            "/nonexistent/cert.pem",
            "--key",
            "/nonexistent/key.pem",
        ],
        "cannot read certificate file /nonexistent/cert.pem",
    );
    fails_with(
        &["serve", "--listen", &listen, "/nonexistent/dir"],
        "cannot serve /nonexistent/dir",
    );
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_addr = busy.local_addr().unwrap().to_string();
    fails_with(
        &["serve", "--h2c", "--listen", &busy_addr],
        "cannot listen on",
    );
    fails_with(
        &["get", &format!("http://127.0.0.1:{port}/")],
        "Connection refused",
    );
    fails_with(&["get", "ftp://x/"], "invalid URL");
}
