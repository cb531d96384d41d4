//! Extensible priorities (RFC 9218) and the DATA send scheduler they drive.
//!
//! RFC 9113 §5.3.2 deprecated the RFC 7540 dependency tree; its PRIORITY frames and HEADERS
//! fields are parsed by the frame layer, checked for self-dependency, and otherwise ignored here.
//! What orders our DATA is the RFC 9218 signal: the `priority` header field (§4, §5) and
//! PRIORITY_UPDATE frames (§7).

use std::collections::{BTreeSet, VecDeque};

/// RFC 9218 §4 priority parameters of one response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    /// `u`: 0 (most urgent) ..= 7 (least); default 3 (§4.1).
    pub urgency: u8,
    /// `i`: whether the response can be used incrementally (§4.2); default false.
    pub incremental: bool,
}

impl Default for Priority {
    fn default() -> Self {
        Priority {
            urgency: 3,
            incremental: false,
        }
    }
}

impl Priority {
    /// Parses a `priority` field value or a PRIORITY_UPDATE Priority Field Value.
    ///
    /// It is a Structured Fields Dictionary (RFC 8941). RFC 9218 §4: "unknown parameters ...
    /// MUST be ignored", and an urgency out of 0..=7 is ignored (§4.1), so parsing is lenient
    /// member by member and starts from `base`, the priority already in force.
    pub fn parse(value: &[u8], base: Priority) -> Priority {
        let mut p = base;
        let text = match std::str::from_utf8(value) {
            Ok(t) => t,
            Err(_) => return p,
        };
        for member in text.split(',') {
            // Parameters of a member (";a=b") carry nothing for us.
            let member = member.split(';').next().unwrap_or("").trim();
            let (key, val) = match member.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (member, None),
            };
            match (key, val) {
                ("u", Some(v)) => {
                    if let Ok(u) = v.parse::<u8>() {
                        if u <= 7 && v.bytes().all(|b| b.is_ascii_digit()) {
                            p.urgency = u;
                        }
                    }
                }
                ("i", None) | ("i", Some("?1")) => p.incremental = true,
                ("i", Some("?0")) => p.incremental = false,
                _ => {}
            }
        }
        p
    }

    /// Serialises as a `priority` field value, omitting defaults (§4: "u=3" and "i=?0" need not
    /// be sent).
    pub fn to_field_value(self) -> String {
        match (self.urgency, self.incremental) {
            (3, false) => String::new(),
            (3, true) => "i".to_string(),
            (u, false) => format!("u={u}"),
            (u, true) => format!("u={u}, i"),
        }
    }
}

/// Chooses which stream sends its next DATA frame (RFC 9218 §10).
///
/// Lower urgency first. Within an urgency, non-incremental streams are served one at a time in
/// stream-id order (§10: "delivered ... in the order of their stream IDs"), before the
/// incremental ones, which share the bandwidth round-robin, one frame each.
/// Only streams that have data queued *and* stream-level send credit are scheduled.
#[derive(Default, Debug)]
pub struct Scheduler {
    /// Boxed and made on first use: the sixteen queues are 450 bytes, which an idle
    /// connection need not carry (`shrink_to_fit` drops them when empty).
    queues: Option<Box<Queues>>,
    len: usize,
}

#[derive(Default, Debug)]
struct Queues {
    sequential: [BTreeSet<u32>; 8],
    incremental: [VecDeque<u32>; 8],
}

impl Scheduler {
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Lets go of queue memory kept from busier times (see `Connection::shrink_to_fit`).
    pub fn shrink_to_fit(&mut self) {
        if self.len == 0 {
            self.queues = None;
        } else if let Some(q) = self.queues.as_mut() {
            for ring in &mut q.incremental {
                ring.shrink_to_fit();
            }
        }
    }

    /// Adds a stream that became ready to send. The caller keeps track of membership.
    pub fn insert(&mut self, id: u32, p: Priority) {
        let q = self.queues.get_or_insert_with(Default::default);
        let u = p.urgency.min(7) as usize;
        if p.incremental {
            q.incremental[u].push_back(id);
        } else {
            q.sequential[u].insert(id);
        }
        self.len += 1;
    }

    /// Removes a stream (no data left, blocked on its window, reset, or re-prioritised).
    pub fn remove(&mut self, id: u32, p: Priority) {
        let Some(q) = self.queues.as_mut() else {
            return;
        };
        let u = p.urgency.min(7) as usize;
        let removed = if p.incremental {
            match q.incremental[u].iter().position(|&x| x == id) {
                Some(i) => q.incremental[u].remove(i).is_some(),
                None => false,
            }
        } else {
            q.sequential[u].remove(&id)
        };
        if removed {
            self.len -= 1;
        }
    }

    /// The stream that should send next.
    pub fn next(&self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let q = self.queues.as_ref()?;
        for u in 0..8 {
            if let Some(&id) = q.sequential[u].first() {
                return Some(id);
            }
            if let Some(&id) = q.incremental[u].front() {
                return Some(id);
            }
        }
        None
    }

    /// After `id` sent a frame and is still ready: an incremental stream goes to the back of
    /// its round-robin ring.
    pub fn rotate(&mut self, id: u32, p: Priority) {
        let Some(q) = self.queues.as_mut() else {
            return;
        };
        if p.incremental {
            let ring = &mut q.incremental[p.urgency.min(7) as usize];
            if ring.front() == Some(&id) {
                ring.rotate_left(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr(u: u8, i: bool) -> Priority {
        Priority {
            urgency: u,
            incremental: i,
        }
    }

    #[test]
    fn rfc9218_s4_parse_examples() {
        let d = Priority::default();
        assert_eq!(Priority::parse(b"u=5", d), pr(5, false));
        assert_eq!(Priority::parse(b"u=0, i", d), pr(0, true));
        assert_eq!(Priority::parse(b"i=?1", d), pr(3, true));
        assert_eq!(Priority::parse(b"u=1, i=?0", d), pr(1, false));
        // §4.1: out-of-range urgency is ignored; unknown parameters are ignored.
        assert_eq!(Priority::parse(b"u=8, x=4", d), pr(3, false));
        assert_eq!(Priority::parse(b"u=-1", d), pr(3, false));
        assert_eq!(Priority::parse(b"\xff", d), d);
    }

    #[test]
    fn rfc9218_s4_field_value_round_trip() {
        for u in 0..8 {
            for i in [false, true] {
                let p = pr(u, i);
                assert_eq!(
                    Priority::parse(p.to_field_value().as_bytes(), Priority::default()),
                    p
                );
            }
        }
    }

    #[test]
    fn rfc9218_s10_lower_urgency_first_then_stream_order() {
        let mut s = Scheduler::default();
        s.insert(7, pr(3, false));
        s.insert(5, pr(3, false));
        s.insert(9, pr(1, false));
        assert_eq!(s.next(), Some(9));
        s.remove(9, pr(1, false));
        assert_eq!(s.next(), Some(5));
        s.remove(5, pr(3, false));
        assert_eq!(s.next(), Some(7));
        s.remove(7, pr(3, false));
        assert!(s.is_empty());
        assert_eq!(s.next(), None);
    }

    #[test]
    fn rfc9218_s10_incremental_round_robin() {
        let mut s = Scheduler::default();
        let p = pr(3, true);
        s.insert(1, p);
        s.insert(3, p);
        s.insert(5, p);
        let mut order = vec![];
        for _ in 0..6 {
            let id = s.next().unwrap();
            order.push(id);
            s.rotate(id, p);
        }
        assert_eq!(order, [1, 3, 5, 1, 3, 5]);
    }
}
