//! Finding numbers 64 bytes at a time with SSE2 (part of every x86-64 CPU): bit masks say
//! where numbers start, where commas and white space are and where the array ends, so
//! parsing one number no longer waits for the previous one's length, and the CPU overlaps
//! them. The same masks check the separators, a few operations per 64 bytes.

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
