//! Flow-control windows (RFC 9113 §5.2, §6.9).

/// The largest window a sender may allow (§6.9.1: 2^31 - 1).
pub const MAX_WINDOW: i64 = 0x7fff_ffff;
/// The initial window of every stream and of the connection (§6.9.2).
pub const DEFAULT_WINDOW: u32 = 65_535;

/// One flow-control window.
///
/// Kept as `i64` because §6.9.2 lets a SETTINGS_INITIAL_WINDOW_SIZE decrease drive a stream
/// window negative: "a sender MUST track the negative flow-control window and MUST NOT send new
/// flow-controlled frames until it receives WINDOW_UPDATE frames that cause the flow-control
/// window to become positive."
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    size: i64,
    /// The largest the window has been (lowered with it by a smaller INITIAL_WINDOW_SIZE): what
    /// the peer is prepared to grant at once, used by [`Window::usable`].
    peak: i64,
}

/// A window smaller than this (and than half the window's peak) is not used for DATA that
/// needs more: see [`Window::usable`].
pub const DRIBBLE_MIN: usize = 1024;

/// A window would exceed 2^31 - 1 (§6.9.1: FLOW_CONTROL_ERROR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

impl Window {
    pub fn new(size: u32) -> Window {
        Window {
            size: size as i64,
            peak: size as i64,
        }
    }

    pub fn get(self) -> i64 {
        self.size
    }

    /// Bytes that may be sent (or received) now: zero when the window is negative.
    pub fn available(self) -> u32 {
        self.size.clamp(0, MAX_WINDOW) as u32
    }

    /// What of the window to use for `pending` bytes of DATA: all of it, or nothing while it is
    /// smaller than `pending`, than [`DRIBBLE_MIN`] and than half its peak.
    ///
    /// Why: a peer that opens the window a byte at a time would otherwise get one DATA frame
    /// per WINDOW_UPDATE, a frame of work each way per byte (the "data dribble" attack,
    /// CVE-2019-9511). Waiting is safe: credit only accumulates, and half the peak is what a
    /// peer that returns credit in half-window batches (h2, nghttp2) grants at a time. A peer
    /// that set a tiny window itself (INITIAL_WINDOW_SIZE 1) still gets its one-byte frames.
    /// While the window is held back the stream counts as stalled (stall timeout).
    pub fn usable(self, pending: usize) -> usize {
        let available = self.available() as usize;
        let want = pending
            .min(DRIBBLE_MIN)
            .min((self.peak.max(0) / 2) as usize);
        if available >= want {
            available
        } else {
            0
        }
    }

    /// Adds a WINDOW_UPDATE increment or an INITIAL_WINDOW_SIZE delta.
    pub fn grow(&mut self, delta: i64) -> Result<(), Overflow> {
        let n = self.size + delta;
        if n > MAX_WINDOW {
            return Err(Overflow);
        }
        self.size = n;
        // A smaller INITIAL_WINDOW_SIZE (a negative delta) lowers what the peer will grant.
        self.peak = if delta < 0 {
            self.peak + delta
        } else {
            self.peak.max(n)
        };
        Ok(())
    }

    /// Takes `n` bytes out of the window (sent or received flow-controlled bytes).
    pub fn consume(&mut self, n: u32) {
        self.size -= n as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dribbled_credit_is_held_until_it_is_worth_a_frame() {
        let mut w = Window::new(DEFAULT_WINDOW);
        w.consume(DEFAULT_WINDOW);
        w.grow(1).unwrap();
        assert_eq!(
            w.usable(100_000),
            0,
            "one byte of a 64 KiB window is not used"
        );
        w.grow(DRIBBLE_MIN as i64 - 1).unwrap();
        assert_eq!(w.usable(100_000), DRIBBLE_MIN);
        // Less pending than the threshold: sent as soon as it fits.
        let mut w = Window::new(DEFAULT_WINDOW);
        w.consume(DEFAULT_WINDOW - 5);
        assert_eq!(w.usable(5), 5);
        assert_eq!(w.usable(6), 0);
    }

    #[test]
    fn a_window_the_peer_keeps_tiny_is_used_as_it_is() {
        let w = Window::new(1);
        assert_eq!(w.usable(5), 1);
        // INITIAL_WINDOW_SIZE lowered from 65,535 to 100: half of 100 is enough.
        let mut w = Window::new(DEFAULT_WINDOW);
        w.grow(100 - DEFAULT_WINDOW as i64).unwrap();
        w.consume(100);
        w.grow(50).unwrap();
        assert_eq!(w.usable(1000), 50);
    }

    #[test]
    fn s6_9_1_window_cannot_exceed_2_pow_31_minus_1() {
        let mut w = Window::new(DEFAULT_WINDOW);
        assert_eq!(w.grow(MAX_WINDOW - 65_535), Ok(()));
        assert_eq!(w.grow(1), Err(Overflow));
        assert_eq!(w.get(), MAX_WINDOW);
    }

    #[test]
    fn s6_9_2_window_may_go_negative() {
        let mut w = Window::new(100);
        w.consume(60);
        w.grow(-65_535 + 16).unwrap();
        assert!(w.get() < 0);
        assert_eq!(w.available(), 0);
        w.grow(100_000).unwrap();
        assert!(w.available() > 0);
    }
}
