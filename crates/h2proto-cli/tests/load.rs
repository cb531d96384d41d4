//! `h2proto load` against an `h2proto serve` child process.

mod common;

use common::*;
use std::process::{Command, Output};

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
    let server = serve(&["--h2c", "--threads", "1"]);
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
    let server = serve(&["--h2c", "--threads", "1"]);
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
    let server = serve(&["--h2c", "--threads", "1"]);
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
