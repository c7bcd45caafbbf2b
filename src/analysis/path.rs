//! Path normalisation for archive member names. Names are untrusted bytes:
//! they become lossy UTF-8, relative to the image root, with `.`/`..` and
//! repeated slashes resolved lexically (`..` never climbs above the root,
//! as an unpacker that refuses to escape its target would do).

use alloc::string::String;
use alloc::vec::Vec;

/// A normalised path: no leading `/`, no `.`/`..`/empty components; `""` is the root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Normalized {
    pub path: String,
    /// A `..` tried to climb above the root.
    pub escaped: bool,
}

pub fn normalize(raw: &[u8]) -> Normalized {
    let text = String::from_utf8_lossy(raw);
    // Most names are normal already (`usr/bin/su`): then they are kept as
    // they are, without splitting and joining (this runs for every entry).
    if text.split('/').all(|c| !matches!(c, "" | "." | "..")) {
        return Normalized {
            path: text.into_owned(),
            escaped: false,
        };
    }
    let mut parts: Vec<&str> = Vec::new();
    let mut escaped = false;
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    escaped = true;
                }
            }
            p => parts.push(p),
        }
    }
    Normalized {
        path: parts.join("/"),
        escaped,
    }
}

/// Resolve a symlink target relative to the directory holding `link_path`.
pub fn resolve_link(link_path: &str, target: &str) -> String {
    if target.starts_with('/') {
        return normalize(target.as_bytes()).path;
    }
    let parent = parent(link_path);
    let mut joined = String::with_capacity(parent.len() + 1 + target.len());
    joined.push_str(parent);
    joined.push('/');
    joined.push_str(target);
    normalize(joined.as_bytes()).path
}

/// The parent of a normalised path (`""` for top-level names).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// The last component of a normalised path.
pub fn file_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// Whether `path` lies strictly below directory `dir` (`""` is the root).
pub fn is_below(path: &str, dir: &str) -> bool {
    if dir.is_empty() {
        return !path.is_empty();
    }
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

/// `/`-prefixed form for people and reports.
pub fn display(path: &str) -> String {
    let mut s = String::with_capacity(path.len() + 1);
    s.push('/');
    s.push_str(path);
    s
}

/// What an overlay whiteout name means, if it is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Whiteout {
    /// `.wh.NAME`: NAME (in the same directory) is deleted from lower layers.
    Delete(String),
    /// `.wh..wh..opq`: the directory's lower contents are hidden.
    Opaque(String),
    /// Other `.wh..wh.*` names (AUFS bookkeeping such as `.wh..wh.plnk`): no effect on content.
    Meta,
}

pub fn whiteout(path: &str) -> Option<Whiteout> {
    let name = file_name(path);
    let rest = name.strip_prefix(".wh.")?;
    let dir = parent(path);
    if rest == ".wh..opq" {
        return Some(Whiteout::Opaque(String::from(dir)));
    }
    if rest.starts_with(".wh.") || rest.is_empty() {
        return Some(Whiteout::Meta);
    }
    let mut target = String::from(dir);
    if !target.is_empty() {
        target.push('/');
    }
    target.push_str(rest);
    Some(Whiteout::Delete(target))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes() {
        assert_eq!(normalize(b"./usr//bin/./su").path, "usr/bin/su");
        assert_eq!(normalize(b"usr/bin/su").path, "usr/bin/su");
        assert_eq!(normalize(b"..a/b.").path, "..a/b.");
        assert_eq!(normalize(b"").path, "");
        assert_eq!(normalize(b"caf\xe9").path, "caf\u{fffd}");
        assert_eq!(normalize(b"/etc/passwd").path, "etc/passwd");
        assert_eq!(normalize(b"usr/bin/").path, "usr/bin");
        assert_eq!(normalize(b"./").path, "");
        let n = normalize(b"../../etc/shadow");
        assert_eq!(n.path, "etc/shadow");
        assert!(n.escaped);
        assert_eq!(normalize(b"a/b/../c").path, "a/c");
        assert!(!normalize(b"a/b/../c").escaped);
    }

    #[test]
    fn links() {
        assert_eq!(resolve_link("a/layer.tar", "../b/layer.tar"), "b/layer.tar");
        assert_eq!(resolve_link("x/layer.tar", "/top.tar"), "top.tar");
        assert_eq!(resolve_link("top", "other"), "other");
    }

    #[test]
    fn below() {
        assert!(is_below("usr/bin/su", "usr"));
        assert!(!is_below("usrx/su", "usr"));
        assert!(!is_below("usr", "usr"));
        assert!(is_below("usr", ""));
    }

    #[test]
    fn whiteouts() {
        assert_eq!(
            whiteout("usr/bin/.wh.su"),
            Some(Whiteout::Delete("usr/bin/su".into()))
        );
        assert_eq!(
            whiteout(".wh.foo.txt"),
            Some(Whiteout::Delete("foo.txt".into()))
        );
        assert_eq!(
            whiteout("srv/tools/.wh..wh..opq"),
            Some(Whiteout::Opaque("srv/tools".into()))
        );
        assert_eq!(whiteout(".wh..wh..opq"), Some(Whiteout::Opaque("".into())));
        assert_eq!(whiteout("x/.wh..wh.plnk"), Some(Whiteout::Meta));
        assert_eq!(whiteout("x/wh.su"), None);
    }
}
