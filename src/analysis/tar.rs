//! Tar header parsing: ustar, GNU (long names, base-256 numbers, old sparse)
//! and PAX extended headers. Pure functions over bytes; the walker that reads
//! them from a stream lives in `archive::tar_walk`.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::{Error, ErrorCode, Result};

pub const BLOCK: usize = 512;

/// What a header says the entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeFlag {
    Regular,
    HardLink,
    Symlink,
    CharDevice,
    BlockDevice,
    Directory,
    Fifo,
    /// GNU: the next entry's name.
    GnuLongName,
    /// GNU: the next entry's link name.
    GnuLongLink,
    /// PAX: extended attributes for the next entry.
    PaxLocal,
    /// PAX: global attributes (ignored: they carry no per-file ownership we trust).
    PaxGlobal,
    /// GNU old-style sparse file: contents are stored, may be followed by extension blocks.
    GnuSparse,
    /// Anything else (volume labels, vendor types): skipped.
    Other(u8),
}

impl TypeFlag {
    fn from_byte(b: u8) -> TypeFlag {
        match b {
            b'0' | 0 | b'7' => TypeFlag::Regular,
            b'1' => TypeFlag::HardLink,
            b'2' => TypeFlag::Symlink,
            b'3' => TypeFlag::CharDevice,
            b'4' => TypeFlag::BlockDevice,
            b'5' => TypeFlag::Directory,
            b'6' => TypeFlag::Fifo,
            b'L' => TypeFlag::GnuLongName,
            b'K' => TypeFlag::GnuLongLink,
            b'x' | b'X' => TypeFlag::PaxLocal,
            b'g' => TypeFlag::PaxGlobal,
            b'S' => TypeFlag::GnuSparse,
            other => TypeFlag::Other(other),
        }
    }

    /// Extension headers describe the next entry instead of being one.
    pub fn is_extension(self) -> bool {
        matches!(
            self,
            TypeFlag::GnuLongName
                | TypeFlag::GnuLongLink
                | TypeFlag::PaxLocal
                | TypeFlag::PaxGlobal
        )
    }
}

/// One parsed 512-byte header, before extension headers are applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: Vec<u8>,
    pub link_name: Vec<u8>,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Bytes of data stored after the header (rounded up to 512 in the archive).
    pub size: u64,
    pub type_flag: TypeFlag,
    /// GNU old sparse: extension blocks of the sparse map follow this header.
    pub sparse_extended: bool,
}

/// True for an all-zero block (end-of-archive marker).
pub fn is_zero_block(block: &[u8; BLOCK]) -> bool {
    block.iter().all(|&b| b == 0)
}

/// Whether `block` looks like a tar header (checksum matches). Used to sniff content.
pub fn looks_like_header(block: &[u8]) -> bool {
    if block.len() < BLOCK {
        return false;
    }
    let mut b = [0u8; BLOCK];
    b.copy_from_slice(&block[..BLOCK]);
    !is_zero_block(&b) && checksum_ok(&b)
}

fn checksum_ok(block: &[u8; BLOCK]) -> bool {
    let Some(stored) = parse_octal(&block[148..156]) else {
        return false;
    };
    // The checksum field counts as eight spaces. Summing the bytes and, apart,
    // how many have the high bit set gives both sums in one pass (a signed
    // char is 256 less). Eight bytes at a time, in the lanes of a u64: the
    // wasm is built for size, and a plain loop there goes byte by byte.
    let mut block = *block;
    block[148..156].fill(b' ');
    const LOW: u64 = 0x00ff_00ff_00ff_00ff;
    let (mut pairs, mut highs) = (0u64, 0u64);
    for chunk in block.chunks_exact(8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // 64 chunks: at most 64 * 510 in a 16-bit lane, 64 in an 8-bit one.
        pairs += (x & LOW) + ((x >> 8) & LOW);
        highs += (x >> 7) & 0x0101_0101_0101_0101;
    }
    let lanes =
        |x: u64| ((x & 0xffff) + (x >> 16 & 0xffff) + (x >> 32 & 0xffff) + (x >> 48)) as u32;
    let unsigned = lanes(pairs);
    let high = lanes((highs & LOW) + (highs >> 8 & LOW));
    let signed = unsigned as i64 - 256 * high as i64;
    // Some old writers computed the sum over signed chars.
    stored == unsigned as u64 || (signed >= 0 && stored == signed as u64)
}

