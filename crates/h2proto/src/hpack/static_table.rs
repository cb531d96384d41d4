//! The static table (RFC 7541 §2.3.1 and Appendix A): 61 predefined fields, indices 1..=61.

/// Number of entries in the static table; dynamic indices start right after (§2.3.3).
pub const LEN: usize = 61;

/// Appendix A, in order: `STATIC_TABLE[i - 1]` is index `i`.
pub const STATIC_TABLE: [(&[u8], &[u8]); LEN] = [
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
];

/// The field at static index `index` (1-based, §2.3.3), or `None` if it is not a static index.
#[inline]
pub fn get(index: usize) -> Option<(&'static [u8], &'static [u8])> {
    STATIC_TABLE.get(index.wrapping_sub(1)).copied()
}

/// The range of static indices `(first, last)` whose name is `name`.
///
/// A `match` on the name compiles to a length switch plus comparisons, which is faster than
/// hashing for 52 distinct names and needs no table built at start-up.
pub fn name_range(name: &[u8]) -> Option<(usize, usize)> {
    Some(match name {
        b":authority" => (1, 1),
        b":method" => (2, 3),
        b":path" => (4, 5),
        b":scheme" => (6, 7),
        b":status" => (8, 14),
        b"accept-charset" => (15, 15),
        b"accept-encoding" => (16, 16),
        b"accept-language" => (17, 17),
        b"accept-ranges" => (18, 18),
        b"accept" => (19, 19),
        b"access-control-allow-origin" => (20, 20),
        b"age" => (21, 21),
        b"allow" => (22, 22),
        b"authorization" => (23, 23),
        b"cache-control" => (24, 24),
        b"content-disposition" => (25, 25),
        b"content-encoding" => (26, 26),
        b"content-language" => (27, 27),
        b"content-length" => (28, 28),
        b"content-location" => (29, 29),
        b"content-range" => (30, 30),
        b"content-type" => (31, 31),
        b"cookie" => (32, 32),
        b"date" => (33, 33),
        b"etag" => (34, 34),
        b"expect" => (35, 35),
        b"expires" => (36, 36),
        b"from" => (37, 37),
        b"host" => (38, 38),
        b"if-match" => (39, 39),
        b"if-modified-since" => (40, 40),
        b"if-none-match" => (41, 41),
        b"if-range" => (42, 42),
        b"if-unmodified-since" => (43, 43),
        b"last-modified" => (44, 44),
        b"link" => (45, 45),
        b"location" => (46, 46),
        b"max-forwards" => (47, 47),
        b"proxy-authenticate" => (48, 48),
        b"proxy-authorization" => (49, 49),
        b"range" => (50, 50),
        b"referer" => (51, 51),
        b"refresh" => (52, 52),
        b"retry-after" => (53, 53),
        b"server" => (54, 54),
        b"set-cookie" => (55, 55),
        b"strict-transport-security" => (56, 56),
        b"transfer-encoding" => (57, 57),
        b"user-agent" => (58, 58),
        b"vary" => (59, 59),
        b"via" => (60, 60),
        b"www-authenticate" => (61, 61),
        _ => return None,
    })
}

/// Looks `name: value` up: `Some((index, true))` for a full match, `Some((index, false))` when
/// only the name matches (the lowest such index), `None` otherwise.
#[inline]
pub fn find(name: &[u8], value: &[u8]) -> Option<(usize, bool)> {
    let (first, last) = name_range(name)?;
    for i in first..=last {
        if STATIC_TABLE[i - 1].1 == value {
            return Some((i, true));
        }
    }
    Some((first, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_appendix_a_tsv() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/specs/hpack-static-table.tsv"
        );
        let text = std::fs::read_to_string(path).expect("hpack-static-table.tsv is missing");
        let mut n = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let mut cols = line.split('\t');
            let index: usize = cols.next().unwrap().parse().unwrap();
            let name = cols.next().unwrap();
            let value = cols.next().unwrap_or("");
            assert_eq!(
                get(index),
                Some((name.as_bytes(), value.as_bytes())),
                "index {index}"
            );
            n += 1;
        }
        assert_eq!(n, LEN);
        assert_eq!(get(0), None);
        assert_eq!(get(62), None);
    }

    #[test]
    fn find_agrees_with_a_linear_scan() {
        for (i, (name, value)) in STATIC_TABLE.iter().enumerate() {
            let first = STATIC_TABLE.iter().position(|(n, _)| n == name).unwrap() + 1;
            let full = STATIC_TABLE
                .iter()
                .position(|e| e == &(*name, *value))
                .unwrap()
                + 1;
            assert_eq!(find(name, value), Some((full, true)), "entry {}", i + 1);
            assert_eq!(find(name, b"\x00nope"), Some((first, false)));
        }
        assert_eq!(find(b"x-unknown", b""), None);
    }
}
