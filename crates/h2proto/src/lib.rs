//! h2proto: a sans-IO HTTP/2 protocol core (RFC 9113, RFC 7541, RFC 9218, RFC 8441).
//!
//! The crate does no I/O and never reads the clock. Bytes come in through
//! [`Connection::handle_input`], events come out of [`Connection::poll_event`], bytes to write
//! come out of [`Connection::poll_transmit`], and the caller passes the current time into every
//! call that has a timed rule. See [`Connection`] for the call order.
//!
//! Layout follows the RFCs: [`frame`] is the wire codec of RFC 9113 §4 and §6, [`hpack`] is
//! RFC 7541, and [`connection`] holds the state of §5 (streams, flow control, priority) and the
//! message rules of §8.
#![forbid(unsafe_code)]

pub mod connection;
pub mod error;
pub mod event;
pub mod frame;
pub mod hpack;
mod stream_id;

pub use connection::{
    Config, Connection, FlowControl, PeerSettings, Priority, Role, Stats, StreamState,
};
pub use error::{ErrorCode, ProtocolError, Scope};
pub use event::{ConnectionError, Error, Event};
pub use hpack::Header;
pub use stream_id::{StreamId, StreamIdHasher};
