//! Counters for observability: what went in and out, and why abuse defences fired.

use std::time::Duration;

/// Per-connection counters.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Frames received and sent by type code; index 10 counts PRIORITY_UPDATE and unknown types.
    pub frames_received: [u64; 11],
    pub frames_sent: [u64; 11],
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub data_bytes_received: u64,
    pub data_bytes_sent: u64,
    /// HPACK: encoded header block bytes and the header list size they stand for (name + value
    /// per field), both directions; their ratio is the compression ratio.
    pub header_block_bytes_received: u64,
    pub header_list_bytes_received: u64,
    pub header_block_bytes_sent: u64,
    pub header_list_bytes_sent: u64,
    pub streams_opened: u64,
    pub resets_sent: u64,
    pub resets_received: u64,
    /// Time DATA waited on a zero connection send window.
    pub connection_stalled: Duration,
    pub abuse: AbuseCounters,
}

/// How often each defence of SECURITY.md fired (the reason is also in the GOAWAY debug data).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AbuseCounters {
    pub too_many_resets: u64,
    pub rapid_reset: u64,
    pub continuation_flood: u64,
    pub settings_flood: u64,
    pub ping_flood: u64,
    pub empty_frames: u64,
    pub priority_flood: u64,
    pub header_list_too_large: u64,
    pub refused_streams: u64,
    pub informational_flood: u64,
    pub stalled_streams: u64,
}

/// Per-stream counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Time queued data waited on a zero stream send window.
    pub stalled: Duration,
}

impl Stats {
    /// The slot of a frame type in `frames_*`.
    pub fn slot(kind: u8) -> usize {
        if kind <= 9 {
            kind as usize
        } else {
            10
        }
    }
}
