//! How a suspect grew over the ladder, before it is explained.

use serde::{Deserialize, Serialize};

use super::growth::Series;

/// How a suspect grew over the ladder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Growth {
    pub count_per_step: f64,
    pub bytes_per_step: f64,
    pub series: Series,
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
