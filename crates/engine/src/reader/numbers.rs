//! Scanning runs of non-negative integers (`1,22,333`), the bulk of every heap snapshot.
//!
//! Two tricks carry the speed. Eight bytes are classified and converted at once (SWAR), so
//! a typical 1–8 digit number costs a handful of instructions instead of a loop per digit.
//! And the reader thread tokenizes each block as it arrives ([`Tokens`]), speculatively,
//! while the parser thread is busy storing the previous block's numbers: blocks inside the
//! `nodes` and `edges` arrays, which is nearly all of them, reach the parser already split.

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

const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

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

/// Scans `buf[i..]`: integers separated by commas or white space. Each complete number goes
/// to `sink`; a number running into the end of `buf` is left in `carry` (which on entry holds
/// the cut number from the previous block, if any). Returns where the scan stopped: the first
/// byte that is neither digit, comma nor white space, or `buf.len()`.
#[inline(always)]
pub(crate) fn scan_uints<E>(
    buf: &[u8],
    mut i: usize,
    carry: &mut Carry,
    sink: &mut impl FnMut(u64) -> Result<(), E>,
    too_long: impl Fn() -> E,
) -> Result<usize, E> {
    // Finish a number cut at the previous block's end.
    if carry.digits > 0 {
        let (v, d, next) = read_digits(buf, i);
        carry
            .extend(Carry {
                value: v,
                digits: d,
            })
            .map_err(|_| too_long())?;
        i = next;
        if i == buf.len() {
            return Ok(i);
        }
        sink(carry.value)?;
        *carry = Carry::default();
    }
    #[cfg(target_arch = "x86_64")]
    {
        match simd::scan_chunks(buf, i, sink, &too_long)? {
            simd::Outcome::Stopped(at) => return Ok(at),
            simd::Outcome::Continue(at) => i = at,
        }
    }
    while i < buf.len() {
        let b = buf[i];
        if b.wrapping_sub(b'0') < 10 {
            let (v, d, next) = read_digits(buf, i);
            if d > 19 {
                return Err(too_long());
            }
            i = next;
            if i == buf.len() {
                *carry = Carry {
                    value: v,
                    digits: d,
                };
                return Ok(i);
            }
            sink(v)?;
            continue;
        }
        match b {
            b',' | b' ' | b'\n' | b'\r' | b'\t' => i += 1,
            _ => return Ok(i),
        }
    }
    Ok(i)
}

/// Finding numbers 64 bytes at a time with SSE2 (part of every x86-64 CPU): one bit mask
/// says where numbers start and where the array ends, so parsing one number no longer
/// waits for the previous one's length, and the CPU overlaps them.
#[cfg(target_arch = "x86_64")]
mod simd {
    use super::read_digits;
    use std::arch::x86_64::*;

    pub(super) enum Outcome {
        /// Hit a byte that is no digit, comma or white space, at this index.
        Stopped(usize),
        /// Fewer than 64 bytes (plus a number's worth) left: continue from here byte-wise.
        Continue(usize),
    }

