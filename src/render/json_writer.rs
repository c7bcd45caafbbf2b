//! A small pretty-printing JSON writer that writes the same bytes as
//! `serde_json::to_string_pretty`: two-space indent, `"key": value`, `[]` and
//! `{}` when empty, and serde_json's string escaping (`\"`, `\\`, `\b`, `\t`,
//! `\n`, `\f`, `\r`, other control characters as `\u00xx`, everything else,
//! non-ASCII included, as it is).
//!
//! Written by hand so that the wasm links neither serde's `Serialize` side nor
//! serde_json's serialiser. With the `serde` feature the report types also
//! derive `serde::Serialize`; a test checks that both give the same bytes.

use alloc::string::String;
use alloc::vec::Vec;

/// Writes itself as one JSON value.
pub trait WriteJson {
    fn write_json(&self, w: &mut JsonWriter);
}

#[derive(Default)]
pub struct JsonWriter {
    out: String,
    /// Open objects and arrays.
    depth: usize,
    /// The innermost open object or array has no element yet.
    empty: bool,
    /// A key was written: the next value follows it on the same line.
    after_key: bool,
}

impl JsonWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// The text written so far.
    pub fn finish(self) -> String {
        self.out
    }

    /// Before a value or a key: the separator and indent of a new element.
    fn element(&mut self) {
        if self.after_key {
            self.after_key = false;
        } else if self.depth > 0 {
            self.out.push_str(if self.empty { "\n" } else { ",\n" });
            self.indent();
        }
        self.empty = false;
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, bracket: char) {
        self.element();
        self.out.push(bracket);
        self.depth += 1;
        self.empty = true;
    }

    fn close(&mut self, bracket: char) {
        self.depth -= 1;
        if !self.empty {
            self.out.push('\n');
            self.indent();
        }
        self.out.push(bracket);
        self.empty = false;
    }

    pub fn begin_object(&mut self) {
        self.open('{');
    }

    pub fn end_object(&mut self) {
        self.close('}');
    }

    pub fn begin_array(&mut self) {
        self.open('[');
    }

    pub fn end_array(&mut self) {
        self.close(']');
    }

    /// An object whose fields `fields` writes.
    pub fn object(&mut self, fields: impl FnOnce(&mut Self)) {
        self.begin_object();
        fields(self);
        self.end_object();
    }

    /// An array whose elements `elements` writes.
    pub fn array(&mut self, elements: impl FnOnce(&mut Self)) {
        self.begin_array();
        elements(self);
        self.end_array();
    }

    /// An object's key; its value comes next.
    pub fn key(&mut self, key: &str) {
        self.string(key);
        self.out.push_str(": ");
        self.after_key = true;
    }

    /// `key` and its value.
    pub fn field<T: WriteJson + ?Sized>(&mut self, key: &str, value: &T) {
        self.key(key);
        value.write_json(self);
    }

    pub fn null(&mut self) {
        self.element();
        self.out.push_str("null");
    }

    pub fn bool(&mut self, value: bool) {
        self.element();
        self.out.push_str(if value { "true" } else { "false" });
    }

    pub fn u64(&mut self, value: u64) {
        self.element();
        self.digits(value);
    }

    pub fn i64(&mut self, value: i64) {
        self.element();
        if value < 0 {
            self.out.push('-');
        }
        self.digits(value.unsigned_abs());
    }

    fn digits(&mut self, mut value: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        for &d in &digits[at..] {
            self.out.push(char::from(d));
        }
    }

    pub fn string(&mut self, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.element();
        self.out.push('"');
        let mut start = 0;
        for (i, b) in s.bytes().enumerate() {
            if !matches!(b, b'"' | b'\\' | 0..=0x1f) {
                continue;
            }
            self.out.push_str(&s[start..i]);
            start = i + 1;
            match b {
                b'"' => self.out.push_str("\\\""),
                b'\\' => self.out.push_str("\\\\"),
                b'\x08' => self.out.push_str("\\b"),
                b'\t' => self.out.push_str("\\t"),
                b'\n' => self.out.push_str("\\n"),
                b'\x0c' => self.out.push_str("\\f"),
                b'\r' => self.out.push_str("\\r"),
                _ => {
                    self.out.push_str("\\u00");
                    self.out.push(char::from(HEX[usize::from(b >> 4)]));
                    self.out.push(char::from(HEX[usize::from(b & 0xf)]));
                }
            }
        }
        self.out.push_str(&s[start..]);
        self.out.push('"');
    }
}

