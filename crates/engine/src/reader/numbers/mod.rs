//! Scanning runs of non-negative integers (`1,22,333`), the bulk of every heap snapshot.
//!
//! Two tricks carry the speed. Eight bytes are classified and converted at once (SWAR), so
//! a typical 1–8 digit number costs a handful of instructions instead of a loop per digit.
//! And the reader thread tokenizes each block as it arrives ([`Tokens`]), speculatively,
//! while the parser thread is busy storing the previous block's numbers: blocks inside the
//! `nodes` and `edges` arrays, which is nearly all of them, reach the parser already split.

#[cfg(target_arch = "x86_64")]
mod simd;
#[cfg(test)]
mod tests;
mod tokens;

pub(crate) use tokens::Tokens;

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
