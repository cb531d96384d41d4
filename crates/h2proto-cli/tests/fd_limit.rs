//! `h2proto serve` at its file-descriptor limit: excess clients fail fast (they are accepted and
//! closed at once) instead of hanging in the listen backlog, and the server serves again as soon
//! as descriptors are free. (Issue 7: "back off, no spin; clients past the limit fail fast".)

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame (RFC 9113 §6.5).
const SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

enum Outcome {
    /// The server's SETTINGS arrived: the connection is being served.
    Served(TcpStream),
    /// Closed or reset by the server.
    Refused,
    /// Nothing within the timeout.
    Hung,
}

fn connect(port: u16, timeout: Duration) -> Outcome {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return Outcome::Refused;
    };
    s.set_read_timeout(Some(timeout)).unwrap();
    if s.write_all(PREFACE)
        .and_then(|_| s.write_all(SETTINGS))
        .is_err()
    {
        return Outcome::Refused;
    }
    let mut head = [0u8; 9];
    match s.read_exact(&mut head) {
        Ok(()) if head[3] == 4 => Outcome::Served(s),
        Ok(()) => panic!("first frame from the server is not SETTINGS: {head:?}"),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Outcome::Hung,
        Err(_) => Outcome::Refused,
    }
}

#[test]
fn clients_past_the_fd_limit_fail_fast_and_the_server_recovers() {
    let server = serve_with_fd_limit(64, &["--h2c", "--threads", "1"]);
    let mut held = Vec::new();
    let (mut refused, mut hung) = (0, 0);
    let start = Instant::now();
    for _ in 0..100 {
        match connect(server.port, Duration::from_secs(3)) {
            Outcome::Served(s) => held.push(s),
            Outcome::Refused => refused += 1,
            Outcome::Hung => hung += 1,
        }
    }
    let spent = start.elapsed();
    assert!(
        held.len() >= 30,
        "only {} served below the limit",
        held.len()
    );
    assert!(
        held.len() < 64,
        "{} served: the limit did not apply",
        held.len()
    );
    assert_eq!(
        hung, 0,
        "clients past the limit waited instead of failing fast"
    );
    assert_eq!(held.len() + refused, 100);
    assert!(spent < Duration::from_secs(20), "took {spent:?}");

    // Descriptors free again: a new client is served (the spare descriptor was taken back).
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match connect(server.port, Duration::from_secs(3)) {
            Outcome::Served(_) => break,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => panic!("the server did not recover after the clients left"),
        }
    }
}
