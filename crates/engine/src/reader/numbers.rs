//! Scanning runs of non-negative integers (`1,22,333`), the bulk of every heap snapshot.
//!
//! Two tricks carry the speed. Eight bytes are classified and converted at once (SWAR), so
//! a typical 1–8 digit number costs a handful of instructions instead of a loop per digit.
//! And the reader thread tokenizes each block as it arrives ([`Tokens`]), speculatively,
//! while the parser thread is busy storing the previous block's numbers: blocks inside the
//! `nodes` and `edges` arrays, which is nearly all of them, reach the parser already split.

/// What a number array may not hold, found while scanning it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bad {
    /// More digits than any `u64` has.
    TooLong,
    /// `007`: JSON allows no leading zero.
    LeadingZero,
    /// Two numbers with only white space between them.
    MissingComma,
    /// A comma with no number before it (`[,1`, `1,,2`) or after it (`1,]`).
    ExtraComma,
}

impl Bad {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Bad::TooLong => "a number with more than 19 digits",
            Bad::LeadingZero => "a number with a leading zero",
            Bad::MissingComma => "two numbers without a comma between them",
            Bad::ExtraComma => "a comma without a number on both sides",
        }
    }
}

/// The last significant byte of a number array before the scan position: what may follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Prev {
    /// The array's `[`: a number or `]`.
    #[default]
    Open,
    /// A number: a comma, white space or `]`.
    Number,
    /// A comma: a number.
    Comma,
    /// Not known: a block scanned ahead without knowing what came before it.
    Unknown,
}

/// Where a scan of a number array stands between two calls: a number cut by the end of a
/// buffer and what came last.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ScanState {
    pub carry: Carry,
    pub prev: Prev,
    /// The first number or comma met while `prev` was `Unknown`, for the caller to check
    /// once it knows what came before.
    pub first: Option<Prev>,
}

/// A number cut off by the end of a block: its value so far and how many digits it has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Carry {
    pub value: u64,
    pub digits: u32,
}

/// More digits than any `u64` has: the file is not a heap snapshot we can trust.
#[derive(Debug)]
pub(crate) struct TooManyDigits;

