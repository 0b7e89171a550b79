//! A line diff of two texts (two versions of a workflow), for people to
//! read: Myers' shortest edit script over the lines that differ once the
//! common start and end are set aside, then cut into hunks with a few
//! lines of context, as `git diff` shows them.
//!
//! The work is bounded: the edit script costs O((N + M) · D) steps and
//! O(D²) memory for D changed lines, so past `max_changes` the texts are
//! called too different to show line by line (a 1 MiB file rewritten
//! whole would otherwise cost a page load seconds and megabytes). Texts of
//! more than [`MAX_LINES`] lines in all are not compared either: every
//! line becomes a row of the answer (a megabyte of empty lines is a
//! million of them).

/// The most lines (old and new together) compared line by line.
pub const MAX_LINES: usize = 100_000;

/// What happened to a line between the old text and the new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Same,
    Removed,
    Added,
}

/// One line of a diff, with its 1-based number in the old text, the new
/// text, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine<'a> {
    pub change: Change,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: &'a str,
}

/// The changed lines of `old` → `new` with `context` unchanged lines
/// around each change, in hunks (runs of lines with no gap between them).
/// `None` when more than `max_changes` lines were removed or added.
pub fn hunks<'a>(
    old: &'a str,
    new: &'a str,
    context: usize,
    max_changes: usize,
) -> Option<Vec<Vec<DiffLine<'a>>>> {
    let lines = diff(old, new, max_changes)?;
    let changed: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].change != Change::Same)
        .collect();
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for i in changed {
        let (start, end) = (
            i.saturating_sub(context),
            (i + context + 1).min(lines.len()),
        );
        match hunks.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => hunks.push((start, end)),
        }
    }
    Some(
        hunks
            .into_iter()
            .map(|(start, end)| lines[start..end].to_vec())
            .collect(),
    )
}

/// Every line of `old` and `new` in order, each marked same, removed or
/// added; `None` past `max_changes` removed plus added lines, or past
/// [`MAX_LINES`]. Lines are compared without their endings.
pub fn diff<'a>(old: &'a str, new: &'a str, max_changes: usize) -> Option<Vec<DiffLine<'a>>> {
    if old.lines().count() + new.lines().count() > MAX_LINES {
        return None;
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let middle = edit_script(
        &a[prefix..a.len() - suffix],
        &b[prefix..b.len() - suffix],
        max_changes,
    )?;
    let mut out = Vec::with_capacity(a.len().max(b.len()) + middle.len());
    let (mut i, mut j) = (0, 0);
    let same = |out: &mut Vec<DiffLine<'a>>, i: &mut usize, j: &mut usize| {
        out.push(DiffLine {
            change: Change::Same,
            old: Some(*i + 1),
            new: Some(*j + 1),
            text: a[*i],
        });
        *i += 1;
        *j += 1;
    };
    for _ in 0..prefix {
        same(&mut out, &mut i, &mut j);
    }
    for change in middle {
        match change {
            Change::Same => same(&mut out, &mut i, &mut j),
            Change::Removed => {
                out.push(DiffLine {
                    change,
                    old: Some(i + 1),
                    new: None,
                    text: a[i],
                });
                i += 1;
            }
            Change::Added => {
                out.push(DiffLine {
                    change,
                    old: None,
                    new: Some(j + 1),
                    text: b[j],
                });
                j += 1;
            }
        }
    }
    for _ in 0..suffix {
        same(&mut out, &mut i, &mut j);
    }
    Some(out)
}

/// Myers' greedy algorithm: the shortest sequence of keeps, removals and
/// additions turning `a` into `b`, removals first where both orders are
/// equally short. Keeps the furthest-reaching point of each diagonal for
/// every edit count, to walk back from the end.
fn edit_script(a: &[&str], b: &[&str], max_changes: usize) -> Option<Vec<Change>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    if n + m == 0 {
        return Some(Vec::new());
    }
    let limit = max_changes.min((n + m) as usize) as isize;
    // `trace[d]` holds the furthest x on diagonals -d..=d before step d.
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let mut v = vec![0isize; 2 * limit as usize + 3];
    let at = |k: isize| (k + limit + 1) as usize;
    for d in 0..=limit {
        trace.push((-d..=d).map(|k| v[at(k)]).collect());
        for k in (-d..=d).step_by(2) {
            let mut x = if k == -d || (k != d && v[at(k - 1)] < v[at(k + 1)]) {
                v[at(k + 1)]
            } else {
                v[at(k - 1)] + 1
            };
            let mut y = x - k;
            while x < n && y < m && a[x as usize] == b[y as usize] {
                x += 1;
                y += 1;
            }
            v[at(k)] = x;
            if x >= n && y >= m {
                return Some(walk_back(&trace, n, m));
            }
        }
    }
    None
}

