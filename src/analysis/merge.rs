//! The merged filesystem of an image: layers applied bottom to top with
//! overlay semantics.
//!
//! For each layer, in order: its opaque directories hide everything below them
//! in lower layers; its whiteouts delete a path and everything below it; then
//! its entries are laid on top, an entry replacing whatever was at its path and
//! a non-directory hiding the lower subtree at its path. Deletions in a layer
//! apply to lower layers only, never to the layer's own entries.
//!
//! Whole entries are merged into one sorted list. Plain files (kept as
//! hashes of their paths, see layer/plain.rs) are not listed: they are
//! counted, and looked up by path from the top layer down.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

use super::layer::{Entry, EntryKind, HashCursor, LayerSummary, PathHashes, PathKey};
use super::path;

/// A surviving entry and the index of the layer it comes from.
#[derive(Clone, Copy, Debug)]
pub struct MergedEntry<'a> {
    pub entry: Entry<'a>,
    pub layer: usize,
}

pub struct MergedView<'a> {
    /// One slot per surviving whole entry, sorted by path.
    slots: Vec<Slot>,
    layers: Vec<&'a LayerSummary>,
    /// What each layer replaces and hides, by path hash (for plain files:
    /// none without a key).
    hiding: Vec<Hiding<'a>>,
    /// Hard links resolved to a file of a lower layer, by (layer, index):
    /// the entry with the target's mode, owner and capabilities.
    linked: BTreeMap<(u32, u32), Entry<'a>>,
    /// The key of the plain files' path hashes (one for all the layers).
    key: Option<PathKey>,
    /// Plain files that survive.
    plain_survivors: usize,
}

/// `list`, sorted by [`slash_order`].
fn sorted(list: &[String]) -> Vec<&str> {
    let mut v: Vec<&str> = list.iter().map(String::as_str).collect();
    v.sort_unstable_by(slash_order);
    v
}

/// What a layer replaces and hides in the layers below it, by path hash:
/// asked of every group of plain files of every lower layer
/// ([`MergedView::count_plain_survivors`]) and by [`MergedView::lookup`]
/// (hashes, where strings would be searched through the layer's whole
/// entries).
struct Hiding<'a> {
    /// Whole entries and whiteouts: what replaces a lower plain file at the
    /// same path.
    replaced: PathHashes,
    /// Whiteouts and whole non-directories: what hides the paths below.
    below: PathHashes,
    opaque: PathHashes,
    /// Its plain files are non-directories too.
    layer: &'a LayerSummary,
}

impl<'a> Hiding<'a> {
    fn of(layer: &'a LayerSummary, key: PathKey) -> Self {
        // Each path hashed once: (hash, a non-directory).
        let whole: Vec<(u64, bool)> = layer
            .entries()
            .map(|e| (key.hash(e.path), e.kind != EntryKind::Dir))
            .collect();
        let deleted: Vec<u64> = layer.whiteouts.iter().map(|p| key.hash(p)).collect();
        Hiding {
            replaced: PathHashes::new(whole.iter().map(|w| w.0).chain(deleted.iter().copied())),
            below: PathHashes::new(
                whole
                    .iter()
                    .filter(|w| w.1)
                    .map(|w| w.0)
                    .chain(deleted.iter().copied()),
            ),
            opaque: PathHashes::new(layer.opaque_dirs.iter().map(|p| key.hash(p))),
            layer,
        }
    }

    /// The layer hides what is below the directory whose hash and whose
    /// parents' hashes are `dirs` (the root's last): an opaque directory,
    /// a whiteout or a non-directory there or above.
    fn hides_below(&self, dirs: &[u64]) -> bool {
        let root = dirs.len() - 1;
        dirs.iter().enumerate().any(|(j, &h)| {
            self.opaque.contains(h)
                || (j < root && (self.below.contains(h) || self.layer.plain_by_hash(h).is_some()))
        })
    }
}

/// The hashes of `p` and of each directory above it, the root ("") last, into `out`.
fn path_and_parents(key: PathKey, p: &str, out: &mut Vec<u64>) {
    out.clear();
    let mut p = p;
    loop {
        out.push(key.hash(p));
        if p.is_empty() {
            return;
        }
        p = path::parent(p);
    }
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
    if let Some(key) = layer.path_key().filter(|_| layer.plain_len() > 0) {
        lower.retain(|slot| !at_or_below_plain_file(layer, key, path_of(layers, slot)));
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
    let deleted = sorted(&layer.whiteouts);
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
        open.is_empty() && !holds(&deleted, k)
    });
}

/// `layer` has a plain file at `k` (replacing it) or at a directory above
/// `k` (hiding it).
fn at_or_below_plain_file(layer: &LayerSummary, key: PathKey, k: &str) -> bool {
    let mut p = k;
    while !p.is_empty() {
        if layer.plain_by_hash(key.hash(p)).is_some() {
            return true;
        }
        p = path::parent(p);
    }
    false
}

