//! Shared by the CLI tests: an `h2proto serve` child process on a free loopback port.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_h2proto");

/// A running `h2proto serve`, killed on drop.
pub struct ServeProcess {
    pub child: Child,
    pub port: u16,
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the server and waits for its "listening on" line.
pub fn serve(extra: &[&str]) -> ServeProcess {
    serve_via(Command::new(BIN), extra)
}

/// Starts the server under `prlimit --nofile=N:N` (a per-process file-descriptor limit).
pub fn serve_with_fd_limit(nofile: u32, extra: &[&str]) -> ServeProcess {
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--nofile={nofile}:{nofile}"))
        .args(["--", BIN]);
    serve_via(cmd, extra)
}

fn serve_via(mut cmd: Command, extra: &[&str]) -> ServeProcess {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = cmd
        .arg("serve")
        .args(["--listen", &listen])
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