impl Carry {
    /// Appends `more` digits (the continuation in the next block).
    pub fn extend(&mut self, more: Carry) -> Result<(), TooManyDigits> {
        self.digits += more.digits;
        if self.digits > 19 {
            return Err(TooManyDigits);
        }
        self.value = self.value * 10u64.pow(more.digits) + more.value;
        Ok(())
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// Per byte of `x = bytes ^ 0x30…`: high bit set where the byte is not an ASCII digit.
/// (A carry out of a non-digit byte can only disturb bytes above it, never the first
/// non-digit, which is all callers look at.)
#[inline(always)]
fn non_digit_mask(x: u64) -> u64 {
    (x.wrapping_add(0x76 * ONES) | x) & (0x80 * ONES)
}

/// The value of 8 digit bytes (0–9 each, most significant first in memory).
#[inline(always)]
fn eight_digits(v: u64) -> u64 {
    let v = (v & 0x0F0F_0F0F_0F0F_0F0F).wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32
}

const POW10: [u64; 19] = {
    let mut t = [1u64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// Whether a complete number of `digits` digits and value `v` is one JSON allows here.
#[inline(always)]
pub(crate) fn check_number(v: u64, digits: u32) -> Result<(), Bad> {
    if digits > 19 {
        Err(Bad::TooLong)
    } else if digits > 1 && v < POW10[digits as usize - 1] {
        Err(Bad::LeadingZero)
    } else {
        Ok(())
    }
}

/// Reads the digits starting at `buf[i]`. Returns the number's value, its digit count (0 if
/// `buf[i]` is no digit) and the index after it; the number may end at `buf.len()` (then it
/// may continue in the next block).
#[inline(always)]
fn read_digits(buf: &[u8], i: usize) -> (u64, u32, usize) {
    if i + 8 <= buf.len() {
        let x = u64::from_le_bytes(buf[i..i + 8].try_into().unwrap()) ^ (0x30 * ONES);
        let mask = non_digit_mask(x);
        if mask != 0 {
            // The common case: the whole number and its delimiter sit in one 8-byte window.
            let len = mask.trailing_zeros() / 8;
            if len == 0 {
                return (0, 0, i);
            }
            // Shift the `len` digits to the top: the zero bytes below read as leading zeros.
            return (eight_digits(x << (64 - 8 * len)), len, i + len as usize);
        }
    }
    read_digits_slow(buf, i)
}

/// Numbers of eight digits or more, and numbers near the end of a block.
#[cold]
fn read_digits_slow(buf: &[u8], mut i: usize) -> (u64, u32, usize) {
    let mut value = 0u64;
    let mut digits = 0u32;
    while i + 8 <= buf.len() {
        let x = u64::from_le_bytes(buf[i..i + 8].try_into().unwrap()) ^ (0x30 * ONES);
        let mask = non_digit_mask(x);
        if mask != 0 {
            let len = mask.trailing_zeros() / 8;
            if len > 0 {
                value = value
                    .wrapping_mul(POW10[len as usize])
                    .wrapping_add(eight_digits(x << (64 - 8 * len)));
            }
            return (value, digits + len, i + len as usize);
        }
        value = value
            .wrapping_mul(100_000_000)
            .wrapping_add(eight_digits(x));
        digits += 8;
        i += 8;
    }
    while i < buf.len() {
        let d = buf[i].wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(d as u64);
        digits += 1;
        i += 1;
    }
    (value, digits, i)
}

/// Scans `buf[i..]`: integers separated by commas (white space allowed around them), as
/// JSON has them. Each complete number goes to `sink`; a number running into the end of
/// `buf` is left in `state.carry` (which on entry holds the cut number from the previous
/// block, if any). Returns where the scan stopped: the first byte that is neither digit,
/// comma nor white space, or `buf.len()`. `bad` turns a fault and its index in `buf` into
/// the caller's error.
#[inline(always)]
pub(crate) fn scan_uints<E>(
    buf: &[u8],
    mut i: usize,
    state: &mut ScanState,
    sink: &mut impl FnMut(u64) -> Result<(), E>,
    bad: impl Fn(Bad, usize) -> E,
) -> Result<usize, E> {
    // Finish a number cut at the previous block's end.
    if state.carry.digits > 0 {
        let (v, d, next) = read_digits(buf, i);
        state
            .carry
            .extend(Carry {
                value: v,
                digits: d,
            })
            .map_err(|_| bad(Bad::TooLong, i))?;
        i = next;
        if i == buf.len() {
            return Ok(i);
        }
        let c = std::mem::take(&mut state.carry);
        check_number(c.value, c.digits).map_err(|b| bad(b, i))?;
        sink(c.value)?;
    }
    #[cfg(target_arch = "x86_64")]
    {
        match simd::scan_chunks(buf, i, state, sink, &bad)? {
            simd::Outcome::Stopped(at) => return Ok(at),
            simd::Outcome::Continue(at) => i = at,
        }
    }
    while i < buf.len() {
        let b = buf[i];
        if b.wrapping_sub(b'0') < 10 {
            match state.prev {
                Prev::Number => return Err(bad(Bad::MissingComma, i)),
                Prev::Unknown => state.first = Some(Prev::Number),
                Prev::Open | Prev::Comma => {}
            }
            state.prev = Prev::Number;
            let (v, d, next) = read_digits(buf, i);
            if d > 19 {
                return Err(bad(Bad::TooLong, i));
            }
            if next == buf.len() {
                state.carry = Carry {
                    value: v,
                    digits: d,
                };
                return Ok(next);
            }
            check_number(v, d).map_err(|b| bad(b, i))?;
            sink(v)?;
            i = next;
            continue;
        }
        match b {
            b',' => {
                match state.prev {
                    Prev::Number => {}
                    Prev::Unknown => state.first = Some(Prev::Comma),
                    Prev::Open | Prev::Comma => return Err(bad(Bad::ExtraComma, i)),
                }
                state.prev = Prev::Comma;
                i += 1;
            }
            b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            _ => return Ok(i),
        }
    }
    Ok(i)
}

/// Finding numbers 64 bytes at a time with SSE2 (part of every x86-64 CPU): bit masks say
/// where numbers start, where commas and white space are and where the array ends, so
/// parsing one number no longer waits for the previous one's length, and the CPU overlaps
/// them. The same masks check the separators, a few operations per 64 bytes.
#[cfg(target_arch = "x86_64")]
mod simd {
    use super::{read_digits, Bad, Prev, ScanState};
    use std::arch::x86_64::*;

    pub(super) enum Outcome {
        /// Hit a byte that is no digit, comma or white space, at this index.
        Stopped(usize),
        /// Fewer than 64 bytes (plus a number's worth) left: continue from here byte-wise.
        Continue(usize),
    }

    /// One bit per byte of a 64-byte chunk.
    struct Masks {
        digits: u64,
        zeros: u64,
        commas: u64,
        space: u64,
    }

    #[inline(always)]
    fn classify(chunk: &[u8; 64]) -> Masks {
        let mut m = Masks {
            digits: 0,
            zeros: 0,
            commas: 0,
            space: 0,
        };
        for k in 0..4 {
            // SAFETY: SSE2 is part of the x86-64 baseline; the load reads 16 bytes that lie
            // inside `chunk` (unaligned loads are allowed).
            let (d, z, c, w) = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k) as *const __m128i);
                let is = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
                // digit: (b - '0') < 10 unsigned, done as a signed compare after flipping bit 7
                let x = _mm_xor_si128(
                    _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8)),
                    _mm_set1_epi8(-128),
                );
                let d = _mm_cmplt_epi8(x, _mm_set1_epi8((10u8 ^ 0x80) as i8));
                let w = _mm_or_si128(
                    _mm_or_si128(is(b'\n'), is(b' ')),
                    _mm_or_si128(is(b'\r'), is(b'\t')),
                );
                (
                    _mm_movemask_epi8(d) as u16 as u64,
                    _mm_movemask_epi8(is(b'0')) as u16 as u64,
                    _mm_movemask_epi8(is(b',')) as u16 as u64,
                    _mm_movemask_epi8(w) as u16 as u64,
                )
            };
            m.digits |= d << (16 * k);
            m.zeros |= z << (16 * k);
            m.commas |= c << (16 * k);
            m.space |= w << (16 * k);
        }
        m
    }

    /// Scans whole 64-byte chunks from `i` (which is not inside a number). Stops early at a
    /// byte that ends the array; leaves the last partial chunk to the caller.
    #[inline(always)]
    pub(super) fn scan_chunks<E>(
        buf: &[u8],
        mut i: usize,
        state: &mut ScanState,
        sink: &mut impl FnMut(u64) -> Result<(), E>,
        bad: &impl Fn(Bad, usize) -> E,
    ) -> Result<Outcome, E> {
        // Keep 64 bytes of slack so a number starting in the chunk can be read whole.
        while i + 128 <= buf.len() {
            let chunk: &[u8; 64] = buf[i..i + 64].try_into().unwrap();
            let m = classify(chunk);
            let others = !(m.digits | m.commas | m.space);
            let (limit, below) = if others != 0 {
                let l = others.trailing_zeros();
                (l, (1u64 << l) - 1)
            } else {
                (64, u64::MAX)
            };
            let digits = m.digits & below;
            let commas = m.commas & below;
            let space = m.space & below;
            // A digit starts a number unless a digit precedes it (the byte before the chunk
            // is never a digit: `i` always sits after a complete number).
            let mut starts = digits & !(digits << 1);

            // Separators: after each number's last digit, and after each comma, the next
            // byte that is not white space is found by letting a carry run through the white
            // space (adding a bit at the run's start ripples it to the run's end). After a
            // number that byte must not be a digit, after a comma not a comma.
            let ends = digits & !(digits >> 1);
            let (num_in, comma_in) = match state.prev {
                Prev::Number => (1, 0),
                Prev::Open | Prev::Comma => (0, 1),
                Prev::Unknown => {
                    let sig = digits | commas;
                    if sig != 0 {
                        let lowest = sig & sig.wrapping_neg();
                        state.first = Some(if commas & lowest != 0 {
                            Prev::Comma
                        } else {
                            Prev::Number
                        });
                    }
                    (0, 0)
                }
            };
            let after_number = ((ends << 1) | num_in).wrapping_add(space) & !space;
            let after_comma = ((commas << 1) | comma_in).wrapping_add(space) & !space;
            let faults = (after_number & digits) | (after_comma & commas);
            if faults != 0 {
                let at = faults.trailing_zeros();
                let kind = if digits >> at & 1 != 0 {
                    Bad::MissingComma
                } else {
                    Bad::ExtraComma
                };
                return Err(bad(kind, i + at as usize));
            }
            let sig = digits | commas;
            if sig != 0 {
                let top = 63 - sig.leading_zeros();
                state.prev = if commas >> top & 1 != 0 {
                    Prev::Comma
                } else {
                    Prev::Number
                };
            }
            // A number starting with 0 and followed by a digit has a leading zero. A 0 in
            // the last byte may go on in the next chunk: read it to know.
            let zero_first = starts & m.zeros & ((digits >> 1) | 1 << 63);
            if zero_first != 0 {
                let mut z = zero_first;
                while z != 0 {
                    let s = z.trailing_zeros() as usize;
                    z &= z - 1;
                    if read_digits(buf, i + s).1 > 1 {
                        return Err(bad(Bad::LeadingZero, i + s));
                    }
                }
            }

            let mut end = i;
            while starts != 0 {
                let s = starts.trailing_zeros() as usize;
                starts &= starts - 1;
                let (v, d, next) = read_digits(buf, i + s);
                if d > 19 {
                    return Err(bad(Bad::TooLong, i + s));
                }
                sink(v)?;
                end = next;
            }
            if limit < 64 {
                return Ok(Outcome::Stopped(i + limit as usize));
            }
            // Resume after the last number if it ran past the chunk, else at the next chunk.
            i = end.max(i + 64);
        }
        Ok(Outcome::Continue(i))
    }
}

