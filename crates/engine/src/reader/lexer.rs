//! A streaming JSON tokenizer specialised for heap snapshots: long arrays of non-negative
//! integers and one long array of strings. Nothing is ever held as a JSON tree and no token
//! needs to sit whole in one block: numbers and strings are carried across block boundaries.

use super::blocks::{Block, Blocks};
use super::numbers::{check_number, scan_uints, Bad, Prev, ScanState};
use crate::error::{ErrorKind, Result, SnapshotError};

pub(crate) struct Lexer {
    blocks: Blocks,
    block: Block,
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
        Lexer {
            blocks,
            block: Block::default(),
            pos: 0,
            base: 0,
            eof: false,
        }
    }

    /// Loads the next block; false at end of input.
    fn refill(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        self.base += self.block.bytes.len() as u64;
        let spent = std::mem::take(&mut self.block);
        match self.blocks.next(spent)? {
            Some(block) => {
                self.block = block;
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
        if self.pos < self.block.bytes.len() {
            return Ok(Some(self.block.bytes[self.pos]));
        }
        while self.refill()? {
            if self.pos < self.block.bytes.len() {
                return Ok(Some(self.block.bytes[self.pos]));
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

    /// Reads a string body (after its opening quote) into `out`, decoding escapes. Strict
    /// JSON, with one leniency: a lone surrogate (Bun writes `\ud800`) becomes U+FFFD
    /// instead of an error. Raw control characters and unknown escapes are refused. UTF-8
    /// is the caller's to check, once the whole string is decoded.
    pub(crate) fn read_string_body(&mut self, out: &mut Vec<u8>) -> Result<()> {
        loop {
            let rest = &self.block.bytes[self.pos..];
            let (k, found) = match memchr::memchr2(b'"', b'\\', rest) {
                Some(k) => (k, true),
                None => (rest.len(), false),
            };
            let text = &rest[..k];
            // The minimum of the run vectorizes; finding the culprit is the rare path.
            if text.iter().fold(u8::MAX, |m, &b| m.min(b)) < 0x20 {
                let at = text.iter().position(|&b| b < 0x20).unwrap_or(0);
                return Err(ErrorKind::NotJson(format!(
                    "a raw control character ({}) inside a string at byte {}",
                    describe_byte(text[at]),
                    self.offset() + at as u64
                ))
                .into());
            }
            out.extend_from_slice(text);
            if found {
                let stop = rest[k];
                self.pos += k + 1;
                if stop == b'"' {
                    return Ok(());
                }
                self.read_escape(out)?;
            } else {
                self.pos = self.block.bytes.len();
                if !self.refill()? {
                    return Err(truncated("the file ends inside a string"));
                }
            }
        }
    }

    fn read_escape(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let c = self
            .next_byte()?
            .ok_or_else(|| truncated("the file ends inside a string"))?;
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
            other => {
                return Err(ErrorKind::NotJson(format!(
                    "a bad escape (\\ then {}) inside a string at byte {}",
                    describe_byte(other),
                    self.offset() - 2
                ))
                .into())
            }
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
            let b = self
                .next_byte()?
                .ok_or_else(|| truncated("the file ends inside a string"))?;
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
        String::from_utf8(bytes).map_err(|_| not_utf8("an object key"))
    }

    /// Reads `[n, n, …]` of non-negative integers, handing them to `sink` in batches (slices
    /// in file order; a record may straddle two batches). This is the hot loop of the whole
    /// reader: whole blocks come pre-split by the reader thread and go to `sink` as they are;
    /// only the block where the array starts or ends is scanned here. Returns the count.
    pub(crate) fn read_uint_array<F>(&mut self, what: &str, mut sink: F) -> Result<u64>
    where
        F: FnMut(&[u64]) -> Result<()>,
    {
        self.expect(b'[', &format!("where the '{what}' array should start"))?;
        let mut count: u64 = 0;
        let fault = |kind: Bad, at: u64| -> SnapshotError {
            ErrorKind::Corrupt(format!(
                "{} in the '{what}' array at byte {at}",
                kind.describe()
            ))
            .into()
        };
        let mut state = ScanState::default();
        let mut batch: Vec<u64> = Vec::new();
        loop {
            let base = self.base;
            let stop = scan_uints(
                &self.block.bytes,
                self.pos,
                &mut state,
                &mut |v| {
                    batch.push(v);
                    Ok(())
                },
                |kind, at| fault(kind, base + at as u64),
            )?;
            count += batch.len() as u64;
            sink(&batch)?;
            batch.clear();
            self.pos = stop;
            if stop < self.block.bytes.len() {
                let b = self.block.bytes[stop];
                self.pos += 1;
                if b == b']' {
                    if state.prev == Prev::Comma {
                        return Err(fault(Bad::ExtraComma, self.offset() - 1));
                    }
                    return Ok(count);
                }
                let inside = format!("in the '{what}' array");
                return Err(match b {
                    b'-' | b'.' | b'e' | b'E' => ErrorKind::Corrupt(format!(
                        "a number that is not a non-negative integer {inside}"
                    ))
                    .into(),
                    _ => self.unexpected(Some(b), &inside),
                });
            }
            // The rest of the array continues in the next block(s), which the reader thread
            // has already split into numbers: take those instead of scanning again.
            loop {
                if !self.refill()? {
                    return Err(truncated(format!(
                        "the file ends inside the '{what}' array, after {count} values"
                    )));
                }
                let t = &self.block.tokens;
                if t.failed {
                    break; // scan this block byte by byte; it will report the problem
                }
                let at = self.base;
                let carry = &mut state.carry;
                if t.lead.digits > 0 {
                    // Digits right at the start continue a cut number, or begin one.
                    if carry.digits == 0 && state.prev == Prev::Number {
                        return Err(fault(Bad::MissingComma, at));
                    }
                    carry.extend(t.lead).map_err(|_| fault(Bad::TooLong, at))?;
                    state.prev = Prev::Number;
                    if !t.lead_closed {
                        self.pos = self.block.bytes.len();
                        continue; // the whole block was one number's middle
                    }
                } else {
                    // The block's first number or comma must fit what ended the last one.
                    match (t.first, state.prev) {
                        (Some(Prev::Comma), Prev::Open | Prev::Comma) => {
                            return Err(fault(Bad::ExtraComma, at))
                        }
                        (Some(Prev::Number), Prev::Number) => {
                            return Err(fault(Bad::MissingComma, at))
                        }
                        _ => {}
                    }
                }
                if carry.digits > 0 {
                    check_number(carry.value, carry.digits).map_err(|b| fault(b, at))?;
                    count += 1;
                    sink(&[carry.value])?;
                }
                count += t.numbers.len() as u64;
                sink(&t.numbers)?;
                state.carry = t.tail;
                if t.prev != Prev::Unknown {
                    state.prev = t.prev;
                }
                self.pos = t.stop;
                break;
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
            if !table.finish_string() {
                return Err(not_utf8(&format!("string {count} of 'strings'")));
            }
            count += 1;
            match self.next_token_byte()? {
                Some(b',') => {}
                Some(b']') => return Ok(count),
                other => {
                    return Err(
                        self.unexpected(other, &format!("after string {count} of 'strings'"))
                    )
                }
            }
            match self.next_token_byte()? {
                Some(b'"') => {}
                other => return Err(self.unexpected(other, "in the 'strings' array")),
            }
        }
    }

    /// Skips one JSON value of any shape (arrays we do not use, such as `trace_tree`),
    /// checking that it is valid JSON.
    pub(crate) fn skip_value(&mut self, what: &str) -> Result<()> {
        self.scan_value(what, None)
    }

    /// Copies one JSON value into `out` (used for the small `snapshot` header), checked
    /// like [`Lexer::skip_value`]; white space is dropped and strings are re-escaped.
    pub(crate) fn capture_value(&mut self, what: &str, out: &mut Vec<u8>) -> Result<()> {
        self.scan_value(what, Some(out))
    }

    /// Walks one value token by token. Open containers are kept on a heap stack (one byte
    /// each), so no nesting depth can overflow the program's stack.
    fn scan_value(&mut self, what: &str, mut out: Option<&mut Vec<u8>>) -> Result<()> {
        #[derive(Clone, Copy)]
        enum Want {
            /// A value; `]` too right after `[`.
            Value { may_close: bool },
            /// A key; `}` too right after `{`.
            Key { may_close: bool },
            /// `,` or the byte closing the innermost container.
            CommaOrClose,
        }
        fn emit(out: &mut Option<&mut Vec<u8>>, text: &[u8]) {
            if let Some(o) = out.as_deref_mut() {
                o.extend_from_slice(text);
            }
        }
        let inside = format!("inside '{what}'");
        let mut closers: Vec<u8> = Vec::new();
        let mut text = Vec::new();
        let mut want = Want::Value { may_close: false };
        loop {
            let Some(b) = self.next_token_byte()? else {
                return Err(self.unexpected(None, &inside));
            };
            let closes = closers.last() == Some(&b);
            match (want, b) {
                (Want::Value { may_close: true }, b']')
                | (Want::Key { may_close: true }, b'}')
                | (Want::CommaOrClose, _)
                    if closes =>
                {
                    closers.pop();
                    emit(&mut out, &[b]);
                }
                (Want::Value { .. }, b'[') => {
                    closers.push(b']');
                    emit(&mut out, &[b]);
                    want = Want::Value { may_close: true };
                    continue;
                }
                (Want::Value { .. }, b'{') => {
                    closers.push(b'}');
                    emit(&mut out, &[b]);
                    want = Want::Key { may_close: true };
                    continue;
                }
                (Want::Value { .. }, b'"') => {
                    self.scan_string(&mut text, &inside)?;
                    emit(&mut out, &text);
                }
                (Want::Value { .. }, b'-' | b'0'..=b'9') => {
                    self.scan_number(b, &mut text, &inside)?;
                    emit(&mut out, &text);
                }
                (Want::Value { .. }, b't' | b'f' | b'n') => {
                    let word: &[u8] = match b {
                        b't' => b"true",
                        b'f' => b"false",
                        _ => b"null",
                    };
                    for &want_byte in &word[1..] {
                        let got = self.next_byte()?;
                        if got != Some(want_byte) {
                            return Err(self.unexpected(got, &inside));
                        }
                    }
                    emit(&mut out, word);
                }
                (Want::Key { .. }, b'"') => {
                    self.scan_string(&mut text, &inside)?;
                    emit(&mut out, &text);
                    self.expect(b':', &inside)?;
                    emit(&mut out, b":");
                    want = Want::Value { may_close: false };
                    continue;
                }
                (Want::CommaOrClose, b',') => {
                    emit(&mut out, b",");
                    want = if closers.last() == Some(&b']') {
                        Want::Value { may_close: false }
                    } else {
                        Want::Key { may_close: false }
                    };
                    continue;
                }
                _ => return Err(self.unexpected(Some(b), &inside)),
            }
            // A value is complete.
            if closers.is_empty() {
                return Ok(());
            }
            want = Want::CommaOrClose;
        }
    }

    /// A string (after its opening quote), decoded and checked, left in `text` as JSON.
    fn scan_string(&mut self, text: &mut Vec<u8>, inside: &str) -> Result<()> {
        let mut raw = Vec::new();
        self.read_string_body(&mut raw)?;
        let s = String::from_utf8(raw).map_err(|_| not_utf8(&format!("a string {inside}")))?;
        text.clear();
        serde_json::to_writer(&mut *text, &s).expect("writing to memory cannot fail");
        Ok(())
    }

    /// A JSON number whose first byte (`-` or a digit) was just read, its text left in
    /// `text`: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    fn scan_number(&mut self, first: u8, text: &mut Vec<u8>, inside: &str) -> Result<()> {
        text.clear();
        text.push(first);
        let mut lead = first;
        if first == b'-' {
            lead = self.digit(text, inside)?;
        }
        if lead != b'0' {
            self.more_digits(text)?;
        }
        if self.peek()? == Some(b'.') {
            self.pos += 1;
            text.push(b'.');
            self.digit(text, inside)?;
            self.more_digits(text)?;
        }
        if let Some(e @ (b'e' | b'E')) = self.peek()? {
            self.pos += 1;
            text.push(e);
            if let Some(sign @ (b'+' | b'-')) = self.peek()? {
                self.pos += 1;
                text.push(sign);
            }
            self.digit(text, inside)?;
            self.more_digits(text)?;
        }
        Ok(())
    }

    /// One required digit.
    fn digit(&mut self, text: &mut Vec<u8>, inside: &str) -> Result<u8> {
        match self.next_byte()? {
            Some(d @ b'0'..=b'9') => {
                text.push(d);
                Ok(d)
            }
            other => Err(self.unexpected(other, inside)),
        }
    }

    fn more_digits(&mut self, text: &mut Vec<u8>) -> Result<()> {
        while let Some(d @ b'0'..=b'9') = self.peek()? {
            self.pos += 1;
            text.push(d);
        }
        Ok(())
    }
}

fn not_utf8(what: &str) -> SnapshotError {
    ErrorKind::NotJson(format!("{what} is not valid UTF-8")).into()
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