    /// Bit i set where `chunk[i]` is a digit; and where it is anything but digit or separator.
    #[inline(always)]
    fn classify(chunk: &[u8; 64]) -> (u64, u64) {
        let mut digits = 0u64;
        let mut others = 0u64;
        for k in 0..4 {
            // SAFETY: SSE2 is part of the x86-64 baseline; the load reads 16 bytes that lie
            // inside `chunk` (unaligned loads are allowed).
            let (d, s) = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k) as *const __m128i);
                // digit: (b - '0') < 10 unsigned, done as a signed compare after flipping bit 7
                let x = _mm_xor_si128(
                    _mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8)),
                    _mm_set1_epi8(-128),
                );
                let d = _mm_cmplt_epi8(x, _mm_set1_epi8((10u8 ^ 0x80) as i8));
                let s = _mm_or_si128(
                    _mm_or_si128(
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(b',' as i8)),
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)),
                    ),
                    _mm_or_si128(
                        _mm_or_si128(
                            _mm_cmpeq_epi8(v, _mm_set1_epi8(b' ' as i8)),
                            _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8)),
                        ),
                        _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\t' as i8)),
                    ),
                );
                (
                    _mm_movemask_epi8(d) as u16 as u64,
                    _mm_movemask_epi8(s) as u16 as u64,
                )
            };
            digits |= d << (16 * k);
            others |= (!(d | s) & 0xFFFF) << (16 * k);
        }
        (digits, others)
    }

    /// Scans whole 64-byte chunks from `i` (which is not inside a number). Stops early at a
    /// byte that ends the array; leaves the last partial chunk to the caller.
    #[inline(always)]
    pub(super) fn scan_chunks<E>(
        buf: &[u8],
        mut i: usize,
        sink: &mut impl FnMut(u64) -> Result<(), E>,
        too_long: &impl Fn() -> E,
    ) -> Result<Outcome, E> {
        // Keep 64 bytes of slack so a number starting in the chunk can be read whole.
        while i + 128 <= buf.len() {
            let chunk: &[u8; 64] = buf[i..i + 64].try_into().unwrap();
            let (digits, others) = classify(chunk);
            let limit = if others != 0 {
                others.trailing_zeros()
            } else {
                64
            };
            // A digit starts a number unless a digit precedes it (the byte before the chunk
            // is never a digit: `i` always sits after a complete number).
            let mut starts = digits & !(digits << 1);
            if limit < 64 {
                starts &= (1u64 << limit) - 1;
            }
            let mut end = i;
            while starts != 0 {
                let s = starts.trailing_zeros() as usize;
                starts &= starts - 1;
                let (v, d, next) = read_digits(buf, i + s);
                if d > 19 {
                    return Err(too_long());
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
    /// Digits at the very start of the block: the end of a number the previous block cut.
    pub lead: Carry,
    /// True when `lead` ends inside the block (a delimiter follows it).
    pub lead_closed: bool,
    /// Every complete number after `lead`, in order.
    pub numbers: Vec<u64>,
    /// A number running into the end of the block.
    pub tail: Carry,
    /// Where scanning stopped (see [`scan_uints`]); `numbers` covers bytes before it.
    pub stop: usize,
    /// No usable tokens: the block was not scanned (the parser was idle, so the reader left
    /// the work to it) or had a number longer than any `u64`.
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
        if d > 19 {
            self.failed = true;
            return;
        }
        if !self.lead_closed {
            self.tail = Carry::default();
            self.stop = buf.len();
            return;
        }
        let mut tail = Carry::default();
        let numbers = &mut self.numbers;
        let scanned = scan_uints(
            buf,
            i,
            &mut tail,
            &mut |v| {
                numbers.push(v);
                Ok::<(), ()>(())
            },
            || (),
        );
        match scanned {
            Ok(stop) => {
                self.stop = stop;
                self.tail = tail;
            }
            Err(()) => self.failed = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(text: &str) -> (Vec<u64>, Carry, usize) {
        let mut out = Vec::new();
        let mut carry = Carry::default();
        let stop = scan_uints(
            text.as_bytes(),
            0,
            &mut carry,
            &mut |v| {
                out.push(v);
                Ok::<(), ()>(())
            },
            || (),
        )
        .unwrap();
        (out, carry, stop)
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
            text.push(if digits % 3 == 0 { '\n' } else { ',' });
        }
        text.push(']');
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
        let r = scan_uints(
            b"123456789012345678901,",
            0,
            &mut Carry::default(),
            &mut |_| Ok::<(), ()>(()),
            || (),
        );
        assert!(r.is_err());
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
        t.scan(b"],\"strings\":[\"1,2\"");
        assert_eq!(t.lead.digits, 0);
        assert_eq!(t.stop, 0);
    }
}