/// Parse a numeric field: octal ASCII (NUL/space padded) or GNU base-256.
fn parse_numeric(field: &[u8]) -> Option<u64> {
    if let Some(&first) = field.first() {
        if first & 0x80 != 0 {
            // base-256; 0xff marks a negative number, which no id or size may be.
            if first == 0xff {
                return None;
            }
            let mut v: u64 = (first & 0x7f) as u64;
            for &b in &field[1..] {
                v = v.checked_mul(256)?.checked_add(b as u64)?;
            }
            return Some(v);
        }
    }
    parse_octal(field)
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    let mut seen_digit = false;
    let mut i = 0;
    while i < field.len() && (field[i] == b' ' || field[i] == 0) {
        i += 1;
    }
    while i < field.len() {
        let b = field[i];
        match b {
            b'0'..=b'7' => {
                v = v.checked_mul(8)?.checked_add((b - b'0') as u64)?;
                seen_digit = true;
            }
            b' ' | 0 => break,
            _ => return None,
        }
        i += 1;
    }
    // Only padding may follow the digits.
    if field[i..].iter().any(|&b| b != b' ' && b != 0) {
        return None;
    }
    Some(if seen_digit { v } else { 0 })
}

fn c_string(field: &[u8]) -> &[u8] {
    match field.iter().position(|&b| b == 0) {
        Some(n) => &field[..n],
        None => field,
    }
}

fn corrupt(msg: &str) -> Error {
    Error::new(ErrorCode::CorruptTar, msg)
}

/// Parse one header block. The caller has already ruled out a zero block.
pub fn parse_header(block: &[u8; BLOCK]) -> Result<Header> {
    if !checksum_ok(block) {
        return Err(corrupt("tar header checksum mismatch"));
    }
    let magic = &block[257..263];
    let is_ustar = magic == b"ustar\0";
    let mut name = Vec::new();
    if is_ustar {
        // POSIX ustar: a prefix field holds the leading directories of long names.
        let prefix = c_string(&block[345..500]);
        if !prefix.is_empty() {
            name.extend_from_slice(prefix);
            name.push(b'/');
        }
    }
    name.extend_from_slice(c_string(&block[0..100]));
    let numeric = |range: core::ops::Range<usize>, what: &str| {
        parse_numeric(&block[range]).ok_or_else(|| {
            let mut m = String::from("bad numeric field in tar header: ");
            m.push_str(what);
            Error::new(ErrorCode::CorruptTar, m)
        })
    };
    let mode = numeric(100..108, "mode")?;
    let uid = numeric(108..116, "uid")?;
    let gid = numeric(116..124, "gid")?;
    let size = numeric(124..136, "size")?;
    let type_flag = TypeFlag::from_byte(block[156]);
    let size = match type_flag {
        // Links, directories and devices carry no data whatever the size field says
        // (some writers put the target's size there).
        TypeFlag::HardLink
        | TypeFlag::Symlink
        | TypeFlag::CharDevice
        | TypeFlag::BlockDevice
        | TypeFlag::Directory
        | TypeFlag::Fifo => 0,
        _ => size,
    };
    let sparse_extended = type_flag == TypeFlag::GnuSparse && !is_ustar && block[482] != 0;
    Ok(Header {
        name,
        link_name: c_string(&block[157..257]).to_vec(),
        mode: (mode & 0o7777) as u32,
        uid,
        gid,
        size,
        type_flag,
        sparse_extended,
    })
}

/// Whether a GNU sparse extension block says another one follows.
pub fn sparse_block_continues(block: &[u8; BLOCK]) -> bool {
    block[504] != 0
}

