use super::dfs::*;
use super::semi::*;
use super::*;
use crate::builder::GraphBuilder;
use crate::graph::{EdgeType, NodeType};

fn not_weak(g: &HeapGraph) -> impl Fn(NodeIndex, EdgeIndex, NodeIndex) -> bool + '_ {
    move |_, e, _| g.edge_type(e) != EdgeType::Weak
}

fn obj(b: &mut GraphBuilder, name: &str, size: u64) -> NodeIndex {
    b.node(NodeType::Object, name, size)
}

/// A chain the depth-first search walks first, each link holding a payload that an
/// array met later holds too (an LRU cache: a linked list and a table of the same
/// entries): the payloads' dominator is far above their DFS parents.
fn chain_with_payloads_held_twice(links: usize) -> HeapGraph {
    let mut b = GraphBuilder::new();
    let head = obj(&mut b, "Link", 10);
    let table = obj(&mut b, "Array", 10);
    b.edge(0, EdgeType::Element, "1", head);
    b.edge(0, EdgeType::Element, "2", table);
    let mut last = head;
    for i in 0..links {
        let link = obj(&mut b, "Link", 10);
        let payload = obj(&mut b, "Payload", 10);
        b.edge(last, EdgeType::Property, "next", link);
        b.edge(link, EdgeType::Property, "p", payload);
        b.edge(table, EdgeType::Element, &i.to_string(), payload);
        last = link;
    }
    b.build()
}

#[test]
fn payloads_held_by_a_chain_and_a_table_are_dominated_by_the_root() {
    let g = chain_with_payloads_held_twice(200);
    let t = compute(&g, 0, not_weak(&g));
    let (reference, _) = brute_force_idom(&g);
    assert_eq!(t.idom, reference);
    let payload = 4; // head, table, then link, payload, link, payload, …
    assert_eq!(g.node_name(payload), "Payload");
    assert_eq!(t.idom[payload as usize], 0);
}

#[test]
fn idoms_take_linear_steps_on_a_deep_chain_with_shortcuts() {
    // Walking up from each payload's DFS parent (its link, 1 to 20,000 deep) to the root
    // took 200 million steps.
    let g = chain_with_payloads_held_twice(20_000);
    let n = g.node_count();
    let (parent, semi) = parents_and_semidominators(&g);
    let (_, steps) = idoms_from_semidominators(&parent, &semi);
    assert!(steps <= 64 * n as u64, "{steps} steps for {n} vertices");
}

/// DFS parents and semidominators of the vertices the root's search reaches.
fn parents_and_semidominators(g: &HeapGraph) -> (Vec<u32>, Vec<u32>) {
    let mut pre = vec![0u32; g.node_count()];
    let mut dfs = Dfs::with_capacity(g.node_count());
    let essential = not_weak(g);
    dfs.search(g, 0, 0, &essential, &mut pre);
    let late = LatePredecessors::build(g, &pre, dfs.late_counts.clone(), &essential);
    let semi = semidominators(&dfs.parent, dfs.semi.clone(), &late);
    (dfs.parent, semi)
}

#[test]
fn relative_dominators_agree_with_the_tree_walk() {
    // The fallback past the walk's budget must give the same tree.
    let mut graphs = vec![chain_with_payloads_held_twice(300)];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    for _ in 0..300 {
        let mut b = GraphBuilder::new();
        let n = 2 + rand(40) as u32;
        for i in 1..n {
            b.node(NodeType::Object, "N", i as u64);
        }
        for k in 0..rand(3 * n as u64 + 1) {
            let (from, to) = (rand(n as u64) as u32, rand(n as u64) as u32);
            b.edge(from, EdgeType::Property, &format!("e{k}"), to);
        }
        graphs.push(b.build());
    }
    for (i, g) in graphs.iter().enumerate() {
        let (parent, semi) = parents_and_semidominators(g);
        let (walked, _) = idoms_from_semidominators(&parent, &semi);
        let (relative, _) = relative_idoms(&parent, &semi);
        assert_eq!(walked[1..], relative[1..], "graph {i}");
    }
}

