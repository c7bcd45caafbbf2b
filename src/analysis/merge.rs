//! The merged filesystem of an image: layers applied bottom to top with
//! overlay semantics.
//!
//! For each layer, in order: its opaque directories hide everything below them
//! in lower layers; its whiteouts delete a path and everything below it; then
//! its entries are laid on top, an entry replacing whatever was at its path and
//! a non-directory hiding the lower subtree at its path. Deletions in a layer
//! apply to lower layers only, never to the layer's own entries.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

use super::layer::{Entry, EntryKind, LayerSummary};
use super::path;

/// A surviving entry and the index of the layer it comes from.
#[derive(Clone, Copy, Debug)]
pub struct MergedEntry<'a> {
    pub entry: Entry<'a>,
    pub layer: usize,
}

pub struct MergedView<'a> {
    /// One slot per surviving path, sorted by path.
    slots: Vec<Slot>,
    layers: Vec<&'a LayerSummary>,
    /// Hard links resolved to a file of a lower layer, by (layer, index):
    /// the entry with the target's mode, owner and capabilities.
    linked: BTreeMap<(u32, u32), Entry<'a>>,
}

/// Where a surviving entry is kept: its layer and its index there. Small
/// (8 bytes), since there is one per path of the image: the entry, its path
/// too, is read from the layer on demand.
#[derive(Clone, Copy, Debug)]
struct Slot {
    layer: u32,
    index: u32,
}

/// Orders `a + "/"` against `b + "/"`: the order in which the paths below
/// `a` and below `b` start.
fn slash_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let n = x.len().min(y.len());
    match x[..n].cmp(&y[..n]) {
        Ordering::Equal => match x.len().cmp(&y.len()) {
            Ordering::Equal => Ordering::Equal,
            Ordering::Less => b'/'.cmp(&y[n]).then(Ordering::Less),
            Ordering::Greater => x[n].cmp(&b'/').then(Ordering::Greater),
        },
        other => other,
    }
}

/// [`slash_cmp`] for both sorts below: one comparator type, so the wasm
/// carries one copy of the sort.
fn slash_order(a: &&str, b: &&str) -> Ordering {
    slash_cmp(a, b)
}

/// Orders `dir + "/"` (where the paths below `dir` start) against path `k`.
fn below_start_cmp(dir: &str, k: &str) -> Ordering {
    if dir.is_empty() {
        return Ordering::Less;
    }
    let (d, kb) = (dir.as_bytes(), k.as_bytes());
    let n = d.len().min(kb.len());
    match d[..n].cmp(&kb[..n]) {
        Ordering::Equal if kb.len() <= d.len() => Ordering::Greater,
        Ordering::Equal => match b'/'.cmp(&kb[d.len()]) {
            Ordering::Equal => Ordering::Less,
            other => other,
        },
        other => other,
    }
}

/// Drop from `lower` what `layer` hides: its opaque directories hide what
/// is below them, its whiteouts delete a path and what is below it, its
/// non-directories hide what is below their path. One pass over the sorted
/// slots, with the deleted subtrees (which nest or are apart, never
/// overlap) as a stack.
fn remove_hidden(lower: &mut Vec<Slot>, layers: &[&LayerSummary], layer: &LayerSummary) {
    if lower.is_empty() {
        return;
    }
    let mut hidden_below: Vec<&str> = layer
        .opaque_dirs
        .iter()
        .chain(layer.whiteouts.iter())
        .map(String::as_str)
        .chain(
            layer
                .entries()
                .filter(|e| e.kind != EntryKind::Dir)
                .map(|e| e.path),
        )
        .collect();
    if hidden_below.is_empty() {
        return;
    }
    hidden_below.sort_unstable_by(slash_order);
    let mut deleted: Vec<&str> = layer.whiteouts.iter().map(String::as_str).collect();
    deleted.sort_unstable_by(slash_order);
    let mut next = 0;
    let mut open: Vec<&str> = Vec::new();
    lower.retain(|slot| {
        let k = path_of(layers, slot);
        while next < hidden_below.len()
            && below_start_cmp(hidden_below[next], k) != Ordering::Greater
        {
            open.push(hidden_below[next]);
            next += 1;
        }
        while let Some(dir) = open.last() {
            if path::is_below(k, dir) {
                break;
            }
            open.pop();
        }
        open.is_empty() && deleted.binary_search_by(|d| slash_cmp(d, k)).is_err()
    });
}

/// The path of the entry a slot stands for.
fn path_of<'a>(layers: &[&'a LayerSummary], slot: &Slot) -> &'a str {
    layers[slot.layer as usize].path_at(slot.index as usize)
}