/// `p` is in `sorted` (sorted by [`slash_order`]).
fn holds(sorted: &[&str], p: &str) -> bool {
    sorted.binary_search_by(|d| slash_cmp(d, p)).is_ok()
}

/// The path of the entry a slot stands for.
fn path_of<'a>(layers: &[&'a LayerSummary], slot: &Slot) -> &'a str {
    layers[slot.layer as usize].path_at(slot.index as usize)
}

impl<'a> MergedView<'a> {
    /// Apply `layers` bottom (index 0) to top.
    pub fn merge(layers: &[&'a LayerSummary]) -> MergedView<'a> {
        let key = layers.iter().find_map(|l| l.path_key());
        let mut view = MergedView {
            slots: Vec::new(),
            layers: layers.to_vec(),
            hiding: match key {
                Some(key) => layers.iter().map(|l| Hiding::of(l, key)).collect(),
                None => Vec::new(),
            },
            linked: BTreeMap::new(),
            key,
            plain_survivors: 0,
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
                let Some(target) = view.lookup(link.link, index) else {
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
        view.plain_survivors = view.count_plain_survivors();
        view
    }

    /// The entry at `path` as layers 0 to `top` merge: a whole entry among
    /// the slots, or else the plain file of the highest layer that has one
    /// there, unless a layer above it hides it.
    fn lookup(&self, path: &str, top: usize) -> Option<MergedEntry<'a>> {
        if let Ok(i) = self.search(path) {
            return Some(self.entry_of(&self.slots[i]));
        }
        let mut hashes = Vec::new();
        path_and_parents(self.key?, path, &mut hashes);
        for j in (0..=top).rev() {
            let layer = self.layers[j];
            if layer.get_whole(path).is_some() {
                return None; // not among the slots: hidden from above
            }
            if let Some(entry) = layer.plain_by_hash(hashes[0]) {
                // The layers above have nothing at `path` itself (else it
                // was found there): a whiteout there, or what hides below
                // its directory.
                let hidden = self.hiding[j + 1..=top]
                    .iter()
                    .any(|h| h.below.contains(hashes[0]) || h.hides_below(&hashes[1..]));
                return (!hidden).then_some(MergedEntry { entry, layer: j });
            }
        }
        None
    }

    /// Plain files that no upper layer replaces, deletes or hides.
    fn count_plain_survivors(&self) -> usize {
        let Some(key) = self.key else {
            return 0;
        };
        // The hashes of a group's directory and of each directory above it:
        // computed once for all the upper layers.
        let mut dirs: Vec<u64> = Vec::new();
        let mut survivors = 0;
        for (i, layer) in self.layers.iter().enumerate() {
            let upper = &self.hiding[i + 1..];
            let mut last: Option<(&str, bool)> = None;
            let dir_hidden: Vec<bool> = layer
                .plain_group_dirs()
                .map(|dir| {
                    // A directory's runs of files are often told apart only
                    // by owner or mode: the same directory again.
                    if let Some((_, hidden)) = last.filter(|(d, _)| *d == dir) {
                        return hidden;
                    }
                    path_and_parents(key, dir, &mut dirs);
                    let hidden = upper.iter().any(|h| h.hides_below(&dirs));
                    last = Some((dir, hidden));
                    hidden
                })
                .collect();
            // The upper layers' hashes, walked beside this layer's (all ascending).
            let mut upper: Vec<HashCursor> = upper
                .iter()
                .flat_map(|h| [h.replaced.cursor(), h.layer.plain_cursor()])
                .collect();
            survivors += layer
                .plain_files()
                .filter(|&(hash, group)| {
                    !dir_hidden[group] && !upper.iter_mut().any(|c| c.holds(hash))
                })
                .count();
        }
        survivors
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

    /// The entry at `path` in the merged image. A plain file comes with an
    /// empty path (only its hash is kept).
    pub fn get(&self, path: &str) -> Option<MergedEntry<'a>> {
        self.lookup(path, self.layers.len().checked_sub(1)?)
    }

    /// Paths that survive, whole entries and plain files.
    pub fn len(&self) -> usize {
        self.slots.len() + self.plain_survivors
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Surviving whole entries in path order (plain files are not listed).
    pub fn iter(&self) -> impl Iterator<Item = MergedEntry<'a>> + '_ {
        self.slots.iter().map(|s| self.entry_of(s))
    }

    /// Surviving whole entries strictly below directory `dir`, in path order.
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
    use alloc::collections::BTreeMap;

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

    /// One raw layer: (path as in the tar, kind, mode, link), in tar order.
    type RawLayer = Vec<(String, EntryKind, u32, String)>;

    /// What the reference keeps of a merged path: (layer, kind, mode, link resolved).
    type Kept = (usize, EntryKind, u32, bool);

    /// The overlay rules written the plain way, from the raw entries (a map,
    /// every deletion applied entry by entry), to check the merge against.
    fn reference(raw: &[RawLayer]) -> BTreeMap<String, Kept> {
        let mut map: BTreeMap<String, Kept> = BTreeMap::new();
        let below = |map: &mut BTreeMap<String, Kept>, dir: &str| {
            map.retain(|k, _| !path::is_below(k, dir));
        };
        for (index, layer) in raw.iter().enumerate() {
            // One entry per path, the last written; then in path order.
            let mut entries: BTreeMap<String, (EntryKind, u32, String)> = BTreeMap::new();
            for (p, kind, mode, link) in layer {
                match path::whiteout(p) {
                    Some(path::Whiteout::Opaque(dir)) => below(&mut map, &dir),
                    Some(path::Whiteout::Delete(gone)) => {
                        map.remove(&gone);
                        below(&mut map, &gone);
                    }
                    Some(path::Whiteout::Meta) => {}
                    None => {
                        entries.insert(p.clone(), (*kind, *mode & 0o7777, link.clone()));
                    }
                }
            }
            for (p, (kind, mode, _)) in &entries {
                if *kind != Dir {
                    below(&mut map, p);
                }
                map.insert(p.clone(), (index, *kind, *mode, false));
            }
            // Links to files of the same layer, following chains of links
            // (as `LayerBuilder::finish` does, in path order).
            // The mode each link resolved so takes.
            let mut own: BTreeMap<String, u32> = BTreeMap::new();
            for (p, (kind, _, link)) in &entries {
                if *kind != HardLink {
                    continue;
                }
                let mut target = link.clone();
                for _ in 0..8 {
                    let Some((tk, tm, tl)) = entries.get(&target) else {
                        break;
                    };
                    let resolved = own.get(&target).copied();
                    if *tk == File || resolved.is_some() {
                        own.insert(p.clone(), resolved.unwrap_or(*tm));
                        break;
                    }
                    if *tk != HardLink || target == *p {
                        break;
                    }
                    target = tl.clone();
                }
            }
            for (p, mode) in &own {
                if let Some(me) = map.get_mut(p) {
                    (me.2, me.3) = (*mode, true);
                }
            }
            for (p, (kind, _, link)) in &entries {
                if *kind != HardLink {
                    continue;
                }
                let target = map.get(link).copied();
                if let (Some(t), Some(me)) = (target, map.get_mut(p)) {
                    if !me.3 && (t.1 == File || t.3) {
                        me.2 = t.2;
                        me.3 = true;
                    }
                }
            }
        }
        map
    }

    #[test]
    fn merge_agrees_with_the_plain_rules() {
        // Small names so that layers collide: prefixes of each other ("a",
        // "a-b", "a/b"), whiteouts, opaque dirs, files over dirs, hard links;
        // plain files (kept as hashes) and setuid ones (kept whole).
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
        let limits = LayerLimits {
            path_key: PathKey::new([7, 11]),
            ..LayerLimits::default()
        };
        for _ in 0..20_000 {
            let mut raw: Vec<RawLayer> = Vec::new();
            for _ in 0..1 + rand(4) {
                let mut entries = Vec::new();
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
                    let special = if rand(2) == 0 { 0o4000 } else { 0 };
                    let link = String::from(names[rand(names.len())]);
                    entries.push((path, kind, special | rand(512) as u32, link));
                }
                raw.push(entries);
            }
            let layers: Vec<LayerSummary> = raw
                .iter()
                .map(|entries| {
                    let mut b = LayerBuilder::new(limits);
                    for (p, kind, mode, link) in entries {
                        b.add(RawEntry {
                            path: p.as_bytes(),
                            link: link.as_bytes(),
                            kind: *kind,
                            mode: *mode,
                            uid: 0,
                            gid: 0,
                            capability: None,
                        })
                        .unwrap();
                    }
                    b.finish()
                })
                .collect();
            let refs: Vec<&LayerSummary> = layers.iter().collect();
            let merged = MergedView::merge(&refs);
            let expected = reference(&raw);
            // Whole entries are listed; plain files only counted and found.
            let listed: Vec<(String, Kept)> = merged
                .iter()
                .map(|m| {
                    let e = m.entry;
                    (
                        String::from(e.path),
                        (m.layer, e.kind, e.mode, e.link_resolved),
                    )
                })
                .collect();
            let whole: Vec<(String, Kept)> = expected
                .iter()
                .filter(|(_, k)| {
                    k.1 != File || k.2 & 0o6000 != 0 || !cfg!(feature = "compact-layers")
                })
                .map(|(p, k)| (p.clone(), *k))
                .collect();
            assert_eq!(listed, whole);
            assert_eq!(merged.len(), expected.len());
            for name in names {
                let got = merged
                    .get(name)
                    .map(|m| (m.layer, m.entry.kind, m.entry.mode, m.entry.link_resolved));
                assert_eq!(got, expected.get(name).copied(), "{}", name);
            }
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
