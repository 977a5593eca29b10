//! A fixed-size set of small integers, one bit each (node and edge flags over millions).

#[derive(Clone, Debug, Default)]
pub struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    pub fn new(len: usize) -> BitSet {
        BitSet {
            words: vec![0; len.div_ceil(64)],
        }
    }

    #[inline]
    pub fn get(&self, i: u32) -> bool {
        self.words[(i >> 6) as usize] & (1 << (i & 63)) != 0
    }

    #[inline]
    pub fn set(&mut self, i: u32) {
        self.words[(i >> 6) as usize] |= 1 << (i & 63);
    }

    /// Sets bit `i`, returning whether it was already set.
    #[inline]
    pub fn test_and_set(&mut self, i: u32) -> bool {
        let w = &mut self.words[(i >> 6) as usize];
        let bit = 1 << (i & 63);
        let was = *w & bit != 0;
        *w |= bit;
        was
    }

    /// The words, bit `i` being bit `i % 64` of word `i / 64` (for filling parts in parallel).
    pub fn words_mut(&mut self) -> &mut [u64] {
        &mut self.words
    }

    /// The set bits, in increasing order.
    pub fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut rest = w;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    (i as u32) << 6 | bit
                })
            })
        })
    }

    pub fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::BitSet;

    #[test]
    fn ones_lists_the_set_bits_in_order() {
        let mut b = BitSet::new(200);
        for i in [0, 5, 63, 64, 130, 199] {
            b.set(i);
        }
        assert_eq!(b.ones().collect::<Vec<_>>(), vec![0, 5, 63, 64, 130, 199]);
    }
}
