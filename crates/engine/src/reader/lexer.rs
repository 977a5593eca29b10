//! A streaming JSON tokenizer specialised for heap snapshots: long arrays of non-negative
//! integers and one long array of strings. Nothing is ever held as a JSON tree and no token
//! needs to sit whole in one block: numbers and strings are carried across block boundaries.

use super::blocks::Blocks;
use crate::error::{ErrorKind, Result, SnapshotError};

pub(crate) struct Lexer {
    blocks: Blocks,
    buf: Vec<u8>,
    pos: usize,
    /// Absolute offset of `buf[0]` in the (decompressed) input, for error messages.
    base: u64,
    eof: bool,
}

fn truncated(what: impl Into<String>) -> SnapshotError {
    ErrorKind::Truncated(what.into()).into()
}

impl Lexer {
    pub(crate) fn new(blocks: Blocks) -> Lexer {
        Lexer { blocks, buf: Vec::new(), pos: 0, base: 0, eof: false }
    }

    /// Loads the next block; false at end of input.
    fn refill(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        self.base += self.buf.len() as u64;
        let spent = std::mem::take(&mut self.buf);
        match self.blocks.next(spent)? {
            Some(block) => {
                self.buf = block;
                self.pos = 0;
                Ok(true)
            }
            None => {
                self.eof = true;
                self.pos = 0;
                Ok(false)
            }
        }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The next byte without consuming it; `None` at end of input.
    #[inline]
    pub(crate) fn peek(&mut self) -> Result<Option<u8>> {
        if self.pos < self.buf.len() {
            return Ok(Some(self.buf[self.pos]));
        }
        while self.refill()? {
            if self.pos < self.buf.len() {
                return Ok(Some(self.buf[self.pos]));
            }
        }
        Ok(None)
    }

    #[inline]
    pub(crate) fn next_byte(&mut self) -> Result<Option<u8>> {
        let b = self.peek()?;
        if b.is_some() {
            self.pos += 1;
        }
        Ok(b)
    }

    /// The next byte that is not JSON white space, consumed.
    pub(crate) fn next_token_byte(&mut self) -> Result<Option<u8>> {
        loop {
            match self.next_byte()? {
                Some(b' ' | b'\n' | b'\r' | b'\t') => continue,
                other => return Ok(other),
            }
        }
    }

    /// An error for an unexpected byte just consumed (or end of input), in context `inside`.
    pub(crate) fn unexpected(&self, found: Option<u8>, inside: &str) -> SnapshotError {
        match found {
            None => truncated(format!("the file ends {inside}")),
            Some(b) => ErrorKind::NotJson(format!(
                "unexpected {} at byte {} {inside}",
                describe_byte(b),
                self.offset().saturating_sub(1)
            ))
            .into(),
        }
    }

    /// True when the next non-white-space byte is `b` (not consumed).
    pub(crate) fn peek_after_ws_is(&mut self, b: u8) -> Result<bool> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.pos += 1,
                Some(c) => return Ok(c == b),
                None => return Ok(false),
            }
        }
    }

    pub(crate) fn expect(&mut self, want: u8, inside: &str) -> Result<()> {
        match self.next_token_byte()? {
            Some(b) if b == want => Ok(()),
            other => Err(self.unexpected(other, inside)),
        }
    }

    /// Reads a string body (after its opening quote) into `out`, decoding escapes leniently:
    /// a lone surrogate (Bun writes `\ud800`) becomes U+FFFD instead of an error.
    pub(crate) fn read_string_body(&mut self, out: &mut Vec<u8>) -> Result<()> {
        loop {
            let rest = &self.buf[self.pos..];
            match memchr::memchr2(b'"', b'\\', rest) {
                Some(k) => {
                    out.extend_from_slice(&rest[..k]);
                    let stop = rest[k];
                    self.pos += k + 1;
                    if stop == b'"' {
                        return Ok(());
                    }
                    self.read_escape(out)?;
                }
                None => {
                    out.extend_from_slice(rest);
                    self.pos = self.buf.len();
                    if !self.refill()? {
                        return Err(truncated("the file ends inside a string"));
                    }
                }
            }
        }
    }

    fn read_escape(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let c = self.next_byte()?.ok_or_else(|| truncated("the file ends inside a string"))?;
        let simple = match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let unit = self.read_hex4()?;
                return self.push_utf16_unit(unit, out);
            }
            // Unknown escapes are kept as the character itself rather than failing the file.
            other => other,
        };
        out.push(simple);
        Ok(())
    }

    /// Handles one `\uXXXX` code unit, pairing a high surrogate with a following low one.
    fn push_utf16_unit(&mut self, unit: u16, out: &mut Vec<u8>) -> Result<()> {
        let mut unit = unit;
        loop {
            if !(0xD800..0xDC00).contains(&unit) {
                push_char(out, char::from_u32(unit as u32).unwrap_or('\u{FFFD}'));
                return Ok(());
            }
            // A high surrogate: only a directly following `\uDC00..\uDFFF` completes it.
            if self.peek()? != Some(b'\\') {
                push_char(out, '\u{FFFD}');
                return Ok(());
            }
            self.pos += 1;
            if self.peek()? != Some(b'u') {
                push_char(out, '\u{FFFD}');
                return self.read_escape(out);
            }
            self.pos += 1;
            let low = self.read_hex4()?;
            if (0xDC00..0xE000).contains(&low) {
                let cp = 0x10000 + (((unit as u32) - 0xD800) << 10) + (low as u32 - 0xDC00);
                push_char(out, char::from_u32(cp).unwrap_or('\u{FFFD}'));
                return Ok(());
            }
            push_char(out, '\u{FFFD}');
            unit = low;
        }
    }

    fn read_hex4(&mut self) -> Result<u16> {
        let mut v: u16 = 0;
        for _ in 0..4 {
            let b = self.next_byte()?.ok_or_else(|| truncated("the file ends inside a string"))?;
            let d = (b as char).to_digit(16).ok_or_else(|| {
                SnapshotError::from(ErrorKind::NotJson(format!(
                    "bad \\u escape ({}) at byte {}",
                    describe_byte(b),
                    self.offset() - 1
                )))
            })?;
            v = v * 16 + d as u16;
        }
        Ok(v)
    }

    /// Reads a short string (an object key) after its opening quote.
    pub(crate) fn read_key(&mut self) -> Result<String> {
        let mut bytes = Vec::new();
        self.read_string_body(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Reads `[n, n, …]` of non-negative integers, handing each to `sink`. This is the hot
    /// loop of the whole reader: one pass over the bytes, no allocation, no token copies.
    /// Returns how many numbers were read.
    pub(crate) fn read_uint_array<F>(&mut self, what: &str, mut sink: F) -> Result<u64>
    where
        F: FnMut(u64) -> Result<()>,
    {
        self.expect(b'[', &format!("where the '{what}' array should start"))?;
        let mut value: u64 = 0;
        let mut digits: u32 = 0;
        let mut count: u64 = 0;
        loop {
            let buf = &self.buf[..];
            let mut i = self.pos;
            while i < buf.len() {
                let b = buf[i];
                let d = b.wrapping_sub(b'0');
                if d < 10 {
                    value = value.wrapping_mul(10).wrapping_add(d as u64);
                    digits += 1;
                    i += 1;
                    continue;
                }
                if digits > 0 {
                    if digits > 19 {
                        self.pos = i;
                        return Err(ErrorKind::Corrupt(format!(
                            "a number in '{what}' has {digits} digits (value {count})"
                        ))
                        .into());
                    }
                    sink(value)?;
                    count += 1;
                    value = 0;
                    digits = 0;
                }
                match b {
                    b',' | b' ' | b'\n' | b'\r' | b'\t' => i += 1,
                    b']' => {
                        self.pos = i + 1;
                        return Ok(count);
                    }
                    other => {
                        self.pos = i + 1;
                        let inside = format!("in the '{what}' array (value {count})");
                        return Err(match other {
                            b'-' | b'.' | b'e' | b'E' => ErrorKind::Corrupt(format!(
                                "a number that is not a non-negative integer {inside}"
                            ))
                            .into(),
                            _ => self.unexpected(Some(other), &inside),
                        });
                    }
                }
            }
            self.pos = i;
            if !self.refill()? {
                return Err(truncated(format!(
                    "the file ends inside the '{what}' array, after {count} values"
                )));
            }
        }
    }

    /// Reads the top-level `strings` array into a string table.
    pub(crate) fn read_strings_into(
        &mut self,
        table: &mut crate::strings::StringTable,
    ) -> Result<u64> {
        self.expect(b'[', "where the 'strings' array should start")?;
        let mut count = 0u64;
        match self.next_token_byte()? {
            Some(b']') => return Ok(0),
            Some(b'"') => {}
            other => return Err(self.unexpected(other, "in the 'strings' array")),
        }
        loop {
            self.read_string_body(table.open_bytes())?;
            table.finish_string();
            count += 1;
            match self.next_token_byte()? {
                Some(b',') => {}
                Some(b']') => return Ok(count),
                other => {
                    return Err(self.unexpected(other, &format!("after string {count} of 'strings'")))
                }
            }
            match self.next_token_byte()? {
                Some(b'"') => {}
                other => return Err(self.unexpected(other, "in the 'strings' array")),
            }
        }
    }

    /// Skips one JSON value of any shape (arrays we do not use, such as `trace_tree`).
    pub(crate) fn skip_value(&mut self, what: &str) -> Result<()> {
        self.scan_value(what, None)
    }

    /// Copies one JSON value's text into `out` (used for the small `snapshot` header).
    pub(crate) fn capture_value(&mut self, what: &str, out: &mut Vec<u8>) -> Result<()> {
        self.scan_value(what, Some(out))
    }

    fn scan_value(&mut self, what: &str, mut out: Option<&mut Vec<u8>>) -> Result<()> {
        let inside = format!("inside '{what}'");
        let first = self.next_token_byte()?;
        let Some(first) = first else { return Err(self.unexpected(None, &inside)) };
        let mut depth: u32 = 0;
        let mut b = first;
        loop {
            if let Some(o) = out.as_deref_mut() {
                o.push(b);
            }
            match b {
                b'"' => {
                    // Copy the raw string text, escapes untouched, up to the closing quote.
                    let mut escaped = false;
                    loop {
                        let c = self.next_byte()?.ok_or_else(|| self.unexpected(None, &inside))?;
                        if let Some(o) = out.as_deref_mut() {
                            o.push(c);
                        }
                        if escaped {
                            escaped = false;
                        } else if c == b'\\' {
                            escaped = true;
                        } else if c == b'"' {
                            break;
                        }
                    }
                }
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    if depth == 0 {
                        return Err(self.unexpected(Some(b), &inside));
                    }
                    depth -= 1
                }
                _ => {}
            }
            if depth == 0 {
                // A scalar ends at the next delimiter, which belongs to the caller.
                if b != b'"' && b != b']' && b != b'}' {
                    while let Some(c) = self.peek()? {
                        if matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                            break;
                        }
                        if let Some(o) = out.as_deref_mut() {
                            o.push(c);
                        }
                        self.pos += 1;
                    }
                }
                return Ok(());
            }
            b = self.next_byte()?.ok_or_else(|| self.unexpected(None, &inside))?;
        }
    }
}

fn push_char(out: &mut Vec<u8>, c: char) {
    let mut tmp = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
}

fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}