/// A block's numbers, found by the reader thread without knowing whether the block lies in
/// a number array at all; the parser uses them only when it enters the block inside one.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    /// Digits at the very start of the block: the end of a number the previous block cut,
    /// or a number of its own if the previous block ended with a separator.
    pub lead: Carry,
    /// True when `lead` ends inside the block (a delimiter follows it).
    pub lead_closed: bool,
    /// Every complete number after `lead`, in order.
    pub numbers: Vec<u64>,
    /// A number running into the end of the block.
    pub tail: Carry,
    /// Where scanning stopped (see [`scan_uints`]); `numbers` covers bytes before it.
    pub stop: usize,
    /// Without a lead: the first number or comma, which the previous block must allow.
    pub first: Option<Prev>,
    /// What came last before `stop` (`Unknown` if nothing did).
    pub prev: Prev,
    /// No usable tokens: the block was not scanned (the parser was idle, so the reader left
    /// the work to it) or broke a rule (the parser scans it again to say where).
    pub failed: bool,
}

impl Tokens {
    /// Marks the block as not scanned: the parser scans it itself.
    pub(crate) fn skip(&mut self) {
        self.numbers.clear();
        self.failed = true;
    }

    pub(crate) fn scan(&mut self, buf: &[u8]) {
        self.numbers.clear();
        self.failed = false;
        let (v, d, i) = read_digits(buf, 0);
        self.lead = Carry {
            value: v,
            digits: d,
        };
        self.lead_closed = i < buf.len();
        self.first = None;
        if d > 19 {
            self.failed = true;
            return;
        }
        if !self.lead_closed {
            self.tail = Carry::default();
            self.stop = buf.len();
            self.prev = Prev::Number;
            return;
        }
        let mut state = ScanState {
            prev: if d > 0 { Prev::Number } else { Prev::Unknown },
            ..ScanState::default()
        };
        let numbers = &mut self.numbers;
        let scanned = scan_uints(
            buf,
            i,
            &mut state,
            &mut |v| {
                numbers.push(v);
                Ok::<(), ()>(())
            },
            |_, _| (),
        );
        match scanned {
            Ok(stop) => {
                self.stop = stop;
                self.tail = state.carry;
                self.first = state.first;
                self.prev = state.prev;
            }
            Err(()) => self.failed = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scans `text` from the start of an array (just after `[`).
    fn scan(text: &str) -> Result<(Vec<u64>, ScanState, usize), (Bad, usize)> {
        let mut out = Vec::new();
        let mut state = ScanState::default();
        let stop = scan_uints(
            text.as_bytes(),
            0,
            &mut state,
            &mut |v| {
                out.push(v);
                Ok(())
            },
            |b, at| (b, at),
        )?;
        Ok((out, state, stop))
    }

    fn scan_all(text: &str) -> (Vec<u64>, Carry, usize) {
        let (out, state, stop) = scan(text).unwrap();
        (out, state.carry, stop)
    }

    /// Long enough for the 64-byte chunks, with the fault `at` bytes in.
    fn padded(at: usize, fault: &str) -> (String, usize) {
        let mut text = String::new();
        while text.len() < at {
            text.push_str("7,");
        }
        let pos = text.len();
        text.push_str(fault);
        while text.len() < at + 300 {
            text.push_str(",7");
        }
        text.push(']');
        (text, pos)
    }

    #[test]
    fn reads_numbers_of_every_length() {
        let mut text = String::new();
        let mut want = Vec::new();
        let mut v = 0u64;
        for digits in 1..=19 {
            v = v * 10 + (digits % 10) as u64;
            want.push(v);
            text.push_str(&v.to_string());
            text.push_str(match digits % 3 {
                0 => ",\n",
                1 => "\n,",
                _ => ",",
            });
        }
        text.push_str("0]");
        want.push(0);
        let (got, carry, stop) = scan_all(&text);
        assert_eq!(got, want);
        assert_eq!(carry, Carry::default());
        assert_eq!(&text[stop..], "]");
    }

    #[test]
    fn leaves_a_cut_number_in_the_carry() {
        let (got, carry, stop) = scan_all("1,22,3334");
        assert_eq!(got, vec![1, 22]);
        assert_eq!(
            carry,
            Carry {
                value: 3334,
                digits: 4
            }
        );
        assert_eq!(stop, 9);
        let mut c = carry;
        c.extend(Carry {
            value: 5,
            digits: 1,
        })
        .unwrap();
        assert_eq!(c.value, 33345);
    }

    #[test]
    fn zero_digits_inside_a_cut_number_count() {
        // "10" + "05" is 1005, not 105.
        let mut c = Carry {
            value: 10,
            digits: 2,
        };
        c.extend(Carry {
            value: 5,
            digits: 2,
        })
        .unwrap();
        assert_eq!(c.value, 1005);
    }

    #[test]
    fn rejects_twenty_digits() {
        assert_eq!(scan("123456789012345678901,").unwrap_err().0, Bad::TooLong);
        let (text, at) = padded(200, "123456789012345678901");
        assert_eq!(scan(&text).unwrap_err(), (Bad::TooLong, at));
    }

    #[test]
    fn separators_and_leading_zeros_follow_json() {
        for (fault, bad, offset) in [
            ("1 2", Bad::MissingComma, 2),
            ("1\n \n2", Bad::MissingComma, 4),
            ("1,,2", Bad::ExtraComma, 2),
            ("1, \n,2", Bad::ExtraComma, 4),
            ("07", Bad::LeadingZero, 0),
            ("00", Bad::LeadingZero, 0),
        ] {
            // Short: the byte-wise path; long, at every alignment: the 64-byte chunks.
            let (short, _) = padded(0, fault);
            assert_eq!(scan(&short).unwrap_err(), (bad, offset), "{fault:?}");
            for at in 130..200 {
                let at = at & !1; // the padding comes in pairs
                let (text, pos) = padded(at, fault);
                assert_eq!(
                    scan(&text).unwrap_err(),
                    (bad, pos + offset),
                    "{fault:?} at {at}"
                );
            }
        }
        // A comma right after `[` (the state a scan starts in).
        assert_eq!(scan(",1]").unwrap_err(), (Bad::ExtraComma, 0));
        let long = format!(",{}]", "1,".repeat(100) + "1");
        assert_eq!(scan(&long).unwrap_err(), (Bad::ExtraComma, 0));
        // What JSON allows: white space around commas, zero itself, zeros inside numbers.
        let ok = "0 , 10\n,\t100\r\n, 0,1000000000000000000 ]";
        let (got, _, _) = scan_all(ok);
        assert_eq!(got, vec![0, 10, 100, 0, 1_000_000_000_000_000_000]);
        let long = "0,100,\n".repeat(40) + "]";
        assert_eq!(scan_all(&long).0.len(), 80);
    }

    #[test]
    fn tokens_split_lead_numbers_and_tail() {
        let mut t = Tokens::default();
        t.scan(b"45,6,78\n,9");
        assert_eq!(
            t.lead,
            Carry {
                value: 45,
                digits: 2
            }
        );
        assert!(t.lead_closed);
        assert_eq!(t.numbers, vec![6, 78]);
        assert_eq!(
            t.tail,
            Carry {
                value: 9,
                digits: 1
            }
        );
        assert_eq!(t.prev, Prev::Number);
        t.scan(b"],\"strings\":[\"1,2\"");
        assert_eq!(t.lead.digits, 0);
        assert_eq!(t.stop, 0);
        // Without a lead, the first comma or number is left for the parser to check.
        t.scan(b"\n,5,6");
        assert_eq!((t.first, t.prev), (Some(Prev::Comma), Prev::Number));
        t.scan(b" 5,6,");
        assert_eq!((t.first, t.prev), (Some(Prev::Number), Prev::Comma));
    }
}
