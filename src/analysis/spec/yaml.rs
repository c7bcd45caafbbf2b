//! YAML read as each consumer of a spec reads it. saphyr-parser gives the
//! events with their positions; the tree is built here, because what a
//! scalar *is* depends on who reads the file:
//!
//! - Kubernetes (kubectl, the API server) decodes manifests through
//!   sigs.k8s.io/yaml over go-yaml v2: YAML 1.1, so a plain `yes`, `on`,
//!   `y` is `true` and `no`, `off`, `n` is `false`; ints may be `0x1F`,
//!   `0o17`, `017` (octal), `1_000`; a repeated key keeps its last value
//!   (go-yaml v2's non-strict decoding; `kubectl --validate=strict`
//!   rejects the document).
//! - Compose (compose-go) decodes through go-yaml v3: YAML 1.2 core
//!   schema, so only `true`/`True`/`TRUE` and the `false`s are booleans,
//!   and a repeated key is an error (`mapping key "user" already defined
//!   at line 3`).
//!
//! Both resolve anchors and aliases and honour `<<` merge keys (explicit
//! keys win over merged ones; among merged maps the first wins). Every
//! node keeps its line and column (1-based) for messages and SARIF.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// Whose rules decide what a scalar is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// sigs.k8s.io/yaml (go-yaml v2, YAML 1.1).
    Kubernetes,
    /// compose-go (go-yaml v3, YAML 1.2).
    Compose,
}

/// A position in the file: 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar {
        text: String,
        /// Plain (unquoted, not a block scalar): only then can it be a
        /// boolean, a number or null.
        plain: bool,
        /// `!!str` and the like, as `str`.
        tag: Option<String>,
    },
    Seq(Vec<Node>),
    /// Entries in document order, duplicates and merges resolved.
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

/// Documents of one file, and what was worth saying while reading them.
#[derive(Debug, Default)]
pub struct Stream {
    pub documents: Vec<Node>,
    pub warnings: Vec<String>,
}

/// Aliases are expanded by copying: a "billion laughs" file stops here.
const MAX_NODES: usize = 1_000_000;

/// The error as `file:line:column: message`-ready parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    pub pos: Pos,
    pub message: String,
}

enum Frame {
    Seq {
        pos: Pos,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        pos: Pos,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        pending_key: Option<Node>,
    },
}

fn pos_of(m: &saphyr_parser::Marker) -> Pos {
    Pos {
        line: m.line() as u32,
        column: m.col() as u32 + 1,
    }
}

/// The end of the text, as an editor shows it: the parser places an error
/// or an empty document at the end of the input on the line after the last
/// one, which an editor does not have.
struct End {
    line: u32,
    column: u32,
}

impl End {
    fn of(text: &str) -> End {
        // Line breaks as YAML counts them: LF, CRLF and a lone CR.
        let breaks = text.matches(['\n', '\r']).count() - text.matches("\r\n").count();
        let last = text.rsplit(['\n', '\r']).next().unwrap_or("");
        End {
            line: breaks as u32 + 1,
            column: last.chars().count() as u32 + 1,
        }
    }

    fn within(&self, pos: Pos) -> Pos {
        if pos.line <= self.line {
            return pos;
        }
        Pos {
            line: self.line,
            column: self.column,
        }
    }
}

fn count(node: &Node) -> usize {
    match &node.value {
        Value::Scalar { .. } => 1,
        Value::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Map(e) => 1 + e.iter().map(|(k, v)| count(k) + count(v)).sum::<usize>(),
    }
}

