//! Telling a leak from growth that stops: the same measure taken in every snapshot of a
//! ladder (after equal amounts of work) must rise at every step. Growth that happens once
//! (warm-up, lazy initialisation) or stops (a cache reaching its bound, a pool filling) is
//! not a leak, however large.

use leakhunt_findings::CountUnit;
use serde::{Deserialize, Serialize};

/// A measure over the ladder's snapshots, first to last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Series {
    pub counts: Vec<u64>,
    pub bytes: Vec<u64>,
}

/// How a suspect grew over the ladder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Growth {
    pub count_per_step: f64,
    pub bytes_per_step: f64,
    pub series: Series,
    /// What the count counts, when the measure decided it (strings); otherwise the suspect's
    /// facts do.
    #[serde(default)]
    pub unit: Option<CountUnit>,
}

impl Growth {
    /// Adds another part's bytes (objects of another class growing in the same place); the
    /// count stays this part's, which names the suspect.
    pub fn absorb(&mut self, other: &Growth) {
        self.bytes_per_step += other.bytes_per_step;
        for (b, extra) in self.series.bytes.iter_mut().zip(&other.series.bytes) {
            *b += extra;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trend {
    /// Rose at every step: on average this much per step.
    Growing {
        count_per_step: f64,
        bytes_per_step: f64,
    },
    /// Rose, but not at every step (a plateau or a one-off).
    Stopped,
    /// Did not rise overall.
    Flat,
}

impl Series {
    /// The growth of a measure, when it rose at every step.
    pub fn growth(self) -> Option<Growth> {
        match self.trend() {
            Trend::Growing {
                count_per_step,
                bytes_per_step,
            } => Some(Growth {
                count_per_step,
                bytes_per_step,
                series: self,
                unit: None,
            }),
            _ => None,
        }
    }

    /// The growth of a group of strings. A string is one object however long it gets: what
    /// grows is its length. Appended to (`s += line`), it is a chain of concatenations whose
    /// links count the appends; once V8 flattens it (searching or hashing it does), one flat
    /// string is all there is, and only its bytes tell. So the bytes must rise at every step,
    /// by at least `min_bytes` each time when the count does not rise with them (a string
    /// variable replaced by others of varying length must not pass for one that grows).
    pub fn string_growth(mut self, min_bytes: u64) -> Option<Growth> {
        let rises = |v: &[u64], by: u64| v.windows(2).all(|w| w[1] >= w[0] + by.max(1));
        let steps = self.steps();
        if steps == 0 || !rises(&self.bytes, 0) {
            return None;
        }
        if rises(&self.counts, 0) {
            let mut g = self.growth()?;
            g.unit = Some(CountUnit::Appends);
            return Some(g);
        }
        if !rises(&self.bytes, min_bytes) {
            return None;
        }
        self.counts = self.bytes.clone();
        let mut g = self.growth()?;
        g.unit = Some(CountUnit::Bytes);
        Some(g)
    }

    pub fn steps(&self) -> usize {
        self.counts.len().saturating_sub(1)
    }

    pub fn trend(&self) -> Trend {
        let steps = self.steps();
        if steps == 0 {
            return Trend::Flat;
        }
        let rises = |v: &[u64]| v.windows(2).all(|w| w[1] > w[0]);
        let (c, b) = (&self.counts, &self.bytes);
        if rises(c) && rises(b) {
            return Trend::Growing {
                count_per_step: (c[steps] - c[0]) as f64 / steps as f64,
                bytes_per_step: (b[steps] - b[0]) as f64 / steps as f64,
            };
        }
        if c[steps] > c[0] || b[steps] > b[0] {
            Trend::Stopped
        } else {
            Trend::Flat
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(counts: &[u64], bytes: &[u64]) -> Series {
        Series {
            counts: counts.to_vec(),
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn steady_growth_is_a_leak() {
        let t = series(&[100, 600, 1100], &[1000, 6000, 11000]).trend();
        assert_eq!(
            t,
            Trend::Growing {
                count_per_step: 500.0,
                bytes_per_step: 5000.0
            }
        );
    }

    #[test]
    fn growth_that_plateaus_or_happens_once_is_not() {
        assert_eq!(
            series(&[100, 600, 600], &[1000, 6000, 6000]).trend(),
            Trend::Stopped
        );
        assert_eq!(
            series(&[0, 5000, 5000, 5000], &[0, 9, 9, 9]).trend(),
            Trend::Stopped
        );
        assert_eq!(series(&[5, 5, 5], &[9, 9, 9]).trend(), Trend::Flat);
    }

    #[test]
    fn a_string_grows_by_its_appends_or_its_bytes() {
        // A chain of concatenations: one link per append.
        let g = series(&[1, 301, 601], &[100, 16_100, 32_100])
            .string_growth(1024)
            .unwrap();
        assert_eq!(
            (g.count_per_step, g.unit),
            (300.0, Some(CountUnit::Appends))
        );
        // Flattened: one string, longer at every step; counted in bytes.
        let g = series(&[1, 1, 1], &[100, 16_100, 32_100])
            .string_growth(1024)
            .unwrap();
        assert_eq!(
            (g.count_per_step, g.unit),
            (16_000.0, Some(CountUnit::Bytes))
        );
        assert_eq!(g.series.counts, g.series.bytes);
        // A variable holding strings of varying length: a small rise is not growth.
        assert!(series(&[1, 1, 1], &[100, 600, 1_100])
            .string_growth(1024)
            .is_none());
        assert!(series(&[1, 1, 1], &[100, 16_100, 9_000])
            .string_growth(1024)
            .is_none());
    }

    #[test]
    fn count_and_bytes_must_both_rise() {
        // A cache replacing entries by bigger ones: bytes rise, population does not.
        assert_eq!(
            series(&[10, 10, 10], &[100, 200, 300]).trend(),
            Trend::Stopped
        );
    }
}
