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
pub struct Window(i64);

/// A window would exceed 2^31 - 1 (§6.9.1: FLOW_CONTROL_ERROR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

impl Window {
    pub fn new(size: u32) -> Window {
        Window(size as i64)
    }

    pub fn get(self) -> i64 {
        self.0
    }

    /// Bytes that may be sent (or received) now: zero when the window is negative.
    pub fn available(self) -> u32 {
        self.0.clamp(0, MAX_WINDOW) as u32
    }

    /// Adds a WINDOW_UPDATE increment or an INITIAL_WINDOW_SIZE delta.
    pub fn grow(&mut self, delta: i64) -> Result<(), Overflow> {
        let n = self.0 + delta;
        if n > MAX_WINDOW {
            return Err(Overflow);
        }
        self.0 = n;
        Ok(())
    }

    /// Takes `n` bytes out of the window (sent or received flow-controlled bytes).
    pub fn consume(&mut self, n: u32) {
        self.0 -= n as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
