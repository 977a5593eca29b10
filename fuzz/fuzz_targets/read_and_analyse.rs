//! Any bytes through the reader, and whatever it accepts through every analysis.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| leakhunt_fuzz::check(data));
