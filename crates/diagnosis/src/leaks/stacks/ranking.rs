//! Which stacks a suspect shows, and in what order.
//!
//! A trace node is one exact stack, down to the event loop; two requests reaching the same
//! statement through different runtime paths (a keep-alive socket, a new one) make two. What
//! the user changes is the statement in their own code, so stacks are grouped by the first
//! frame in the program's own code (outside `node_modules` and the runtime) and the frame
//! inside it (which the statement calls). A stack with no such frame is a group of its own.
//!
//! Groups are ordered by the bytes of the suspect's *own* objects first (the class the
//! suspect counts, or for a collection the class that holds most of its growth), so a
//! neighbour made alongside (a Map's key strings, a response's headers) does not outrank
//! the leaked objects by number. A stack entirely inside the runtime that accounts for under
//! a tenth of the traced objects is noise (an object the runtime made for itself and which
//! sits among the leaked ones): it is not shown.

use crate::hash::FastMap;

/// Where a stack enters the program: the first frame in its own code (script, function
/// position) and the name of the function it calls there (empty when the object was made
/// in that frame).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GroupKey {
    Program {
        script: String,
        line: u32,
        column: u32,
        calls: String,
    },
    /// A stack with no frame in the program's code: the exact stack.
    Trace(u32),
}

/// One traced object of a suspect.
#[derive(Debug, Clone, Copy)]
pub struct Traced {
    pub trace: u32,
    pub bytes: u64,
    /// Of the class the suspect's growth is made of.
    pub own: bool,
}

/// A group of stacks to show: the stack most of its objects were made under, and the group's
/// totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub trace: u32,
    pub count: u64,
    pub bytes: u64,
    /// The bytes of the suspect's own objects among them (0: only neighbours).
    pub own_bytes: u64,
}

/// A runtime-only stack is shown when it holds at least this share (1/N) of the objects.
const RUNTIME_NOISE_SHARE: u64 = 10;

/// The top `limit` groups of `objects`. `key_of` gives a trace's group (None: every frame is
/// the runtime's).
pub fn rank(
    objects: &[Traced],
    limit: usize,
    mut key_of: impl FnMut(u32) -> Option<GroupKey>,
) -> Vec<Group> {
    #[derive(Default)]
    struct Tally {
        count: u64,
        bytes: u64,
        own_bytes: u64,
        runtime_only: bool,
        by_trace: FastMap<u32, u64>,
    }
    let mut keys: FastMap<u32, Option<GroupKey>> = FastMap::default();
    let mut groups: FastMap<GroupKey, Tally> = FastMap::default();
    for o in objects {
        let key = keys
            .entry(o.trace)
            .or_insert_with(|| key_of(o.trace))
            .clone();
        let runtime_only = key.is_none();
        let t = groups
            .entry(key.unwrap_or(GroupKey::Trace(o.trace)))
            .or_default();
        t.runtime_only = runtime_only;
        t.count += 1;
        t.bytes += o.bytes;
        if o.own {
            t.own_bytes += o.bytes;
        }
        *t.by_trace.entry(o.trace).or_default() += 1;
    }
    let total = objects.len() as u64;
    let mut ranked: Vec<(u64, Group)> = groups
        .into_values()
        .filter(|t| !t.runtime_only || t.count * RUNTIME_NOISE_SHARE >= total)
        .map(|t| {
            // The stack most of the group's objects share (the smallest id among equals).
            let trace = t
                .by_trace
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or(0, |(&id, _)| id);
            let group = Group {
                trace,
                count: t.count,
                bytes: t.bytes,
                own_bytes: t.own_bytes,
            };
            (t.own_bytes, group)
        })
        .collect();
    ranked.sort_by(|(own_x, x), (own_y, y)| {
        own_y
            .cmp(own_x)
            .then(y.bytes.cmp(&x.bytes))
            .then(y.count.cmp(&x.count))
            .then(x.trace.cmp(&y.trace))
    });
    ranked.into_iter().take(limit).map(|(_, g)| g).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(line: u32, calls: &str) -> Option<GroupKey> {
        Some(GroupKey::Program {
            script: "/srv/app.js".into(),
            line,
            column: 1,
            calls: calls.into(),
        })
    }

    fn traced(trace: u32, bytes: u64, own: bool, n: usize) -> Vec<Traced> {
        vec![Traced { trace, bytes, own }; n]
    }

    #[test]
    fn stacks_through_the_same_statement_are_one_group() {
        // Traces 1 and 2 reach the handler's call of makeRecord by different runtime paths.
        let mut objects = traced(1, 100, true, 3);
        objects.extend(traced(2, 100, true, 4));
        objects.extend(traced(3, 100, true, 5));
        let key = |t: u32| match t {
            1 | 2 => program(10, "makeRecord"),
            _ => program(20, ""),
        };
        let groups = rank(&objects, 3, key);
        assert_eq!(
            groups[0],
            Group {
                trace: 2,
                count: 7,
                bytes: 700,
                own_bytes: 700
            }
        );
        assert_eq!(groups[1].count, 5);
        assert_eq!(groups.len(), 2);
    }

    #[test]
    fn the_suspects_own_objects_outrank_more_numerous_neighbours() {
        // Many key strings made on one line, fewer but own objects on another.
        let mut objects = traced(1, 40, false, 30);
        objects.extend(traced(2, 300, true, 3));
        let key = |t: u32| program(t * 10, "");
        let groups = rank(&objects, 3, key);
        assert_eq!(groups[0].trace, 2, "{groups:?}");
        assert_eq!(
            groups[1].trace, 1,
            "neighbours still shown after: {groups:?}"
        );
        assert_eq!(
            groups[1].own_bytes, 0,
            "neighbours are told apart: {groups:?}"
        );
        // With no own object anywhere, bytes decide.
        let strings = traced(1, 40, false, 30);
        assert_eq!(rank(&strings, 3, key)[0].trace, 1);
    }

    #[test]
    fn a_rare_stack_entirely_in_the_runtime_is_not_shown() {
        let mut objects = traced(1, 100, true, 20);
        objects.extend(traced(2, 5000, true, 1));
        let key = |t: u32| if t == 1 { program(10, "") } else { None };
        let groups = rank(&objects, 3, key);
        assert_eq!(groups.len(), 1, "{groups:?}");
        assert_eq!(groups[0].trace, 1);
        // When the runtime made a good share of them, it is the story: shown.
        let mut objects = traced(1, 100, true, 4);
        objects.extend(traced(2, 100, true, 2));
        assert_eq!(rank(&objects, 3, key).len(), 2);
        // All in the runtime (Node's own lists growing): shown.
        assert_eq!(rank(&traced(2, 100, true, 1), 3, key).len(), 1);
    }
}
