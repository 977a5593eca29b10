//! Connections kept open from one run to the next: with a scenario's `keep_alive`, each
//! virtual user (concurrency slot) hands its connection back when a run ends and picks it
//! up again at the start of the next, as a real client pool does between bursts of
//! traffic. A service that ties state to a connection (a listener on `req.socket` per
//! request) then shows it growing from round to round, where fresh connections each round
//! would have freed it.

use std::fmt;
use std::net::TcpStream;
use std::sync::Mutex;

#[derive(Default)]
pub struct KeptConnections {
    /// Per slot, its open connection between runs.
    slots: Mutex<Vec<Option<TcpStream>>>,
}

impl KeptConnections {
    /// Slot `slot`'s connection, if it kept one.
    pub(crate) fn take(&self, slot: usize) -> Option<TcpStream> {
        let mut slots = self.slots.lock().ok()?;
        slots.get_mut(slot).and_then(Option::take)
    }

    /// Keeps `stream` for slot `slot` until the next run.
    pub(crate) fn put(&self, slot: usize, stream: TcpStream) {
        let Ok(mut slots) = self.slots.lock() else {
            return;
        };
        if slots.len() <= slot {
            slots.resize_with(slot + 1, || None);
        }
        slots[slot] = Some(stream);
    }

    fn open(&self) -> usize {
        self.slots
            .lock()
            .map(|s| s.iter().flatten().count())
            .unwrap_or(0)
    }
}

impl fmt::Debug for KeptConnections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeptConnections({} open)", self.open())
    }
}
