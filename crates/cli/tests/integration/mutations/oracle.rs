//! The oracle: whether bytes are a heap snapshot the format allows, decided from the
//! format's description, not from the reader.

use std::io::Read;

/// A JSON value that keeps an object's keys in order, duplicates included.
pub(super) enum J {
    Null,
    Bool,
    /// `Some` for a non-negative integer written as such; `None` for any other number.
    Num(Option<u64>),
    /// A negative integer (serde reads `-0` as one): a `u64` field takes it when ≥ 0.
    Neg(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> serde::Deserialize<'de> for J {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<J, E> {
                Ok(J::Bool)
            }
            fn visit_u64<E>(self, v: u64) -> Result<J, E> {
                Ok(J::Num(Some(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<J, E> {
                Ok(J::Neg(v))
            }
            fn visit_f64<E>(self, _: f64) -> Result<J, E> {
                Ok(J::Num(None))
            }
            fn visit_str<E>(self, v: &str) -> Result<J, E> {
                Ok(J::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<J, E> {
                Ok(J::Str(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, J>()? {
                    v.push((k, x));
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl J {
    fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(kv) => kv.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn keys(&self) -> Vec<&str> {
        match self {
            J::Obj(kv) => kv.iter().map(|(k, _)| k.as_str()).collect(),
            _ => Vec::new(),
        }
    }
    /// What serde reads into a `u64` field.
    fn as_u64(&self) -> Option<u64> {
        match *self {
            J::Num(v) => v,
            J::Neg(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }
    fn strings(&self) -> Option<Vec<&str>> {
        match self {
            J::Arr(v) => v
                .iter()
                .map(|x| match x {
                    J::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Verdict {
    Valid,
    Invalid,
    /// Outside what the oracle decides (a lone surrogate escape, which the reader accepts
    /// as Bun writes them and serde refuses): only the general rules are checked.
    Undecided,
}

/// Whether `bytes` is a heap snapshot the format allows, decided from the format's rules:
/// gzip that decodes cleanly, strict JSON, keys once, the header before the arrays it
/// describes, the fields each record needs, counts that match, indices that point inside.
pub(super) fn oracle(bytes: &[u8]) -> Verdict {
    let text: Vec<u8> = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        match flate2::read::MultiGzDecoder::new(bytes).read_to_end(&mut out) {
            Ok(_) => out,
            Err(_) => return Verdict::Invalid,
        }
    } else {
        bytes.to_vec()
    };
    let doc: J = match serde_json::from_slice(&text) {
        Ok(j) => j,
        Err(e) if e.to_string().contains("surrogate") || e.to_string().contains("hex escape") => {
            return Verdict::Undecided
        }
        Err(_) => return Verdict::Invalid,
    };
    if structure_ok(&doc).is_some() {
        Verdict::Valid
    } else {
        Verdict::Invalid
    }
}

/// More bytes than any heap holds: the nodes' self sizes may not add up to more.
pub(super) const MAX_HEAP_BYTES: u64 = 1 << 53;

/// The largest number the arrays may hold: 19 digits.
pub(super) const MAX_ARRAY_NUMBER: u64 = 9_999_999_999_999_999_999;

pub(super) fn structure_ok(doc: &J) -> Option<()> {
    let J::Obj(top) = doc else { return None };
    let keys = doc.keys();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    if unique.len() != keys.len() {
        return None;
    }
    let pos = |k: &str| keys.iter().position(|x| *x == k);
    let header_at = pos("snapshot")?;
    for k in ["nodes", "edges", "strings"] {
        pos(k)?;
    }
    for k in ["nodes", "edges", "locations"] {
        if pos(k).is_some_and(|p| p < header_at) {
            return None;
        }
    }
    let _ = top;
    // The header, as a struct with these fields reads it (unknown fields ignored, known
    // ones once).
    let header = doc.get("snapshot")?;
    let meta = header.get("meta")?;
    for (obj, fields) in [
        (
            header,
            &["meta", "node_count", "edge_count", "extra_native_bytes"][..],
        ),
        (
            meta,
            &[
                "node_fields",
                "node_types",
                "edge_fields",
                "edge_types",
                "location_fields",
            ],
        ),
    ] {
        if !matches!(obj, J::Obj(_)) {
            return None;
        }
        for f in fields {
            if obj.keys().iter().filter(|k| *k == f).count() > 1 {
                return None;
            }
        }
    }
    let node_count = header.get("node_count")?.as_u64()?;
    let edge_count = header.get("edge_count")?.as_u64()?;
    if let Some(x) = header.get("extra_native_bytes") {
        if x.as_u64()? > MAX_HEAP_BYTES {
            return None;
        }
    }
    if node_count == 0 || node_count > u32::MAX as u64 || edge_count > u32::MAX as u64 {
        return None;
    }
    let node_fields = meta.get("node_fields")?.strings()?;
    let edge_fields = meta.get("edge_fields")?.strings()?;
    let location_fields = match meta.get("location_fields") {
        Some(l) => l.strings()?,
        None => Vec::new(),
    };
    let type_names = |list: &str| -> Option<Vec<&str>> {
        let J::Arr(v) = meta.get(list)? else {
            return None;
        };
        let names = v.first()?.strings()?;
        (!names.is_empty()).then_some(names)
    };
    let node_types = type_names("node_types")?;
    let edge_types = type_names("edge_types")?;
    let field = |fields: &[&str], name: &str| -> Option<usize> {
        (fields.iter().filter(|f| **f == name).count() == 1)
            .then(|| fields.iter().position(|f| *f == name).unwrap())
    };
    let [nt, nn, ni, ns, ne] =
        ["type", "name", "id", "self_size", "edge_count"].map(|f| field(&node_fields, f));
    let (nt, nn, ni, ns, ne) = (nt?, nn?, ni?, ns?, ne?);
    let [et, en, eto] = ["type", "name_or_index", "to_node"].map(|f| field(&edge_fields, f));
    let (et, en, eto) = (et?, en?, eto?);
    let node_stride = node_fields.len();
    let edge_stride = edge_fields.len();
    if node_stride > 16 || edge_stride > 8 {
        return None;
    }
    let strings = doc.get("strings")?.strings()?;
    let uints = |key: &str| -> Option<Vec<u64>> {
        let J::Arr(v) = doc.get(key)? else {
            return None;
        };
        v.iter()
            .map(|x| match x {
                J::Num(Some(n)) if *n <= MAX_ARRAY_NUMBER => Some(*n),
                _ => None,
            })
            .collect()
    };
    let nodes = uints("nodes")?;
    if nodes.len() as u64 != node_count * node_stride as u64 {
        return None;
    }
    let mut edge_sum = 0u64;
    let mut size_sum = 0u128;
    for rec in nodes.chunks(node_stride) {
        size_sum += rec[ns] as u128;
        if rec[nt] >= node_types.len() as u64
            || rec[nn] >= strings.len() as u64
            || rec[ni] > u32::MAX as u64
        {
            return None;
        }
        edge_sum = edge_sum.checked_add(rec[ne])?;
    }
    if edge_sum != edge_count || size_sum > MAX_HEAP_BYTES as u128 {
        return None;
    }
    let edges = uints("edges")?;
    if edges.len() as u64 != edge_count * edge_stride as u64 {
        return None;
    }
    for rec in edges.chunks(edge_stride) {
        let t = *edge_types.get(rec[et] as usize)?;
        if rec[en] > u32::MAX as u64
            || rec[eto] % node_stride as u64 != 0
            || rec[eto] / node_stride as u64 >= node_count
        {
            return None;
        }
        // Edges named by a string must name one; element and hidden edges hold an
        // index, and a type we do not know may hold either.
        let named = ["context", "property", "internal", "shortcut", "weak"].contains(&t);
        if named && rec[en] >= strings.len() as u64 {
            return None;
        }
    }
    if !location_fields.is_empty() {
        let [lo, ls, ll, lc] =
            ["object_index", "script_id", "line", "column"].map(|f| field(&location_fields, f));
        let (lo, ls, ll, lc) = (lo?, ls?, ll?, lc?);
        let stride = location_fields.len();
        if stride > 8 {
            return None;
        }
        if doc.get("locations").is_some() {
            let locations = uints("locations")?;
            if locations.len() % stride != 0 {
                return None;
            }
            for rec in locations.chunks(stride) {
                if rec[lo] % node_stride as u64 != 0
                    || rec[lo] / node_stride as u64 >= node_count
                    || [ls, ll, lc].iter().any(|&i| rec[i] > u32::MAX as u64)
                {
                    return None;
                }
            }
        }
    }
    Some(())
}
