//! `h2proto load` against an `h2proto serve` child process.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_h2proto");

/// A running `h2proto serve`, killed on drop.
struct ServeProcess {
    child: Child,
    port: u16,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the server and waits for its "listening on" line.
fn serve(extra: &[&str]) -> ServeProcess {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--listen", &listen, "--threads", "1"])
        .args(extra)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep draining: the server logs one line per request.
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.starts_with("listening on") => break,
            Ok(_) => {}
            Err(_) => panic!("server did not start"),
        }
    }
    ServeProcess { child, port }
}

fn load(args: &[&str]) -> Output {
    Command::new(BIN).arg("load").args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn h2c_get_counts_every_request() {
    let server = serve(&["--h2c"]);
    let url = format!("http://127.0.0.1:{}/", server.port);
    let out = load(&[&url, "-n", "500", "-c", "3", "-m", "10"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("req/s"), "{}", text(&out));
    assert!(
        stdout.contains("500 total, 500 started, 500 done, 500 succeeded, 0 failed, 0 errored"),
        "{}",
        text(&out)
    );
    assert!(stdout.contains("500 2xx"), "{}", text(&out));
    assert!(stdout.contains("latency: min"), "{}", text(&out));
}

#[test]
fn h2c_post_bodies_and_large_responses() {
    let server = serve(&["--h2c"]);
    let dir = std::env::temp_dir().join(format!("h2proto-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body");
    // Larger than one 16 KiB frame and than the 64 KiB default window.
    std::fs::write(&file, vec![b'a'; 100_000]).unwrap();
    let url = format!("http://127.0.0.1:{}/echo", server.port);
    let out = load(&[
        &url,
        "-n",
        "20",
        "-c",
        "2",
        "-m",
        "4",
        "-d",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("20 succeeded"), "{}", text(&out));
    assert!(stdout.contains("(2000000) data"), "{}", text(&out));

    let url = format!("http://127.0.0.1:{}/bytes/300000", server.port);
    let out = load(&[&url, "-n", "10", "-c", "2", "-m", "5", "-t", "2"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("(3000000) data"),
        "{}",
        text(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn failures_exit_non_zero() {
    let server = serve(&["--h2c"]);
    // 404s count as failed requests.
    let url = format!("http://127.0.0.1:{}/missing", server.port);
    let out = load(&[&url, "-n", "5"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("5 4xx"),
        "{}",
        text(&out)
    );
    // Nobody listening: every request fails.
    let port = free_port();
    let out = load(&[&format!("http://127.0.0.1:{port}/"), "-n", "3", "-c", "2"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("connect"),
        "{}",
        text(&out)
    );
}