/// The PAX keys that matter here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PaxOverrides {
    pub path: Option<Vec<u8>>,
    pub link_path: Option<Vec<u8>>,
    pub size: Option<u64>,
    pub uid: Option<u64>,
    pub gid: Option<u64>,
    /// Raw value of the `security.capability` extended attribute.
    pub capability: Option<Vec<u8>>,
}

const CAP_XATTR: &[u8] = b"security.capability";

/// Parse the body of a PAX extended header (`"LEN key=value\n"` records).
/// Values are binary-safe: the length prefix, not the newline, delimits them.
pub fn parse_pax(body: &[u8], out: &mut PaxOverrides) -> Result<()> {
    let mut rest = body;
    while !rest.is_empty() {
        // Some writers pad the body with NULs.
        if rest[0] == 0 {
            break;
        }
        let space = rest
            .iter()
            .position(|&b| b == b' ')
            .ok_or_else(|| corrupt("PAX record without a length"))?;
        let len_text = &rest[..space];
        if len_text.is_empty() || len_text.len() > 12 || !len_text.iter().all(u8::is_ascii_digit) {
            return Err(corrupt("PAX record with a bad length"));
        }
        // At most 12 digits: fits u64; usize may be 32 bits (wasm32).
        let len = len_text
            .iter()
            .fold(0u64, |v, &d| v * 10 + (d - b'0') as u64);
        if len > rest.len() as u64 {
            return Err(corrupt("PAX record length does not match its content"));
        }
        let len = len as usize;
        if len <= space + 1 || len > rest.len() || rest[len - 1] != b'\n' {
            return Err(corrupt("PAX record length does not match its content"));
        }
        let record = &rest[space + 1..len - 1];
        let eq = record
            .iter()
            .position(|&b| b == b'=')
            .ok_or_else(|| corrupt("PAX record without '='"))?;
        let (key, value) = (&record[..eq], &record[eq + 1..]);
        apply_pax_record(key, value, out)?;
        rest = &rest[len..];
    }
    Ok(())
}

fn pax_number(value: &[u8]) -> Result<u64> {
    if value.is_empty() || value.len() > 20 || !value.iter().all(u8::is_ascii_digit) {
        return Err(corrupt("PAX numeric value is not a number"));
    }
    value
        .iter()
        .try_fold(0u64, |v, &d| {
            v.checked_mul(10)?.checked_add((d - b'0') as u64)
        })
        .ok_or_else(|| corrupt("PAX numeric value overflows"))
}

fn apply_pax_record(key: &[u8], value: &[u8], out: &mut PaxOverrides) -> Result<()> {
    match key {
        b"path" | b"GNU.sparse.name" => out.path = Some(value.to_vec()),
        b"linkpath" => out.link_path = Some(value.to_vec()),
        b"size" => out.size = Some(pax_number(value)?),
        b"uid" => out.uid = Some(pax_number(value)?),
        b"gid" => out.gid = Some(pax_number(value)?),
        _ => {
            if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                if name == CAP_XATTR {
                    out.capability = Some(value.to_vec());
                }
            } else if let Some(name) = key.strip_prefix(b"LIBARCHIVE.xattr.") {
                // libarchive URL-encodes the name and base64-encodes the value.
                if name == CAP_XATTR && out.capability.is_none() {
                    out.capability = base64_decode(value);
                }
            }
        }
    }
    Ok(())
}

