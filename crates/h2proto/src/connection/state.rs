//! The stream state machine of RFC 9113 §5.1, as one explicit transition table.
//!
//! ```text
//!                          +--------+
//!                  send PP |        | recv PP
//!                 ,--------+  idle  +--------.
//!                /         |        |         \
//!               v          +--------+          v
//!        +----------+          |           +----------+
//!        |          |          | send H /  |          |
//! ,------+ reserved |          | recv H    | reserved +------.
//! |      | (local)  |          |           | (remote) |      |
//! |      +---+------+          v           +------+---+      |
//! |          |             +--------+             |          |
//! |          |     recv ES |        | send ES     |          |
//! |   send H |     ,-------+  open  +-------.     | recv H   |
//! |          |    /        |        |        \    |          |
//! |          v   v         +---+----+         v   v          |
//! |      +----------+          |           +----------+      |
//! |      |   half-  |          |           |   half-  |      |
//! |      |  closed  |          | send R /  |  closed  |      |
//! |      | (remote) |          | recv R    | (local)  |      |
//! |      +----+-----+          |           +-----+----+      |
//! |           |                |                 |           |
//! |           | send ES /      |       recv ES / |           |
//! |           |  send R /      v        send R / |           |
//! |           |  recv R    +--------+   recv R   |           |
//! | send R /  `----------->|        |<-----------'  send R / |
//! | recv R                 | closed |               recv R   |
//! `----------------------->|        |<-----------------------'
//!                          +--------+
//! ```
//! (H = HEADERS, PP = PUSH_PROMISE, ES = END_STREAM flag, R = RST_STREAM.)
//!
//! [`next`] is the whole table: every `(state, transition)` pair the RFC allows maps to the next
//! state, every other pair is `None`, and the caller decides which RFC error that is (it depends
//! on who sent what, see `recv.rs`). Frames that do not change state (WINDOW_UPDATE, PRIORITY,
//! DATA without END_STREAM) are checked with [`StreamState::can_recv_data`] and friends.

/// The state of one stream (RFC 9113 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamState {
    Idle,
    ReservedLocal,
    ReservedRemote,
    Open,
    HalfClosedLocal,
    HalfClosedRemote,
    Closed,
}

/// An input to the state machine: a frame or flag sent or received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    SendHeaders,
    RecvHeaders,
    SendPushPromise,
    RecvPushPromise,
    SendEndStream,
    RecvEndStream,
    SendReset,
    RecvReset,
}

use StreamState::*;
use Transition::*;

/// The RFC 9113 §5.1 transition table. `None` means the transition is not allowed.
///
/// A HEADERS frame that does not open or reserve a stream (1xx, final response after 1xx,
/// trailers) keeps the state: END_STREAM, when it is set, is a separate `*EndStream` step.
pub fn next(state: StreamState, t: Transition) -> Option<StreamState> {
    Some(match (state, t) {
        (Idle, SendHeaders) | (Idle, RecvHeaders) => Open,
        (Idle, SendPushPromise) => ReservedLocal,
        (Idle, RecvPushPromise) => ReservedRemote,

        (ReservedLocal, SendHeaders) => HalfClosedRemote,
        (ReservedRemote, RecvHeaders) => HalfClosedLocal,
        (ReservedLocal | ReservedRemote, SendReset | RecvReset) => Closed,

        (Open, SendHeaders | RecvHeaders) => Open,
        (Open, SendEndStream) => HalfClosedLocal,
        (Open, RecvEndStream) => HalfClosedRemote,
        (Open, SendReset | RecvReset) => Closed,

        (HalfClosedLocal, RecvHeaders) => HalfClosedLocal,
        (HalfClosedLocal, RecvEndStream) => Closed,
        (HalfClosedLocal, SendReset | RecvReset) => Closed,

        (HalfClosedRemote, SendHeaders) => HalfClosedRemote,
        (HalfClosedRemote, SendEndStream) => Closed,
        (HalfClosedRemote, SendReset | RecvReset) => Closed,

        _ => return None,
    })
}

impl StreamState {
    /// May the peer still send DATA or trailers on this stream (§5.1 "open", "half-closed (local)")?
    pub fn can_recv_data(self) -> bool {
        matches!(self, Open | HalfClosedLocal)
    }

    /// May we still send DATA or trailers (§5.1 "open", "half-closed (remote)")?
    pub fn can_send_data(self) -> bool {
        matches!(self, Open | HalfClosedRemote)
    }

    /// Counts toward SETTINGS_MAX_CONCURRENT_STREAMS (§5.1.2: open or either half-closed state).
    pub fn is_active(self) -> bool {
        matches!(self, Open | HalfClosedLocal | HalfClosedRemote)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [StreamState; 7] = [
        Idle,
        ReservedLocal,
        ReservedRemote,
        Open,
        HalfClosedLocal,
        HalfClosedRemote,
        Closed,
    ];
    const INPUTS: [Transition; 8] = [
        SendHeaders,
        RecvHeaders,
        SendPushPromise,
        RecvPushPromise,
        SendEndStream,
        RecvEndStream,
        SendReset,
        RecvReset,
    ];

    /// Every (state, input) pair, checked against the arrows of the §5.1 diagram.
    #[test]
    fn s5_1_every_state_input_pair() {
        let allowed: &[(StreamState, Transition, StreamState)] = &[
            (Idle, SendHeaders, Open),
            (Idle, RecvHeaders, Open),
            (Idle, SendPushPromise, ReservedLocal),
            (Idle, RecvPushPromise, ReservedRemote),
            (ReservedLocal, SendHeaders, HalfClosedRemote),
            (ReservedLocal, SendReset, Closed),
            (ReservedLocal, RecvReset, Closed),
            (ReservedRemote, RecvHeaders, HalfClosedLocal),
            (ReservedRemote, SendReset, Closed),
            (ReservedRemote, RecvReset, Closed),
            (Open, SendHeaders, Open),
            (Open, RecvHeaders, Open),
            (Open, SendEndStream, HalfClosedLocal),
            (Open, RecvEndStream, HalfClosedRemote),
            (Open, SendReset, Closed),
            (Open, RecvReset, Closed),
            (HalfClosedLocal, RecvHeaders, HalfClosedLocal),
            (HalfClosedLocal, RecvEndStream, Closed),
            (HalfClosedLocal, SendReset, Closed),
            (HalfClosedLocal, RecvReset, Closed),
            (HalfClosedRemote, SendHeaders, HalfClosedRemote),
            (HalfClosedRemote, SendEndStream, Closed),
            (HalfClosedRemote, SendReset, Closed),
            (HalfClosedRemote, RecvReset, Closed),
        ];
        for s in STATES {
            for t in INPUTS {
                let expected = allowed
                    .iter()
                    .find(|(a, b, _)| *a == s && *b == t)
                    .map(|x| x.2);
                assert_eq!(next(s, t), expected, "{s:?} + {t:?}");
            }
        }
    }

    #[test]
    fn s5_1_closed_is_terminal() {
        for t in INPUTS {
            assert_eq!(next(Closed, t), None);
        }
    }

    #[test]
    fn s5_1_2_active_states() {
        let active: Vec<_> = STATES.iter().filter(|s| s.is_active()).collect();
        assert_eq!(active, [&Open, &HalfClosedLocal, &HalfClosedRemote]);
    }
}