impl<'a> MergedView<'a> {
    /// Apply `layers` bottom (index 0) to top.
    pub fn merge(layers: &[&'a LayerSummary]) -> MergedView<'a> {
        let mut view = MergedView {
            slots: Vec::new(),
            layers: layers.to_vec(),
            linked: BTreeMap::new(),
        };
        for (index, layer) in layers.iter().enumerate() {
            let mut lower = core::mem::take(&mut view.slots);
            remove_hidden(&mut lower, layers, layer);
            // Both sorted by path; at the same path the upper entry replaces the lower.
            let mut upper = (0..layer.len()).map(|i| Slot {
                layer: index as u32,
                index: i as u32,
            });
            let path = |slot: &Slot| path_of(layers, slot);
            let mut merged = Vec::with_capacity(lower.len() + layer.len());
            let mut lower = lower.into_iter().peekable();
            let mut next_upper = upper.next();
            while let Some(u) = next_upper {
                match lower.peek().map(|l| path(l).cmp(path(&u))) {
                    Some(Ordering::Less) => merged.push(lower.next().unwrap_or(u)),
                    Some(Ordering::Equal) => {
                        lower.next();
                    }
                    _ => {
                        merged.push(u);
                        next_upper = upper.next();
                    }
                }
            }
            merged.extend(lower);
            view.slots = merged;
            // Hard links to files of lower layers: the target as merged so far.
            for (i, link) in layer.entries().enumerate() {
                if link.kind != EntryKind::HardLink || link.link_resolved {
                    continue;
                }
                // The link itself was just laid on top: only its target is looked up.
                let Some(target) = view.get(link.link) else {
                    continue;
                };
                let t = target.entry;
                if t.kind == EntryKind::File || t.link_resolved {
                    let mut e = link;
                    e.mode = t.mode;
                    e.uid = t.uid;
                    e.gid = t.gid;
                    e.caps = t.caps;
                    e.link_resolved = true;
                    view.linked.insert((index as u32, i as u32), e);
                }
            }
        }
        view
    }

    fn entry_of(&self, slot: &Slot) -> MergedEntry<'a> {
        let entry = match self.linked.get(&(slot.layer, slot.index)) {
            Some(e) => *e,
            None => self.layers[slot.layer as usize].entry_at(slot.index as usize),
        };
        MergedEntry {
            entry,
            layer: slot.layer as usize,
        }
    }

    /// Where `path` is among the slots, or where it would go: one search for
    /// every lookup, so the wasm carries one copy of it.
    fn search(&self, path: &str) -> Result<usize, usize> {
        self.slots
            .binary_search_by(|s| path_of(&self.layers, s).cmp(path))
    }

    pub fn get(&self, path: &str) -> Option<MergedEntry<'a>> {
        self.search(path)
            .ok()
            .map(|i| self.entry_of(&self.slots[i]))
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Surviving entries in path order.
    pub fn iter(&self) -> impl Iterator<Item = MergedEntry<'a>> + '_ {
        self.slots.iter().map(|s| self.entry_of(s))
    }

    /// Surviving entries strictly below directory `dir`, in path order.
    pub fn entries_below<'s>(&'s self, dir: &str) -> impl Iterator<Item = MergedEntry<'a>> + 's {
        // Keys below "dir" sort from "dir/" up to "dir0" ('0' follows '/').
        let mut lo = String::from(dir);
        lo.push('/');
        let mut hi = String::from(dir);
        hi.push('0');
        // The first slot at or after each (paths are unique).
        let first = |key: &str| self.search(key).unwrap_or_else(|i| i);
        let (start, end) = (first(&lo), first(&hi));
        self.slots[start..end.max(start)]
            .iter()
            .map(|s| self.entry_of(s))
    }

    /// Follow symlinks in every component of `p`, as the kernel would from the
    /// image root. `None` when the path does not exist or a loop is met.
    pub fn resolve(&self, p: &str) -> Option<(String, MergedEntry<'a>)> {
        let mut pending: Vec<String> = p
            .split('/')
            .filter(|c| !c.is_empty())
            .rev()
            .map(String::from)
            .collect();
        let mut current = String::new();
        let mut hops = 0;
        while let Some(component) = pending.pop() {
            match component.as_str() {
                "." => continue,
                ".." => {
                    current = String::from(path::parent(&current));
                    continue;
                }
                _ => {}
            }
            let mut next = current.clone();
            if !next.is_empty() {
                next.push('/');
            }
            next.push_str(&component);
            // Tars may omit parent directories: a missing component is an
            // implicit directory, unless it is the last one (checked below).
            let Some(entry) = self.get(next.as_str()) else {
                current = next;
                continue;
            };
            if entry.entry.kind == EntryKind::Symlink {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                let target = entry.entry.link;
                if target.starts_with('/') {
                    current.clear();
                }
                for c in target.split('/').filter(|c| !c.is_empty()).rev() {
                    pending.push(String::from(c));
                }
            } else {
                current = next;
            }
        }
        let e = self.get(current.as_str())?;
        Some((current, e))
    }