/// Standard base64 (padding optional). `None` on any invalid character.
fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header whose name has bytes >= 0x80, with its checksum written as
    /// the unsigned or the signed sum (both exist in the wild).
    fn header_with_checksum(signed: bool) -> [u8; BLOCK] {
        let mut b = [0u8; BLOCK];
        b[..6].copy_from_slice("caf\u{e9}s".as_bytes());
        b[100..108].copy_from_slice(b"0000644\0");
        b[124..136].copy_from_slice(b"00000000000\0");
        b[156] = b'0';
        b[257..263].copy_from_slice(b"ustar\0");
        b[148..156].copy_from_slice(b"        ");
        let sum: i64 = if signed {
            b.iter().map(|&x| (x as i8) as i64).sum()
        } else {
            b.iter().map(|&x| x as i64).sum()
        };
        let field = alloc::format!("{:06o}\0 ", sum);
        b[148..156].copy_from_slice(field.as_bytes());
        b
    }

    /// Blocks of every byte value, all high bytes included, checked against
    /// the checksums summed the plain way.
    #[test]
    fn checksums_of_any_bytes() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..300 {
            let mut b = [0u8; BLOCK];
            for x in b.iter_mut() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                *x = match round % 3 {
                    0 => seed as u8,
                    1 => 0xff,
                    _ => (seed as u8) | 0x80,
                };
            }
            b[148..156].copy_from_slice(b"        ");
            let unsigned: i64 = b.iter().map(|&x| x as i64).sum();
            let signed: i64 = b.iter().map(|&x| (x as i8) as i64).sum();
            for (sum, ok) in [
                (unsigned, true),
                (unsigned + 1, false),
                (signed, signed >= 0),
            ] {
                let field = alloc::format!("{:07o}\0", sum.max(0));
                b[148..156].copy_from_slice(field.as_bytes());
                assert_eq!(checksum_ok(&b), ok, "round {round}, sum {sum}");
            }
        }
    }

    #[test]
    fn checksums_unsigned_and_signed() {
        for signed in [false, true] {
            let mut b = header_with_checksum(signed);
            assert!(checksum_ok(&b), "signed: {}", signed);
            b[0] ^= 1;
            assert!(!checksum_ok(&b), "signed: {}", signed);
        }
    }

    #[test]
    fn octal_and_base256() {
        assert_eq!(parse_numeric(b"0000755\0"), Some(0o755));
        assert_eq!(parse_numeric(b"   644 \0"), Some(0o644));
        assert_eq!(parse_numeric(b"\0\0\0\0\0\0\0\0"), Some(0));
        assert_eq!(parse_numeric(&[0x80, 0, 0, 0, 0, 0, 0x01, 0x00]), Some(256));
        assert_eq!(
            parse_numeric(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        assert_eq!(parse_numeric(b"12x4\0\0\0\0"), None);
        assert_eq!(parse_numeric(b"12 4\0\0\0\0"), None);
    }

    #[test]
    fn pax_records_are_length_delimited() {
        let mut o = PaxOverrides::default();
        let mut body = Vec::new();
        body.extend_from_slice(b"20 path=a/b\nc/d.txt\n");
        body.extend_from_slice(b"12 uid=1000\n");
        // 24-byte record whose value holds a NUL and a newline.
        let value = [1u8, 0, 0, 2, b'\n'];
        let rec_len = 3 + "SCHILY.xattr.security.capability=".len() + value.len() + 1;
        let mut rec = alloc::format!("{} SCHILY.xattr.security.capability=", rec_len).into_bytes();
        rec.extend_from_slice(&value);
        rec.push(b'\n');
        assert_eq!(rec.len(), rec_len);
        body.extend_from_slice(&rec);
        parse_pax(&body, &mut o).unwrap();
        assert_eq!(o.path.as_deref(), Some(&b"a/b\nc/d.txt"[..]));
        assert_eq!(o.uid, Some(1000));
        assert_eq!(o.capability.as_deref(), Some(&value[..]));
    }

    #[test]
    fn pax_rejects_bad_lengths() {
        let mut o = PaxOverrides::default();
        assert!(parse_pax(b"99 path=x\n", &mut o).is_err());
        assert!(parse_pax(b"x path=x\n", &mut o).is_err());
        assert!(parse_pax(b"5 p\n", &mut o).is_err());
    }

    #[test]
    fn libarchive_base64_capability() {
        let mut o = PaxOverrides::default();
        apply_pax_record(
            b"LIBARCHIVE.xattr.security.capability",
            b"AQAAAgAEAAAAAAAAAAAAAAAAAAA=",
            &mut o,
        )
        .unwrap();
        assert_eq!(
            o.capability.as_deref(),
            Some(&[1u8, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0][..])
        );
    }
}
