//! A small JSON reader for the archive's metadata documents (manifest.json,
//! index.json, image manifests and configs).
//!
//! Written by hand rather than with serde_json: the documents have a dozen
//! fields between them, and serde's deserialisers (with the float formatting
//! their error messages link) were the largest part of the wasm.
//!
//! It checks the whole document's syntax (RFC 8259), and decodes the way
//! Docker and containerd do (Go's `encoding/json`), because what matters is
//! what the runtime will run: see [`key_is`] and the callers in `config.rs`.
//! Invalid UTF-8 and lone surrogates in strings become U+FFFD, as in Go.

use alloc::string::String;
use alloc::vec::Vec;

/// Deeper nesting is refused (serde_json's limit; Go's is 10,000). Real
/// documents nest 4 deep.
const MAX_DEPTH: usize = 128;

/// Where reading stopped and what was expected there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fail {
    /// Completes "expected …" (or is a whole message: see [`Fail::message`]).
    pub expected: &'static str,
    /// Byte offset in the document.
    pub offset: usize,
}

impl Fail {
    /// `expected …, at line L column C` (1-based; columns count bytes).
    pub fn message(&self, bytes: &[u8]) -> String {
        let before = &bytes[..self.offset.min(bytes.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = before.len()
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        alloc::format!(
            "expected {} at line {} column {}",
            self.expected,
            line,
            column
        )
    }
}

pub type Result<T> = core::result::Result<T, Fail>;

/// What a value is, from its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

/// Reads one document from the front. Every method that reads a value
/// skips the whitespace before it.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader {
            bytes,
            pos: 0,
            depth: 0,
        }
    }

    pub fn fail<T>(&self, expected: &'static str) -> Result<T> {
        Err(Fail {
            expected,
            offset: self.pos,
        })
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn next_byte(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.bytes.get(self.pos).copied()
    }

    /// The kind of the next value, without reading it.
    pub fn peek(&mut self) -> Result<Kind> {
        Ok(match self.next_byte() {
            Some(b'n') => Kind::Null,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'-' | b'0'..=b'9') => Kind::Number,
            Some(b'"') => Kind::String,
            Some(b'[') => Kind::Array,
            Some(b'{') => Kind::Object,
            _ => return self.fail("a value"),
        })
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<()> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.fail("a value")
        }
    }

    /// Reads a `null` if one comes next: Go leaves the field as it was for
    /// most types, so callers decide what null means.
    pub fn null(&mut self) -> Result<bool> {
        if self.peek()? == Kind::Null {
            self.literal(b"null")?;
            return Ok(true);
        }
        Ok(false)
    }

    pub fn boolean(&mut self) -> Result<bool> {
        match self.next_byte() {
            Some(b't') => self.literal(b"true").map(|_| true),
            Some(b'f') => self.literal(b"false").map(|_| false),
            _ => self.fail("true or false"),
        }
    }

    pub fn string(&mut self) -> Result<String> {
        if self.next_byte() != Some(b'"') {
            return self.fail("a string");
        }
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.extend_from_slice(&self.bytes[start..self.pos]);
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                Some(_) => return self.fail("no control character in a string"),
                None => return self.fail("the string to end"),
            }
        }
        // Go decodes invalid UTF-8 as U+FFFD rather than failing.
        Ok(match String::from_utf8(out) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let byte = match self.bytes.get(self.pos) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                self.pos += 1;
                let unit = self.hex4()?;
                let c = if (0xd800..0xdc00).contains(&unit)
                    && self.bytes[self.pos..].starts_with(b"\\u")
                {
                    // A high surrogate: a low one must follow to make a pair.
                    let save = self.pos;
                    self.pos += 2;
                    let low = self.hex4()?;
                    if (0xdc00..0xe000).contains(&low) {
                        char::from_u32(0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00))
                    } else {
                        self.pos = save;
                        None
                    }
                } else {
                    char::from_u32(unit)
                };
                let mut buf = [0; 4];
                let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                return Ok(());
            }
            _ => return self.fail("a valid escape"),
        };
        out.push(byte);
        self.pos += 1;
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = match self.bytes.get(self.pos) {
                Some(&b) => (b as char).to_digit(16),
                None => None,
            };
            let Some(digit) = digit else {
                return self.fail("four hex digits");
            };
            value = value * 16 + digit;
            self.pos += 1;
        }
        Ok(value)
    }

    /// Checks a number's syntax and returns its text.
    pub fn number(&mut self) -> Result<&'a str> {
        self.skip_whitespace();
        let start = self.pos;
        let digits = |r: &mut Self| {
            let from = r.pos;
            while let Some(b'0'..=b'9') = r.bytes.get(r.pos) {
                r.pos += 1;
            }
            r.pos > from
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        if self.bytes.get(self.pos) == Some(&b'0') {
            self.pos += 1;
        } else if !digits(self) {
            return self.fail("a number");
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return self.fail("a digit");
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return self.fail("a digit");
            }
        }
        // Only ASCII was accepted above.
        Ok(core::str::from_utf8(&self.bytes[start..self.pos]).unwrap_or_default())
    }

    /// Reads an object, calling `field` with each key; `field` must read
    /// (or [`skip`](Self::skip)) the value.
    pub fn object(&mut self, field: &mut dyn FnMut(&mut Self, &str) -> Result<()>) -> Result<()> {
        self.sequence(b'{', b'}', "an object", "`,` or `}`", &mut |r| {
            let key = r.string()?;
            if r.next_byte() != Some(b':') {
                return r.fail("`:`");
            }
            r.pos += 1;
            field(r, &key)
        })
    }

    /// Reads an array, calling `item` for each element; `item` must read
    /// (or [`skip`](Self::skip)) it.
    pub fn array(&mut self, item: &mut dyn FnMut(&mut Self) -> Result<()>) -> Result<()> {
        self.sequence(b'[', b']', "an array", "`,` or `]`", item)
    }

    /// `open`, elements read by `element` and separated by commas, `close`.
    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        expected: &'static str,
        expected_after_element: &'static str,
        element: &mut dyn FnMut(&mut Self) -> Result<()>,
    ) -> Result<()> {
        if self.next_byte() != Some(open) {
            return self.fail(expected);
        }
        self.enter()?;
        if self.next_byte() != Some(close) {
            loop {
                element(self)?;
                match self.next_byte() {
                    Some(b',') => self.pos += 1,
                    Some(b) if b == close => break,
                    _ => return self.fail(expected_after_element),
                }
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(())
    }

    fn enter(&mut self) -> Result<()> {
        if self.depth == MAX_DEPTH {
            return self.fail("less nesting");
        }
        self.pos += 1;
        self.depth += 1;
        Ok(())
    }

    /// Reads any value, checking its syntax, and drops it.
    pub fn skip(&mut self) -> Result<()> {
        match self.peek()? {
            Kind::Null => self.literal(b"null"),
            Kind::Bool => self.boolean().map(drop),
            Kind::Number => self.number().map(drop),
            Kind::String => self.string().map(drop),
            Kind::Array => self.array(&mut |r| r.skip()),
            Kind::Object => self.object(&mut |r, _| r.skip()),
        }
    }

    /// After the document's value: nothing but whitespace may follow.
    pub fn finish(&mut self) -> Result<()> {
        match self.next_byte() {
            None => Ok(()),
            Some(_) => self.fail("the end of the document"),
        }
    }
}

/// Whether a document's key names a field, as Go's `encoding/json` decides:
/// exact match or a case-insensitive one (Unicode simple folding, in which
/// `ſ` is `s` and the Kelvin sign `K` is `k`). Docker and containerd read
/// `{"user": "root"}` as `User`, so must we. `name` is ASCII.
pub fn key_is(key: &str, name: &str) -> bool {
    let mut want = name.bytes();
    for c in key.chars() {
        let c = match c {
            'ſ' => 's',
            '\u{212a}' => 'k',
            c => c.to_ascii_lowercase(),
        };
        if want.next().map(|b| b.to_ascii_lowercase() as char) != Some(c) {
            return false;
        }
    }
    want.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn skip_all(doc: &str) -> core::result::Result<(), String> {
        let mut r = Reader::new(doc.as_bytes());
        r.skip()
            .and_then(|_| r.finish())
            .map_err(|f| f.message(doc.as_bytes()))
    }

    #[test]
    fn valid_documents_are_read_whole() {
        for doc in [
            "null",
            " true ",
            "false",
            "0",
            "-0",
            "-12.5e+3",
            "1E9",
            "\"\"",
            "\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\"",
            "[]",
            "[1, [2, {}], {\"a\": [null]}]",
            "{}",
            "{\"a\":1,\"a\":2}",
            "\n{\"k\" : \"v\" }\n",
        ] {
            assert_eq!(skip_all(doc), Ok(()), "{}", doc);
        }
    }

    #[test]
    fn invalid_documents_say_where() {
        for (doc, message) in [
            ("", "expected a value at line 1 column 1"),
            ("{", "expected a string at line 1 column 2"),
            ("[1,]", "expected a value at line 1 column 4"),
            ("[1 2]", "expected `,` or `]` at line 1 column 4"),
            ("{\"a\" 1}", "expected `:` at line 1 column 6"),
            (
                "{\"a\":1 \"b\":2}",
                "expected `,` or `}` at line 1 column 8",
            ),
            ("{\"a\":}", "expected a value at line 1 column 6"),
            ("{1:2}", "expected a string at line 1 column 2"),
            ("\"abc", "expected the string to end at line 1 column 5"),
            (
                "\"a\tb\"",
                "expected no control character in a string at line 1 column 3",
            ),
            ("\"\\x\"", "expected a valid escape at line 1 column 3"),
            ("\"\\u12\"", "expected four hex digits at line 1 column 6"),
            ("01", "expected the end of the document at line 1 column 2"),
            ("1.", "expected a digit at line 1 column 3"),
            ("1e", "expected a digit at line 1 column 3"),
            ("-", "expected a number at line 1 column 2"),
            ("+1", "expected a value at line 1 column 1"),
            ("nul", "expected a value at line 1 column 1"),
            ("tru", "expected a value at line 1 column 1"),
            (
                "{}\n x",
                "expected the end of the document at line 2 column 2",
            ),
            ("[\n1,\n]", "expected a value at line 3 column 1"),
        ] {
            assert_eq!(skip_all(doc), Err(message.into()), "{}", doc);
        }
    }

    #[test]
    fn nesting_is_limited_without_recursing_further() {
        let ok = alloc::format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(skip_all(&ok), Ok(()));
        let deep = alloc::format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(skip_all(&deep)
            .unwrap_err()
            .starts_with("expected less nesting"));
        // Far deeper than the stack could take if the limit were missing.
        let hostile = "{\"a\":".repeat(1 << 20);
        assert!(skip_all(&hostile)
            .unwrap_err()
            .starts_with("expected less nesting"));
    }

    #[test]
    fn strings_decode_as_go_does() {
        let read = |doc: &[u8]| Reader::new(doc).string();
        assert_eq!(read(b"\"\\u0055ser\"").unwrap(), "User");
        assert_eq!(read(b"\"\\ud83d\\ude00\"").unwrap(), "\u{1f600}");
        // Lone surrogates and invalid UTF-8 become U+FFFD.
        assert_eq!(read(b"\"a\\ud800b\"").unwrap(), "a\u{fffd}b");
        assert_eq!(read(b"\"\\ud800\\u0041\"").unwrap(), "\u{fffd}A");
        assert_eq!(read(b"\"\\udc00\"").unwrap(), "\u{fffd}");
        assert_eq!(read(b"\"r\xffoot\"").unwrap(), "r\u{fffd}oot");
        assert_eq!(read("\"é\"".as_bytes()).unwrap(), "é");
        assert_eq!(read(b"\"a\\u0000b\"").unwrap(), "a\0b");
    }

    #[test]
    fn objects_and_arrays_call_back_in_order() {
        let mut r = Reader::new(br#" {"a": [1, "x"], "b": {"c": true}, "d": null} "#);
        let mut seen = vec![];
        r.object(&mut |r, key| {
            seen.push(String::from(key));
            match key {
                "a" => r.array(&mut |r| r.skip()),
                "b" => r.object(&mut |r, _| r.boolean().map(drop)),
                _ => r.null().map(drop),
            }
        })
        .unwrap();
        r.finish().unwrap();
        assert_eq!(seen, ["a", "b", "d"]);
    }

    #[test]
    fn keys_match_fields_as_in_go() {
        assert!(key_is("User", "User"));
        assert!(key_is("user", "User"));
        assert!(key_is("USER", "User"));
        assert!(key_is("uſer", "User"));
        assert!(key_is("Labels", "labels"));
        assert!(key_is("exposedports", "ExposedPorts"));
        assert!(key_is("\u{212a}", "k"));
        assert!(!key_is("Use", "User"));
        assert!(!key_is("Users", "User"));
        assert!(!key_is("Üser", "User"));
        assert!(!key_is("", "User"));
    }
}