#[test]
fn chain_retains_everything_below() {
    let mut b = GraphBuilder::new();
    let a = obj(&mut b, "A", 10);
    let c = obj(&mut b, "B", 20);
    let d = obj(&mut b, "C", 30);
    b.edge(0, EdgeType::Element, "1", a);
    b.edge(a, EdgeType::Property, "next", c);
    b.edge(c, EdgeType::Property, "next", d);
    let g = b.build();
    let t = compute(&g, 0, not_weak(&g));
    assert_eq!(t.idom, vec![0, 0, a, c]);
    assert_eq!(t.retained, vec![60, 60, 50, 30]);
}

#[test]
fn diamond_join_is_dominated_by_the_fork() {
    // root → A → {B, C} → D: D is held by both branches, so A dominates it.
    let mut b = GraphBuilder::new();
    let a = obj(&mut b, "A", 1);
    let l = obj(&mut b, "B", 2);
    let r = obj(&mut b, "C", 4);
    let d = obj(&mut b, "D", 8);
    b.edge(0, EdgeType::Element, "1", a);
    b.edge(a, EdgeType::Property, "l", l);
    b.edge(a, EdgeType::Property, "r", r);
    b.edge(l, EdgeType::Property, "d", d);
    b.edge(r, EdgeType::Property, "d", d);
    let g = b.build();
    let t = compute(&g, 0, not_weak(&g));
    assert_eq!(t.idom[d as usize], a);
    assert_eq!(t.retained[l as usize], 2);
    assert_eq!(t.retained[r as usize], 4);
    assert_eq!(t.retained[a as usize], 15);
}

#[test]
fn cycle_members_are_dominated_by_the_entry() {
    // root → A → B → C → A: entering at A, each later member is dominated by its
    // predecessor on the cycle, and A retains the whole cycle.
    let mut b = GraphBuilder::new();
    let a = obj(&mut b, "A", 1);
    let bb = obj(&mut b, "B", 2);
    let c = obj(&mut b, "C", 4);
    b.edge(0, EdgeType::Element, "1", a);
    b.edge(a, EdgeType::Property, "n", bb);
    b.edge(bb, EdgeType::Property, "n", c);
    b.edge(c, EdgeType::Property, "n", a);
    let g = b.build();
    let t = compute(&g, 0, not_weak(&g));
    assert_eq!(t.idom, vec![0, 0, a, bb]);
    assert_eq!(t.retained[a as usize], 7);
}

#[test]
fn weak_edge_neither_retains_nor_makes_reachable() {
    // root → A, root → B, A ─weak→ C, B → C: only B holds C. And D, reached only
    // through a weak edge, is unreachable.
    let mut b = GraphBuilder::new();
    let a = obj(&mut b, "A", 1);
    let bb = obj(&mut b, "B", 2);
    let c = obj(&mut b, "C", 100);
    let d = obj(&mut b, "D", 1000);
    b.edge(0, EdgeType::Element, "1", a);
    b.edge(0, EdgeType::Element, "2", bb);
    b.edge(a, EdgeType::Weak, "1", c);
    b.edge(bb, EdgeType::Property, "c", c);
    b.edge(a, EdgeType::Weak, "2", d);
    let g = b.build();
    let t = compute(&g, 0, not_weak(&g));
    assert_eq!(t.idom[c as usize], bb);
    assert_eq!(t.retained[bb as usize], 102);
    assert_eq!(t.retained[a as usize], 1);
    assert!(!t.is_reachable(d));
    // Like DevTools, a node held only weakly hangs off the root, so totals add up.
    assert_eq!(t.idom[d as usize], 0);
    assert_eq!(t.retained[0], 1103);
}

#[test]
fn unreachable_island_is_left_out() {
    // X ↔ Y reference each other but nothing reaches them from the root.
    let mut b = GraphBuilder::new();
    let a = obj(&mut b, "A", 5);
    let x = obj(&mut b, "X", 50);
    let y = obj(&mut b, "Y", 60);
    b.edge(0, EdgeType::Element, "1", a);
    b.edge(x, EdgeType::Property, "y", y);
    b.edge(y, EdgeType::Property, "x", x);
    let g = b.build();
    let t = compute(&g, 0, not_weak(&g));
    assert!(!t.is_reachable(x) && !t.is_reachable(y));
    // Garbage cycles hang off the root one node at a time, as in DevTools.
    assert_eq!((t.idom[x as usize], t.idom[y as usize]), (0, 0));
    assert_eq!(t.retained[0], 115);
    assert_eq!(t.retained[x as usize], 50);
}

