//! The target's memory after GC, as the growth figure and the gate count it.
//!
//! V8's code spaces are read beside `process.memoryUsage()` and left out of the growth:
//! functions turning hot get optimised code during the rounds, which no leak made. Measured
//! on hunts of a service that keeps nothing (200 iterations a round, medians of 5): on Node
//! 24 heap used + external grew +430 B per iteration, +350 B of it code and bytecode, so a
//! 256 B gate failed a clean service; without the code, +80 B. On Node 20, where bytecode
//! sits in the old space, only the compiled code (+82 B) is told apart.
//!
//! Reading the code spaces loads Node's `v8` module into the target: the hunt reads once
//! before the warm-up, so that the module is there in every snapshot, not new after the
//! first.

use leakhunt_inspector::{InspectorError, Session};
use serde::Deserialize;

use crate::report::MemoryAfterGc;
use crate::run::HuntError;

/// `process.memoryUsage()` and the bytes of V8's spaces that hold only code (`code_space`,
/// `code_large_object_space`) and, where V8 has them (Node 24), bytecode and its metadata
/// (`trusted_space`, `trusted_large_object_space`), read in one evaluate. The spaces are
/// `null` where `v8` cannot be loaded from the evaluate's scope (a CommonJS main has no
/// `require` there) or says nothing.
const MEMORY_AND_CODE: &str = "(() => {
  const m = process.memoryUsage();
  let code = null;
  try {
    const v8 = process.getBuiltinModule ? process.getBuiltinModule('v8') : null;
    for (const s of (v8 ? v8.getHeapSpaceStatistics() : [])) {
      if (/^(code|trusted)_/.test(s.space_name)) code = (code || 0) + s.space_used_size;
    }
  } catch (_) { code = null; }
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss, code };
})()";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sampled {
    heap_used: u64,
    external: u64,
    #[serde(default)]
    array_buffers: u64,
    rss: u64,
    code: Option<u64>,
}

/// The memory figures, or `None` when the target's context has no `process` (a worker, an
/// embedder, a browser): the hunt then measures the JS heap alone.
pub fn memory_after_gc(session: &mut Session) -> Result<Option<MemoryAfterGc>, HuntError> {
    let value = match session.evaluate(MEMORY_AND_CODE) {
        Ok(v) => v,
        Err(InspectorError::Evaluate { .. } | InspectorError::Protocol(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(serde_json::from_value::<Sampled>(value)
        .ok()
        .map(|s| MemoryAfterGc {
            heap_used_bytes: s.heap_used,
            external_bytes: s.external,
            array_buffers_bytes: s.array_buffers,
            rss_bytes: s.rss,
            code_bytes: s.code.unwrap_or(0).min(s.heap_used),
        }))
}