    /// Contents of a captured file (e.g. `etc/passwd`) as the merged image has it.
    pub fn captured(&self, p: &str) -> Option<&'a [u8]> {
        let (real, e) = self.resolve(p)?;
        if e.entry.kind != EntryKind::File {
            return None;
        }
        self.layers[e.layer]
            .captured(&real)
            .map(|c| c.bytes.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::layer::{LayerBuilder, LayerLimits, RawEntry};

    fn layer(entries: &[(&str, EntryKind, u32, &str)]) -> LayerSummary {
        let mut b = LayerBuilder::new(LayerLimits::default());
        for (p, k, m, l) in entries {
            b.add(RawEntry {
                path: p.as_bytes(),
                link: l.as_bytes(),
                kind: *k,
                mode: *m,
                uid: 0,
                gid: 0,
                capability: None,
            })
            .unwrap();
        }
        b.finish()
    }

    use EntryKind::*;

    /// The overlay rules written the plain way (a map, every deletion
    /// applied entry by entry), to check the one-pass merge against.
    fn reference<'a>(layers: &[&'a LayerSummary]) -> Vec<(String, usize, u32, bool)> {
        use alloc::collections::BTreeMap;
        let mut map: BTreeMap<&'a str, MergedEntry<'a>> = BTreeMap::new();
        let below = |map: &mut BTreeMap<&'a str, MergedEntry<'a>>, dir: &str| {
            map.retain(|k, _| !path::is_below(k, dir));
        };
        for (index, layer) in layers.iter().enumerate() {
            for dir in &layer.opaque_dirs {
                below(&mut map, dir);
            }
            for gone in &layer.whiteouts {
                map.remove(gone.as_str());
                below(&mut map, gone);
            }
            for entry in layer.entries() {
                if entry.kind != EntryKind::Dir {
                    below(&mut map, entry.path);
                }
                map.insert(
                    entry.path,
                    MergedEntry {
                        entry,
                        layer: index,
                    },
                );
            }
            for e in layer
                .entries()
                .filter(|e| e.kind == HardLink && !e.link_resolved)
            {
                let target = map.get(e.link).copied();
                if let (Some(t), Some(me)) = (target, map.get_mut(e.path)) {
                    if t.entry.kind == File || t.entry.link_resolved {
                        me.entry.mode = t.entry.mode;
                        me.entry.link_resolved = true;
                    }
                }
            }
        }
        map.values()
            .map(|m| {
                (
                    String::from(m.entry.path),
                    m.layer,
                    m.entry.mode,
                    m.entry.link_resolved,
                )
            })
            .collect()
    }

    #[test]
    fn one_pass_merge_agrees_with_the_plain_rules() {
        // Small names so that layers collide: prefixes of each other ("a",
        // "a-b", "a/b"), whiteouts, opaque dirs, files over dirs, hard links.
        let names = [
            "a", "a-b", "a-b/c", "a/b", "a/b/c", "a/b-c", "a.x", "b", "b/a", "ab", "ab/c", "a/bc",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rand = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..20_000 {
            let mut layers = Vec::new();
            for _ in 0..1 + rand(4) {
                let mut b = LayerBuilder::new(LayerLimits::default());
                for _ in 0..rand(12) {
                    let name = names[rand(names.len())];
                    let (path, kind) = match rand(8) {
                        0 => match name.rsplit_once('/') {
                            Some((dir, base)) => (alloc::format!("{}/.wh.{}", dir, base), File),
                            None => (alloc::format!(".wh.{}", name), File),
                        },
                        1 => (alloc::format!("{}/.wh..wh..opq", name), File),
                        2 | 3 => (String::from(name), Dir),
                        4 => (String::from(name), HardLink),
                        _ => (String::from(name), File),
                    };
                    let link = names[rand(names.len())];
                    b.add(RawEntry {
                        path: path.as_bytes(),
                        link: link.as_bytes(),
                        kind,
                        mode: 0o4000 | rand(512) as u32,
                        uid: 0,
                        gid: 0,
                        capability: None,
                    })
                    .unwrap();
                }
                layers.push(b.finish());
            }
            let refs: Vec<&LayerSummary> = layers.iter().collect();
            let got: Vec<(String, usize, u32, bool)> = MergedView::merge(&refs)
                .iter()
                .map(|m| {
                    (
                        String::from(m.entry.path),
                        m.layer,
                        m.entry.mode,
                        m.entry.link_resolved,
                    )
                })
                .collect();
            assert_eq!(got, reference(&refs));
        }
    }

    #[test]
    fn files_over_dirs_whose_names_prefix_each_other() {
        let l0 = layer(&[("a-b/c", File, 0o4755, ""), ("a/c", File, 0o4755, "")]);
        let l1 = layer(&[("a", File, 0o644, ""), ("a-b", File, 0o644, "")]);
        let m = MergedView::merge(&[&l0, &l1]);
        assert!(m.get("a-b/c").is_none() && m.get("a/c").is_none());
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn whiteout_deletes_file_and_subtree() {
        let l0 = layer(&[
            ("a", Dir, 0o755, ""),
            ("a/su", File, 0o4755, ""),
            ("b", Dir, 0o755, ""),
            ("b/c", File, 0o4755, ""),
        ]);
        let l1 = layer(&[("a/.wh.su", File, 0, ""), (".wh.b", File, 0, "")]);
        let m = MergedView::merge(&[&l0, &l1]);
        assert!(m.get("a/su").is_none());
        assert!(m.get("b").is_none() && m.get("b/c").is_none());
        assert!(m.get("a").is_some());
    }

    #[test]
    fn opaque_hides_lower_but_not_same_layer() {
        let l0 = layer(&[("d", Dir, 0o755, ""), ("d/old", File, 0o4755, "")]);
        let l1 = layer(&[
            ("d", Dir, 0o755, ""),
            ("d/.wh..wh..opq", File, 0, ""),
            ("d/new", File, 0o2755, ""),
        ]);
        let m = MergedView::merge(&[&l0, &l1]);
        assert!(m.get("d/old").is_none());
        assert_eq!(m.get("d/new").unwrap().layer, 1);
    }

    #[test]
    fn whiteout_does_not_touch_its_own_layer() {
        let l0 = layer(&[("x", File, 0o4755, "")]);
        let l1 = layer(&[(".wh.x", File, 0, ""), ("x", File, 0o755, "")]);
        let m = MergedView::merge(&[&l0, &l1]);
        assert_eq!(m.get("x").unwrap().entry.mode, 0o755);
    }

    #[test]
    fn chmod_layer_removes_the_bit() {
        let l0 = layer(&[("usr/bin/su", File, 0o4755, "")]);
        let l1 = layer(&[("usr/bin/su", File, 0o755, "")]);
        let m = MergedView::merge(&[&l0, &l1]);
        assert_eq!(m.get("usr/bin/su").unwrap().entry.mode, 0o755);
        assert_eq!(m.get("usr/bin/su").unwrap().layer, 1);
    }

    #[test]
    fn non_directory_replaces_directory_subtree() {
        let l0 = layer(&[
            ("opt/tool", Dir, 0o755, ""),
            ("opt/tool/suid", File, 0o4755, ""),
        ]);
        let l1 = layer(&[("opt/tool", Symlink, 0o777, "/usr/bin")]);
        let m = MergedView::merge(&[&l0, &l1]);
        assert!(m.get("opt/tool/suid").is_none());
        assert_eq!(m.get("opt/tool").unwrap().entry.kind, Symlink);
    }

    #[test]
    fn hard_link_to_lower_layer() {
        let l0 = layer(&[("bin/ping", File, 0o4755, "")]);
        let l1 = layer(&[("bin/ping6", HardLink, 0o644, "bin/ping")]);
        let m = MergedView::merge(&[&l0, &l1]);
        let e = m.get("bin/ping6").unwrap();
        assert!(e.entry.link_resolved);
        assert_eq!(e.entry.mode, 0o4755);
    }

    #[test]
    fn resolves_symlinks_and_loops() {
        let l0 = layer(&[
            ("etc", Symlink, 0o777, "private/etc"),
            ("private/etc/passwd", File, 0o644, ""),
            ("loop1", Symlink, 0o777, "loop2"),
            ("loop2", Symlink, 0o777, "/loop1"),
        ]);
        let m = MergedView::merge(&[&l0]);
        assert_eq!(m.resolve("/etc/passwd").unwrap().0, "private/etc/passwd");
        assert!(m.resolve("loop1").is_none());
    }
}