/// The edits, first to last, from the furthest points kept per step.
fn walk_back(trace: &[Vec<isize>], n: isize, m: isize) -> Vec<Change> {
    let mut changes = Vec::new();
    let (mut x, mut y) = (n, m);
    for d in (1..trace.len() as isize).rev() {
        let v = &trace[d as usize];
        let get = |k: isize| v[(k + d) as usize];
        let k = x - y;
        let from = if k == -d || (k != d && get(k - 1) < get(k + 1)) {
            k + 1
        } else {
            k - 1
        };
        let from_x = get(from);
        let from_y = from_x - from;
        while x > from_x && y > from_y {
            changes.push(Change::Same);
            x -= 1;
            y -= 1;
        }
        changes.push(if x == from_x {
            Change::Added
        } else {
            Change::Removed
        });
        (x, y) = (from_x, from_y);
    }
    changes.extend((0..x).map(|_| Change::Same));
    changes.reverse();
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The diff as `git diff` would print its lines.
    fn show(old: &str, new: &str) -> String {
        diff(old, new, 1000)
            .unwrap()
            .iter()
            .map(|l| {
                let sign = match l.change {
                    Change::Same => ' ',
                    Change::Removed => '-',
                    Change::Added => '+',
                };
                format!("{sign}{}\n", l.text)
            })
            .collect()
    }

    /// Applying the diff to `old` gives `new`, and the numbers count up.
    fn check(old: &str, new: &str) -> usize {
        let lines = diff(old, new, usize::MAX).unwrap();
        let kept_old: Vec<&str> = lines
            .iter()
            .filter(|l| l.change != Change::Added)
            .map(|l| l.text)
            .collect();
        let kept_new: Vec<&str> = lines
            .iter()
            .filter(|l| l.change != Change::Removed)
            .map(|l| l.text)
            .collect();
        assert_eq!(kept_old, old.lines().collect::<Vec<_>>());
        assert_eq!(kept_new, new.lines().collect::<Vec<_>>());
        let olds: Vec<usize> = lines.iter().filter_map(|l| l.old).collect();
        let news: Vec<usize> = lines.iter().filter_map(|l| l.new).collect();
        assert_eq!(olds, (1..=kept_old.len()).collect::<Vec<_>>());
        assert_eq!(news, (1..=kept_new.len()).collect::<Vec<_>>());
        lines.iter().filter(|l| l.change != Change::Same).count()
    }

    #[test]
    fn a_changed_line_is_removed_then_added() {
        assert_eq!(show("a\nb\nc\n", "a\nB\nc\n"), " a\n-b\n+B\n c\n");
        assert_eq!(show("", "x\n"), "+x\n");
        assert_eq!(show("x\n", ""), "-x\n");
        assert_eq!(show("same\n", "same\n"), " same\n");
    }

    #[test]
    fn the_script_is_the_shortest() {
        // Myers' paper's example: 5 edits, not more.
        assert_eq!(check("a\nb\nc\na\nb\nb\na", "c\nb\na\nb\na\nc"), 5);
        assert_eq!(check("1\n2\n3\n4\n5", "0\n1\n2\n4\n5\n6"), 3);
        assert_eq!(check("x\ny\nz", "p\nq"), 5);
        assert_eq!(check("a\na\na\nb", "b\na\na\na"), 2);
    }

    #[test]
    fn every_pair_of_small_texts_round_trips() {
        let texts = [
            "",
            "a",
            "a\nb",
            "b\na",
            "a\na",
            "a\nb\na",
            "b\nb\na\nc",
            "c\na\nb\nb",
        ];
        for old in texts {
            for new in texts {
                check(old, new);
            }
        }
    }

    #[test]
    fn hunks_keep_context_and_merge_when_close() {
        let old: String = (1..=20).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 3\n", "three\n")
            .replace("line 17\n", "seventeen\n");
        let found = hunks(&old, &new, 2, 100).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].first().unwrap().old, Some(1));
        assert_eq!(found[0].last().unwrap().old, Some(5));
        assert_eq!(found[1].first().unwrap().new, Some(15));
        let near = old
            .replace("line 3\n", "three\n")
            .replace("line 6\n", "six\n");
        assert_eq!(hunks(&old, &near, 2, 100).unwrap().len(), 1);
        assert!(hunks(&old, &old, 3, 100).unwrap().is_empty());
    }

    #[test]
    fn a_whole_rewrite_past_the_bound_is_refused_quickly() {
        let old: String = (0..20_000).map(|i| format!("old {i}\n")).collect();
        let new: String = (0..20_000).map(|i| format!("new {i}\n")).collect();
        assert!(diff(&old, &new, 500).is_none());
        // Within the bound, the same size of text diffs fine.
        let edited = old.replacen("old 10000\n", "changed\n", 1);
        assert_eq!(check(&old, &edited), 2);
        // A megabyte of empty lines is not made into a million rows.
        let empty = "\n".repeat(MAX_LINES);
        assert!(diff(&empty, "x\n", usize::MAX).is_none());
    }
}