/// Reference, straight from the definition: `d` dominates `v` when removing `d` makes `v`
/// unreachable. Nodes the root misses are first attached under it by the DevTools rule
/// (`compute`'s docs), as extra root edges.
fn brute_force_idom(g: &HeapGraph) -> (Vec<NodeIndex>, Vec<bool>) {
    let n = g.node_count();
    let essential = |e: EdgeIndex| g.edge_type(e) != EdgeType::Weak;
    let reach = |extra: &[NodeIndex], skip: Option<NodeIndex>| {
        let mut seen = vec![false; n];
        let mut stack = vec![0u32];
        seen[0] = true;
        for &x in extra {
            if Some(x) != skip && !seen[x as usize] {
                seen[x as usize] = true;
                stack.push(x);
            }
        }
        while let Some(v) = stack.pop() {
            for e in g.edges_of(v) {
                let w = g.edge_target(e);
                if !essential(e) || Some(w) == skip || seen[w as usize] {
                    continue;
                }
                seen[w as usize] = true;
                stack.push(w);
            }
        }
        seen
    };
    let from_root = reach(&[], None);
    let has_retainer: Vec<bool> = (0..n as u32)
        .map(|w| {
            (0..n as u32).any(|v| {
                g.edges_of(v)
                    .any(|e| essential(e) && g.edge_target(e) == w && v != w)
            })
        })
        .collect();
    let mut extra: Vec<NodeIndex> = (0..n as u32)
        .filter(|&v| !from_root[v as usize] && !has_retainer[v as usize])
        .collect();
    let with_starts = reach(&extra, None);
    extra.extend((0..n as u32).filter(|&v| !with_starts[v as usize]));
    let doms: Vec<Vec<bool>> = (0..n as u32)
        .map(|d| {
            let r = reach(&extra, Some(d));
            (0..n).map(|v| !r[v]).collect()
        })
        .collect();
    let idom = (0..n)
        .map(|v| {
            if v == 0 {
                return 0;
            }
            // Among v's strict dominators (the root always is one), the nearest is the one
            // dominated by all the others.
            let strict: Vec<usize> = (0..n)
                .filter(|&d| d != v && (d == 0 || doms[d][v]))
                .collect();
            *strict
                .iter()
                .find(|&&d| strict.iter().all(|&o| o == d || o == 0 || doms[o][d]))
                .unwrap() as NodeIndex
        })
        .collect();
    (idom, from_root)
}

#[test]
fn matches_brute_force_on_random_graphs() {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rand = |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    for round in 0..300 {
        let mut b = GraphBuilder::new();
        let n = 2 + rand(25) as u32;
        for i in 1..n {
            b.node(NodeType::Object, "N", 1 + i as u64);
        }
        let m = rand(3 * n as u64 + 1);
        for k in 0..m {
            let from = rand(n as u64) as u32;
            let to = rand(n as u64) as u32;
            let t = if rand(6) == 0 {
                EdgeType::Weak
            } else {
                EdgeType::Property
            };
            b.edge(from, t, &format!("e{k}"), to);
        }
        let g = b.build();
        let t = compute(&g, 0, not_weak(&g));
        let (expected, reachable) = brute_force_idom(&g);
        assert_eq!(t.idom, expected, "round {round}");
        for (v, &r) in reachable.iter().enumerate() {
            assert_eq!(t.is_reachable(v as u32), r, "round {round} node {v}");
        }
        // Retained size = self + sum of dominated children's retained sizes.
        for v in 0..g.node_count() as u32 {
            let children: u64 = (1..g.node_count() as u32)
                .filter(|&c| c != v && t.idom[c as usize] == v)
                .map(|c| t.retained[c as usize])
                .sum();
            assert_eq!(
                t.retained[v as usize],
                g.self_size(v) + children,
                "round {round}"
            );
        }
    }
}
