//! Numbers found ahead of the parser, by the reader thread, in each block as it arrives.

use super::{read_digits, scan_uints, Carry, Prev, ScanState};

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
