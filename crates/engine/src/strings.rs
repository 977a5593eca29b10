//! The snapshot's `strings` array: one byte arena plus offsets, so a million names cost one
//! allocation instead of a million.

/// All strings of a snapshot, each valid UTF-8 (the reader refuses a file with any that is
/// not).
#[derive(Debug, Default, Clone)]
pub struct StringTable {
    bytes: Vec<u8>,
    /// Low 32 bits of each string's start offset; length = count + 1. Four bytes a string
    /// instead of eight matters with millions of strings.
    offsets: Vec<u32>,
    /// Indices of the first string starting at or past each further 4 GiB of `bytes`
    /// (empty unless the strings alone pass 4 GiB).
    wraps: Vec<u32>,
}

impl StringTable {
    pub fn new() -> StringTable {
        StringTable {
            bytes: Vec::new(),
            offsets: vec![0],
            wraps: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// String `i`, or `""` when out of range (the reader has already rejected such indices).
    #[inline]
    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        if i + 1 >= self.offsets.len() {
            return "";
        }
        let bytes = &self.bytes[self.offset(i)..self.offset(i + 1)];
        // Every string is checked for UTF-8 when it is closed (`finish_string`), so this
        // cannot fail; the checked conversion keeps the crate free of `unsafe` at a small cost
        // paid only when a name is displayed, never in the hot loops.
        std::str::from_utf8(bytes).unwrap_or("")
    }

    #[inline]
    fn offset(&self, i: usize) -> usize {
        let low = self.offsets[i] as usize;
        if self.wraps.is_empty() {
            return low;
        }
        let high = self.wraps.partition_point(|&w| w as usize <= i);
        low + (high << 32)
    }

    fn close(&mut self) {
        let end = self.bytes.len() as u64;
        if (end >> 32) as usize > self.wraps.len() {
            self.wraps.push(self.offsets.len() as u32);
        }
        self.offsets.push(end as u32);
    }

    /// Appends a complete string.
    pub fn push(&mut self, s: &str) -> u32 {
        self.bytes.extend_from_slice(s.as_bytes());
        self.close();
        (self.offsets.len() - 2) as u32
    }

    /// The arena the reader decodes the current string into.
    pub(crate) fn open_bytes(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    /// Closes the string whose bytes were appended since the last one; false (and the
    /// string left open) when those bytes are not UTF-8. JSON text is UTF-8, and Bun, the
    /// one writer of raw non-ASCII, writes it correctly.
    pub(crate) fn finish_string(&mut self) -> bool {
        let start = self.offset(self.offsets.len() - 1);
        if std::str::from_utf8(&self.bytes[start..]).is_err() {
            return false;
        }
        self.close();
        true
    }

    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + 4 * self.offsets.capacity()
    }

    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.offsets.shrink_to_fit();
    }

    /// Index of the first string equal to `s` (a linear scan; for lookups by name).
    pub fn find(&self, s: &str) -> Option<u32> {
        (0..self.len() as u32).find(|&i| self.get(i) == s)
    }
}
