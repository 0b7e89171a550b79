//! Where each task of a DAG goes in the run page's drawing: a layered
//! layout (a task sits one layer right of its deepest dependency), rows
//! ordered within each layer by the average row of their dependencies (a
//! few barycentre sweeps keep edges from crossing needlessly). Plain
//! numbers out; the page turns them into SVG.

use std::collections::HashMap;

/// A task's box: its layer (column) and row, and pixel coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub id: String,
    pub layer: usize,
    pub row: usize,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub nodes: Vec<Placed>,
    /// (from, to) as indexes into `nodes`: from a dependency to its dependant.
    pub edges: Vec<(usize, usize)>,
    pub width: f64,
    pub height: f64,
}

pub const NODE_WIDTH: f64 = 160.0;
pub const NODE_HEIGHT: f64 = 36.0;
const GAP_X: f64 = 60.0;
const GAP_Y: f64 = 20.0;

/// Lays out tasks given as (id, needs), in file order. Needs naming unknown
/// tasks are ignored; the graph must be acyclic (validation sees to that).
pub fn layout(tasks: &[(String, Vec<String>)]) -> Layout {
    let index: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    let parents: Vec<Vec<usize>> = tasks
        .iter()
        .map(|(_, needs)| {
            needs
                .iter()
                .filter_map(|n| index.get(n.as_str()).copied())
                .collect()
        })
        .collect();

    // Longest path from a root, by repeated relaxation (n is small).
    let mut layer = vec![0usize; tasks.len()];
    for _ in 0..tasks.len() {
        let mut changed = false;
        for (i, ps) in parents.iter().enumerate() {
            let want = ps.iter().map(|&p| layer[p] + 1).max().unwrap_or(0);
            if want > layer[i] {
                layer[i] = want;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let layers = layer.iter().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for (i, &l) in layer.iter().enumerate() {
        rows[l].push(i);
    }
    let mut row_of = vec![0f64; tasks.len()];
    let place = |rows: &Vec<Vec<usize>>, row_of: &mut Vec<f64>| {
        for r in rows {
            for (pos, &i) in r.iter().enumerate() {
                row_of[i] = pos as f64;
            }
        }
    };
    place(&rows, &mut row_of);
    for _ in 0..4 {
        for r in rows.iter_mut().skip(1) {
            let key = |i: &usize| -> f64 {
                let ps = &parents[*i];
                if ps.is_empty() {
                    row_of[*i]
                } else {
                    ps.iter().map(|&p| row_of[p]).sum::<f64>() / ps.len() as f64
                }
            };
            r.sort_by(|a, b| key(a).total_cmp(&key(b)).then(a.cmp(b)));
        }
        place(&rows, &mut row_of);
    }

    let tallest = rows.iter().map(Vec::len).max().unwrap_or(0);
    let nodes: Vec<Placed> = tasks
        .iter()
        .enumerate()
        .map(|(i, (id, _))| {
            let row = row_of[i] as usize;
            // Centre shorter columns against the tallest one.
            let offset = (tallest - rows[layer[i]].len()) as f64 * (NODE_HEIGHT + GAP_Y) / 2.0;
            Placed {
                id: id.clone(),
                layer: layer[i],
                row,
                x: layer[i] as f64 * (NODE_WIDTH + GAP_X),
                y: offset + row as f64 * (NODE_HEIGHT + GAP_Y),
            }
        })
        .collect();
    let edges = parents
        .iter()
        .enumerate()
        .flat_map(|(i, ps)| ps.iter().map(move |&p| (p, i)))
        .collect();
    Layout {
        nodes,
        edges,
        width: layers as f64 * (NODE_WIDTH + GAP_X) - if layers > 0 { GAP_X } else { 0.0 },
        height: tallest as f64 * (NODE_HEIGHT + GAP_Y) - if tallest > 0 { GAP_Y } else { 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(spec: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        spec.iter()
            .map(|(id, needs)| {
                (
                    (*id).to_owned(),
                    needs.iter().map(|n| (*n).to_owned()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_diamond_takes_three_layers() {
        let l = layout(&graph(&[
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["a"]),
            ("d", &["b", "c"]),
        ]));
        let layers: Vec<usize> = l.nodes.iter().map(|n| n.layer).collect();
        assert_eq!(layers, [0, 1, 1, 2]);
        assert_eq!(l.edges.len(), 4);
        assert!(l.nodes[1].y < l.nodes[2].y, "b above c, as written");
        assert_eq!(l.nodes[0].y, l.nodes[3].y, "single nodes centred");
        assert_eq!(l.width, 3.0 * NODE_WIDTH + 2.0 * 60.0);
    }

    #[test]
    fn a_task_sits_right_of_its_deepest_dependency() {
        let l = layout(&graph(&[
            ("x", &["c"]),
            ("a", &[]),
            ("b", &["a"]),
            ("c", &["b"]),
            ("y", &["a", "c"]),
        ]));
        let by_id: HashMap<&str, &Placed> = l.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        assert_eq!(by_id["x"].layer, 3);
        assert_eq!(by_id["y"].layer, 3);
        for &(from, to) in &l.edges {
            assert!(l.nodes[from].layer < l.nodes[to].layer);
        }
    }

    #[test]
    fn ordering_follows_parents_to_avoid_crossings() {
        // Two chains written crosswise in the second layer.
        let l = layout(&graph(&[
            ("p", &[]),
            ("q", &[]),
            ("from_q", &["q"]),
            ("from_p", &["p"]),
        ]));
        let by_id: HashMap<&str, &Placed> = l.nodes.iter().map(|n| (n.id.as_str(), n)).collect();
        assert!(by_id["from_p"].row < by_id["from_q"].row);
    }

    #[test]
    fn nothing_to_draw() {
        let l = layout(&[]);
        assert!(l.nodes.is_empty());
        assert_eq!((l.width, l.height), (0.0, 0.0));
    }
}
