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

use super::layer::{Entry, EntryKind, LayerSummary};
use super::path;

/// A surviving entry and the index of the layer it comes from.
#[derive(Clone, Copy, Debug)]
pub struct MergedEntry<'a> {
    pub entry: Entry<'a>,
    pub layer: usize,
}

pub struct MergedView<'a> {
    entries: BTreeMap<&'a str, MergedEntry<'a>>,
    layers: Vec<&'a LayerSummary>,
}

/// Remove `dir`'s descendants (not `dir` itself). `scratch` is reused
/// between calls: this runs for every entry of every layer.
fn remove_below<'a>(map: &mut BTreeMap<&'a str, MergedEntry<'a>>, dir: &str, scratch: &mut String) {
    if dir.is_empty() {
        map.clear();
        return;
    }
    scratch.clear();
    scratch.push_str(dir);
    scratch.push('/');
    let prefix = scratch.as_str();
    // Keys below "dir" follow "dir/" and start with it; usually there are none.
    loop {
        let first: Option<&'a str> = map
            .range::<str, _>((
                core::ops::Bound::Included(prefix),
                core::ops::Bound::Unbounded,
            ))
            .next()
            .map(|(k, _)| *k)
            .filter(|k| k.starts_with(prefix));
        match first {
            Some(k) => map.remove(k),
            None => break,
        };
    }
}

impl<'a> MergedView<'a> {
    /// Apply `layers` bottom (index 0) to top.
    pub fn merge(layers: &[&'a LayerSummary]) -> MergedView<'a> {
        let mut map: BTreeMap<&'a str, MergedEntry<'a>> = BTreeMap::new();
        let mut scratch = String::new();
        for (index, layer) in layers.iter().enumerate() {
            for dir in &layer.opaque_dirs {
                remove_below(&mut map, dir, &mut scratch);
            }
            for gone in &layer.whiteouts {
                map.remove(gone.as_str());
                remove_below(&mut map, gone, &mut scratch);
            }
            for entry in layer.entries() {
                if entry.kind != EntryKind::Dir {
                    remove_below(&mut map, entry.path, &mut scratch);
                }
                map.insert(
                    entry.path,
                    MergedEntry {
                        entry,
                        layer: index,
                    },
                );
            }
            // Hard links to files of lower layers: the target as merged so far.
            for entry in layer
                .entries()
                .filter(|e| e.kind == EntryKind::HardLink && !e.link_resolved)
            {
                let target = map.get(entry.link).copied();
                if let (Some(t), Some(me)) = (target, map.get_mut(entry.path)) {
                    let te = t.entry;
                    if te.kind == EntryKind::File || te.link_resolved {
                        me.entry.mode = te.mode;
                        me.entry.uid = te.uid;
                        me.entry.gid = te.gid;
                        me.entry.caps = te.caps;
                        me.entry.link_resolved = true;
                    }
                }
            }
        }
        MergedView {
            entries: map,
            layers: layers.to_vec(),
        }
    }

    pub fn get(&self, path: &str) -> Option<&MergedEntry<'a>> {
        self.entries.get(path)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Surviving entries in path order.
    pub fn iter(&self) -> impl Iterator<Item = &MergedEntry<'a>> + '_ {
        self.entries.values()
    }

    /// Surviving entries strictly below directory `dir`, in path order.
    pub fn entries_below<'s>(
        &'s self,
        dir: &str,
    ) -> impl Iterator<Item = &'s MergedEntry<'a>> + 's {
        let mut lo = String::from(dir);
        lo.push('/');
        let mut hi = String::from(dir);
        hi.push('0');
        self.entries
            .range::<str, _>((
                core::ops::Bound::Included(lo.as_str()),
                core::ops::Bound::Excluded(hi.as_str()),
            ))
            .map(|(_, e)| e)
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// Follow symlinks in every component of `p`, as the kernel would from the
    /// image root. `None` when the path does not exist or a loop is met.
    pub fn resolve(&self, p: &str) -> Option<(String, &MergedEntry<'a>)> {
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
            let Some(entry) = self.entries.get(next.as_str()) else {
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
        let e = self.entries.get(current.as_str())?;
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