/// A value as pretty-printed JSON, ending in a newline.
pub fn to_string<T: WriteJson + ?Sized>(value: &T) -> String {
    let mut w = JsonWriter::new();
    value.write_json(&mut w);
    let mut s = w.finish();
    s.push('\n');
    s
}

impl WriteJson for str {
    fn write_json(&self, w: &mut JsonWriter) {
        w.string(self);
    }
}

impl WriteJson for String {
    fn write_json(&self, w: &mut JsonWriter) {
        w.string(self);
    }
}

impl WriteJson for bool {
    fn write_json(&self, w: &mut JsonWriter) {
        w.bool(*self);
    }
}

macro_rules! unsigned {
    ($($t:ty),*) => {$(
        impl WriteJson for $t {
            fn write_json(&self, w: &mut JsonWriter) {
                w.u64(*self as u64);
            }
        }
    )*};
}
unsigned!(u8, u32, u64, usize);

impl<T: WriteJson + ?Sized> WriteJson for &T {
    fn write_json(&self, w: &mut JsonWriter) {
        (**self).write_json(w);
    }
}

/// `null` for `None`.
impl<T: WriteJson> WriteJson for Option<T> {
    fn write_json(&self, w: &mut JsonWriter) {
        match self {
            Some(v) => v.write_json(w),
            None => w.null(),
        }
    }
}

impl<T: WriteJson> WriteJson for [T] {
    fn write_json(&self, w: &mut JsonWriter) {
        w.begin_array();
        for v in self {
            v.write_json(w);
        }
        w.end_array();
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, w: &mut JsonWriter) {
        self.as_slice().write_json(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn pretty<T: WriteJson + ?Sized>(v: &T) -> String {
        let mut w = JsonWriter::new();
        v.write_json(&mut w);
        w.finish()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_does() {
        let mut all = String::new();
        for c in (0u32..0x300).chain([0x2028, 0x2029, 0xfeff, 0x1f600]) {
            all.push(char::from_u32(c).unwrap());
        }
        for s in [
            all.as_str(),
            "",
            "plain",
            "\"",
            "\\",
            "a\u{0}b\u{1f}\u{7f}é",
        ] {
            assert_eq!(
                pretty(s),
                serde_json::to_string_pretty(s).unwrap(),
                "{:?}",
                s
            );
        }
    }

    #[test]
    fn numbers_and_literals() {
        for n in [0, 1, 9, 10, 99, 100, 4755, u32::MAX as u64, u64::MAX] {
            assert_eq!(pretty(&n), serde_json::to_string(&n).unwrap());
        }
        for n in [0, -1, 7, -10, i64::MIN, i64::MAX] {
            let mut w = JsonWriter::new();
            w.begin_array();
            w.i64(n);
            w.begin_object();
            w.key("n");
            w.i64(n);
            w.end_object();
            w.end_array();
            let expected = serde_json::to_string_pretty(&serde_json::json!([n, { "n": n }]));
            assert_eq!(w.finish(), expected.unwrap());
        }
        assert_eq!(pretty(&true), "true");
        assert_eq!(pretty(&None::<u32>), "null");
    }

    #[test]
    fn nesting_is_indented_as_serde_json_does() {
        let mut w = JsonWriter::new();
        w.begin_object();
        w.field("a", &vec![vec![1u32, 2], vec![], vec![3]]);
        w.key("b");
        w.begin_object();
        w.end_object();
        w.key("c");
        w.begin_array();
        w.begin_object();
        w.field("d", &None::<u8>);
        w.field("e", "x");
        w.end_object();
        w.begin_array();
        w.end_array();
        w.null();
        w.end_array();
        w.field("f", &Vec::<String>::new());
        w.end_object();
        let expected = serde_json::json!({
            "a": [[1, 2], [], [3]],
            "b": {},
            "c": [{ "d": null, "e": "x" }, [], null],
            "f": [],
        });
        assert_eq!(w.finish(), serde_json::to_string_pretty(&expected).unwrap());
        assert_eq!(pretty(&Vec::<u8>::new()), "[]");
    }
}
