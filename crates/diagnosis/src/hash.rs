//! A small, fast, deterministic hash for the keys that identify objects and groups across
//! snapshots (an object's class and name, a group's class and anchor); not for untrusted keys
//! in maps: the maps it feeds are keyed by these hashes, computed from the snapshot itself.

/// Mixes `value` into `state` (a multiply-rotate step in the style of FxHash, finished with
/// a xor-shift so nearby inputs spread).
#[inline]
pub fn mix(state: u64, value: u64) -> u64 {
    let x = (state.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    x ^ (x >> 29)
}

/// Hash of a string's bytes.
pub fn hash_str(s: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for chunk in s.as_bytes().chunks(8) {
        let mut buf = [0u8; 8];
        buf[..chunk.len()].copy_from_slice(chunk);
        h = mix(h, u64::from_le_bytes(buf));
    }
    mix(h, s.len() as u64)
}

/// A hash map for the diagnosis' large per-snapshot tables (millions of integer keys): a
/// fast hash, seeded at random per process so that a crafted snapshot cannot line its keys
/// up in one bucket.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;

/// The set counterpart of [`FastMap`].
pub type FastSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