/// Parse every document of `text`.
pub fn parse(text: &str, dialect: Dialect) -> Result<Stream, YamlError> {
    let end = End::of(text);
    let mut parser = Parser::new_from_str(text);
    let mut stream = Stream::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: BTreeMap<usize, Node> = BTreeMap::new();
    let mut nodes = 0usize;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| YamlError {
            pos: end.within(pos_of(e.marker())),
            message: e.info().to_string(),
        })?;
        let pos = end.within(pos_of(&span.start));
        let done: Option<(Node, usize)> = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => None,
            Event::DocumentStart(_) => {
                anchors.clear();
                None
            }
            Event::DocumentEnd => None,
            Event::Alias(id) => {
                let node = anchors.get(&id).cloned().ok_or_else(|| YamlError {
                    pos,
                    message: String::from("unknown anchor"),
                })?;
                nodes += count(&node);
                Some((Node { pos, ..node }, 0))
            }
            Event::Scalar(text, style, anchor, tag) => {
                nodes += 1;
                let tag = tag.map(|t| {
                    if t.handle == "!!" || t.handle == "tag:yaml.org,2002:" {
                        t.suffix.to_string()
                    } else {
                        format!("{}{}", t.handle, t.suffix)
                    }
                });
                Some((
                    Node {
                        value: Value::Scalar {
                            text: text.to_string(),
                            plain: style == ScalarStyle::Plain,
                            tag,
                        },
                        pos,
                    },
                    anchor,
                ))
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq {
                    pos,
                    anchor,
                    items: Vec::new(),
                });
                None
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map {
                    pos,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                });
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq { pos, anchor, items }) => {
                    nodes += 1;
                    Some((
                        Node {
                            value: Value::Seq(items),
                            pos,
                        },
                        anchor,
                    ))
                }
                _ => None,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    pos,
                    anchor,
                    entries,
                    ..
                }) => {
                    nodes += 1;
                    let entries = finish_map(entries, dialect, &mut stream.warnings)?;
                    Some((
                        Node {
                            value: Value::Map(entries),
                            pos,
                        },
                        anchor,
                    ))
                }
                _ => None,
            },
        };
        if nodes > MAX_NODES {
            return Err(YamlError {
                pos,
                message: format!(
                    "more than {} nodes once aliases are expanded: refused",
                    MAX_NODES
                ),
            });
        }
        let Some((node, anchor)) = done else { continue };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            None => stream.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                None => *pending_key = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }
    Ok(stream)
}

fn is_merge_key(key: &Node) -> bool {
    matches!(&key.value, Value::Scalar { text, plain: true, .. } if text == "<<")
}

/// Resolve merge keys and duplicates in one mapping.
fn finish_map(
    raw: Vec<(Node, Node)>,
    dialect: Dialect,
    warnings: &mut Vec<String>,
) -> Result<Vec<(Node, Node)>, YamlError> {
    let mut out: Vec<(Node, Node)> = Vec::with_capacity(raw.len());
    let mut merged: Vec<(Node, Node)> = Vec::new();
    for (key, value) in raw {
        if is_merge_key(&key) {
            let maps: Vec<&Node> = match &value.value {
                Value::Map(_) => alloc::vec![&value],
                Value::Seq(items) => items.iter().collect(),
                Value::Scalar { .. } => Vec::new(),
            };
            if maps.is_empty() || maps.iter().any(|m| !matches!(m.value, Value::Map(_))) {
                return Err(YamlError {
                    pos: value.pos,
                    message: String::from(
                        "map merge requires map or sequence of maps as the value",
                    ),
                });
            }
            for m in maps {
                if let Value::Map(entries) = &m.value {
                    for (k, v) in entries {
                        if !merged.iter().any(|(mk, _)| same_key(mk, k)) {
                            merged.push((k.clone(), v.clone()));
                        }
                    }
                }
            }
            continue;
        }
        if let Some(i) = out.iter().position(|(k, _)| same_key(k, &key)) {
            let first = out[i].0.pos.line;
            let name = key.as_str().unwrap_or("?");
            match dialect {
                Dialect::Compose => {
                    return Err(YamlError {
                        pos: key.pos,
                        message: format!(
                            "mapping key {:?} already defined at line {}",
                            name, first
                        ),
                    })
                }
                Dialect::Kubernetes => {
                    warnings.push(format!(
                        "line {}: key {:?} repeats the one at line {}: sigs.k8s.io/yaml keeps the last value (kubectl --validate=strict rejects the document)",
                        key.pos.line, name, first
                    ));
                    out.remove(i);
                }
            }
        }
        out.push((key, value));
    }
    for (k, v) in merged {
        if !out.iter().any(|(ok, _)| same_key(ok, &k)) {
            out.push((k, v));
        }
    }
    Ok(out)
}

fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Scalar { text: x, .. }, Value::Scalar { text: y, .. }) => x == y,
        _ => a.value == b.value,
    }
}

/// What a scalar decodes to, for one dialect.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Str(&'a str),
}

const K8S_TRUE: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
];
const K8S_FALSE: &[&str] = &[
    "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
];

fn parse_int(text: &str, dialect: Dialect) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let body: String = match dialect {
        // go-yaml v2 drops every '_' before strconv.ParseInt(_, 0, 64).
        Dialect::Kubernetes => body.chars().filter(|&c| c != '_').collect(),
        Dialect::Compose => String::from(body),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = body
        .strip_prefix("0b")
        .filter(|_| dialect == Dialect::Kubernetes)
    {
        (2, d)
    } else if dialect == Dialect::Kubernetes && body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn is_float(text: &str) -> bool {
    let t = text.trim_start_matches(['-', '+']);
    let lower = t.to_ascii_lowercase();
    if matches!(lower.as_str(), ".inf" | ".nan") {
        return true;
    }
    let mut digits = false;
    let mut dot = false;
    let mut exp = false;
    let mut prev = ' ';
    for c in lower.chars() {
        match c {
            '0'..='9' => digits = true,
            '.' if !dot && !exp => dot = true,
            'e' if digits && !exp => exp = true,
            '-' | '+' if prev == 'e' => {}
            _ => return false,
        }
        prev = c;
    }
    digits && (dot || exp)
}

impl Node {
    /// The scalar's text, whatever it decodes to.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn scalar(&self, dialect: Dialect) -> Option<Scalar<'_>> {
        let Value::Scalar { text, plain, tag } = &self.value else {
            return None;
        };
        match tag.as_deref() {
            Some("str") => return Some(Scalar::Str(text)),
            Some("bool") | Some("int") | Some("null") | None => {}
            Some(_) => return Some(Scalar::Str(text)),
        }
        if !plain && tag.is_none() {
            return Some(Scalar::Str(text));
        }
        let t = text.as_str();
        if matches!(t, "" | "~" | "null" | "Null" | "NULL") {
            return Some(Scalar::Null);
        }
        match dialect {
            Dialect::Kubernetes => {
                if K8S_TRUE.contains(&t) {
                    return Some(Scalar::Bool(true));
                }
                if K8S_FALSE.contains(&t) {
                    return Some(Scalar::Bool(false));
                }
            }
            Dialect::Compose => match t {
                "true" | "True" | "TRUE" => return Some(Scalar::Bool(true)),
                "false" | "False" | "FALSE" => return Some(Scalar::Bool(false)),
                _ => {}
            },
        }
        if let Some(i) = parse_int(t, dialect) {
            return Some(Scalar::Int(i));
        }
        if is_float(t) {
            return Some(Scalar::Float);
        }
        Some(Scalar::Str(text))
    }

    pub fn is_null(&self, dialect: Dialect) -> bool {
        matches!(self.scalar(dialect), Some(Scalar::Null))
    }

    /// The value at `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(e) => e,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(i) => i,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_seq(&self) -> bool {
        matches!(self.value, Value::Seq(_))
    }

    /// What the node is, for "must be a boolean"-style messages.
    pub fn kind_name(&self, dialect: Dialect) -> &'static str {
        match (&self.value, self.scalar(dialect)) {
            (Value::Seq(_), _) => "a sequence",
            (Value::Map(_), _) => "a mapping",
            (_, Some(Scalar::Null)) => "null",
            (_, Some(Scalar::Bool(_))) => "a boolean",
            (_, Some(Scalar::Int(_))) | (_, Some(Scalar::Float)) => "a number",
            _ => "a string",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str, d: Dialect) -> Node {
        parse(text, d).unwrap().documents.remove(0)
    }

    #[test]
    fn an_error_at_the_end_is_on_the_last_line() {
        // Found by fuzzing: the parser said line 3 of this two-line text.
        let e = parse("# a comment\n{type:# x", Dialect::Kubernetes).unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (2, 10), "{}", e.message);
        let e = parse("a: [1,\r", Dialect::Compose).unwrap_err();
        assert_eq!(e.pos.line, 2, "{}", e.message);
        // An empty document's place, which a spec error may name.
        let stream = parse("\x1a---", Dialect::Compose).unwrap();
        assert_eq!(stream.documents[0].pos.line, 1);
    }

    #[test]
    fn booleans_per_dialect() {
        let k = doc(
            "a: yes\nb: on\nc: 'yes'\nd: n\ne: True\n",
            Dialect::Kubernetes,
        );
        fn b<'a>(n: &'a Node, key: &str, d: Dialect) -> Scalar<'a> {
            n.get(key).unwrap().scalar(d).unwrap()
        }
        assert_eq!(b(&k, "a", Dialect::Kubernetes), Scalar::Bool(true));
        assert_eq!(b(&k, "b", Dialect::Kubernetes), Scalar::Bool(true));
        assert_eq!(b(&k, "c", Dialect::Kubernetes), Scalar::Str("yes"));
        assert_eq!(b(&k, "d", Dialect::Kubernetes), Scalar::Bool(false));
        assert_eq!(b(&k, "a", Dialect::Compose), Scalar::Str("yes"));
        assert_eq!(b(&k, "e", Dialect::Compose), Scalar::Bool(true));
    }

    #[test]
    fn ints_per_dialect() {
        let n = doc(
            "a: 0755\nb: 0x10\nc: 1_000\nd: 0o17\ne: '1000'\nf: 1e3\n",
            Dialect::Kubernetes,
        );
        let s = |key: &str, d| n.get(key).unwrap().scalar(d).unwrap();
        assert_eq!(s("a", Dialect::Kubernetes), Scalar::Int(0o755));
        assert_eq!(s("a", Dialect::Compose), Scalar::Int(755));
        assert_eq!(s("b", Dialect::Compose), Scalar::Int(16));
        assert_eq!(s("c", Dialect::Kubernetes), Scalar::Int(1000));
        assert_eq!(s("c", Dialect::Compose), Scalar::Str("1_000"));
        assert_eq!(s("d", Dialect::Kubernetes), Scalar::Int(15));
        assert_eq!(s("e", Dialect::Kubernetes), Scalar::Str("1000"));
        assert_eq!(s("f", Dialect::Kubernetes), Scalar::Float);
    }

    #[test]
    fn anchors_merges_and_positions() {
        let n = doc(
            "base: &b\n  user: app\n  privileged: true\nsvc:\n  <<: *b\n  user: root\n",
            Dialect::Compose,
        );
        let svc = n.get("svc").unwrap();
        assert_eq!(svc.get("user").unwrap().as_str(), Some("root"));
        assert_eq!(svc.get("privileged").unwrap().as_str(), Some("true"));
        assert_eq!(svc.get("user").unwrap().pos, Pos { line: 6, column: 9 });
        // An anchored mapping starts at its anchor.
        assert_eq!(n.get("base").unwrap().pos.line, 1);
    }

    #[test]
    fn duplicates_per_dialect() {
        let text = "a: 1\nb: 2\na: 3\n";
        let e = parse(text, Dialect::Compose).unwrap_err();
        assert_eq!(e.message, "mapping key \"a\" already defined at line 1");
        assert_eq!(e.pos.line, 3);
        let s = parse(text, Dialect::Kubernetes).unwrap();
        assert_eq!(s.documents[0].get("a").unwrap().as_str(), Some("3"));
        assert_eq!(s.warnings.len(), 1);
    }

    #[test]
    fn multi_document_and_errors() {
        let s = parse("a: 1\n---\nb: 2\n---\n", Dialect::Kubernetes).unwrap();
        assert!(s.documents.len() >= 2);
        let e = parse("a: [1, 2\n", Dialect::Kubernetes).unwrap_err();
        assert!(e.pos.line >= 1);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='k' {
            text.push_str(&format!(
                "{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
                c = c,
                p = prev
            ));
            prev = c;
        }
        assert!(parse(&text, Dialect::Compose)
            .unwrap_err()
            .message
            .contains("refused"));
    }
}
