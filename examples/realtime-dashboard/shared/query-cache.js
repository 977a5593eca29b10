// A small query cache, like the one a data-fetching library keeps: entries keyed by query,
// bounded to `maxEntries` with least-recently-used eviction. It fills up during the first
// minutes of traffic and then stays the same size: growth that stops is not a leak.
'use strict';

class QueryCache {
  constructor({ maxEntries = 200 } = {}) {
    this.maxEntries = maxEntries;
    this.entries = new Map();
  }

  get(key) {
    const k = JSON.stringify(key);
    const entry = this.entries.get(k);
    if (!entry) return undefined;
    // Refresh its place in the LRU order.
    this.entries.delete(k);
    this.entries.set(k, entry);
    return entry.data;
  }

  setQueryData(key, data) {
    const k = JSON.stringify(key);
    this.entries.delete(k);
    this.entries.set(k, { data, updatedAt: Date.now() });
    while (this.entries.size > this.maxEntries) {
      this.entries.delete(this.entries.keys().next().value);
    }
  }
}

module.exports = { QueryCache };
