//! Our own deflate decoder, one block at a time, knowing the exact bit
//! where each block starts and ends (which zlib-rs's safe API does not
//! tell). It decodes a chunk whose preceding 32 KiB are not known yet:
//! a back-reference reaching before the chunk becomes a marker, a 16-bit
//! symbol `MARKER + i` naming byte `i` of that unknown window, resolved
//! later by the consumer. Anything zlib would reject is rejected here too.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;

use super::bits::{Bits, Short};
use super::huffman::{Huffman, Invalid, Kind};

pub const WINDOW: usize = 32 << 10;
/// Symbols ≥ MARKER are markers (`MARKER + index in the unknown window`).
pub const MARKER: u16 = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// The data ran out.
    Short,
    /// Not valid deflate (or not a gzip member where one should start).
    Bad,
    /// The output cap was reached.
    TooBig,
}

impl From<super::super::gzip_member::Fail> for Fail {
    fn from(f: super::super::gzip_member::Fail) -> Self {
        match f {
            super::super::gzip_member::Fail::Short => Fail::Short,
            super::super::gzip_member::Fail::Bad => Fail::Bad,
        }
    }
}

impl From<Short> for Fail {
    fn from(_: Short) -> Fail {
        Fail::Short
    }
}

impl From<Invalid> for Fail {
    fn from(_: Invalid) -> Fail {
        Fail::Bad
    }
}

const LBASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DBASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DEXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
/// The order of the code-length code's lengths.
const ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// The next symbol of code `h`. A code that does not exist is `Bad`, unless
/// the lookup read past the data's end: then the data is only cut short
/// (zlib waits for more input there).
#[inline(always)]
fn symbol(bits: &mut Bits, h: &Huffman) -> Result<u32, Fail> {
    match h.decode(bits.peek32()) {
        Ok((sym, len)) => {
            bits.skip(len)?;
            Ok(sym)
        }
        Err(_) if bits.pos + u64::from(h.bits) > bits.len_bits() => Err(Fail::Short),
        Err(_) => Err(Fail::Bad),
    }
}

/// A dynamic block's header, after BFINAL and BTYPE: its two codes. With
/// `Kind::Strict` (the block finder) incomplete codes are refused.
pub fn dynamic_header(bits: &mut Bits, kind: Kind) -> Result<(Huffman, Huffman), Fail> {
    let nlen = bits.take(5)? as usize + 257;
    let ndist = bits.take(5)? as usize + 1;
    let ncode = bits.take(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err(Fail::Bad);
    }
    let mut pre = [0u8; 19];
    for &i in &ORDER[..ncode] {
        pre[i] = bits.take(3)? as u8;
    }
    let total = nlen + ndist;
    if pre.iter().all(|&l| l == 0) {
        // zlib reads every length of an empty code-length code as a 0 of
        // one bit, then finds no end-of-block code: an error once those
        // bits are there, more input wanted before.
        bits.skip(total as u32)?;
        return Err(Fail::Bad);
    }
    let pre = Huffman::new(&pre, Kind::Precode)?;
    let mut lengths = [0u8; 286 + 30];
    let mut i = 0;
    while i < total {
        let sym = symbol(bits, &pre)?;
        let (value, repeat) = match sym {
            0..=15 => (sym as u8, 1),
            16 => {
                if i == 0 {
                    return Err(Fail::Bad);
                }
                (lengths[i - 1], 3 + bits.take(2)? as usize)
            }
            17 => (0, 3 + bits.take(3)? as usize),
            _ => (0, 11 + bits.take(7)? as usize),
        };
        if i + repeat > total {
            return Err(Fail::Bad);
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return Err(Fail::Bad);
    }
    let data_kind = if kind == Kind::Strict {
        Kind::Strict
    } else {
        Kind::Data
    };
    let lit = Huffman::new(&lengths[..nlen], data_kind)?;
    let dist = Huffman::new(&lengths[nlen..total], data_kind)?;
    Ok((lit, dist))
}

fn fixed() -> (Huffman, Huffman) {
    let mut l = [0u8; 288];
    l[..144].fill(8);
    l[144..256].fill(9);
    l[256..280].fill(7);
    l[280..].fill(8);
    let lit = Huffman::new(&l, Kind::Data).expect("the fixed code is valid");
    let dist = Huffman::new(&[5u8; 32], Kind::Data).expect("the fixed code is valid");
    (lit, dist)
}

/// Decoded symbols, and what back-references may reach.
pub struct Inflater {
    pub out: Vec<u16>,
    /// The member began before `out` and its window is unknown: references
    /// before `out[0]` become markers. Otherwise they are errors (`out`
    /// then starts with the known window, or with the member).
    pub inherited: bool,
    /// Where the current member began in `out` (references never reach
    /// before it).
    pub member_start: usize,
    /// Past the last marker in `out`.
    pub marker_end: usize,
    /// At most this many symbols in `out`.
    pub cap: usize,
}

impl Inflater {
    /// Decoding a chunk after an unknown window.
    pub fn unknown(cap: usize) -> Self {
        Inflater {
            out: Vec::new(),
            inherited: true,
            member_start: 0,
            marker_end: 0,
            cap,
        }
    }

    /// Decoding after a known window (the member's last ≤ 32 KiB).
    pub fn known(window: &[u8], cap: usize) -> Self {
        Inflater {
            out: window.iter().map(|&b| u16::from(b)).collect(),
            inherited: false,
            member_start: 0,
            marker_end: 0,
            cap: cap + window.len(),
        }
    }

    /// Back to `window` alone (to decode again from another bit).
    pub fn reset(&mut self, window_len: usize) {
        self.out.truncate(window_len);
        self.member_start = 0;
        self.marker_end = 0;
    }

    /// A new member begins here.
    pub fn new_member(&mut self) {
        self.inherited = false;
        self.member_start = self.out.len();
    }

    /// The last 32 KiB hold no marker: what follows is plain bytes.
    pub fn clean(&self) -> bool {
        !self.inherited || self.out.len() >= self.marker_end + WINDOW
    }

    /// Decode one block; true if it was the member's last.
    pub fn block(&mut self, bits: &mut Bits) -> Result<bool, Fail> {
        let last = bits.take(1)? == 1;
        match bits.take(2)? {
            0 => {
                bits.align()?;
                let len = bits.take(16)?;
                let nlen = bits.take(16)?;
                if len != !nlen & 0xffff {
                    return Err(Fail::Bad);
                }
                let bytes = bits.bytes(len as usize)?;
                if self.out.len() + bytes.len() > self.cap {
                    return Err(Fail::TooBig);
                }
                self.out.extend(bytes.iter().map(|&b| u16::from(b)));
            }
            1 => {
                let (lit, dist) = fixed();
                self.codes(bits, &lit, &dist)?;
            }
            2 => {
                let (lit, dist) = dynamic_header(bits, Kind::Data)?;
                self.codes(bits, &lit, &dist)?;
            }
            _ => return Err(Fail::Bad),
        }
        Ok(last)
    }

    fn codes(&mut self, bits: &mut Bits, lit: &Huffman, dist: &Huffman) -> Result<(), Fail> {
        loop {
            let sym = symbol(bits, lit)?;
            if sym < 256 {
                self.out.push(sym as u16);
                continue;
            }
            if sym == 256 {
                return Ok(());
            }
            let s = (sym - 257) as usize;
            if s >= 29 {
                return Err(Fail::Bad);
            }
            let len = usize::from(LBASE[s]) + bits.take(u32::from(LEXTRA[s]))? as usize;
            let ds = symbol(bits, dist)? as usize;
            if ds >= 30 {
                return Err(Fail::Bad);
            }
            let d = usize::from(DBASE[ds]) + bits.take(u32::from(DEXTRA[ds]))? as usize;
            self.copy(d, len)?;
            if self.out.len() > self.cap {
                return Err(Fail::TooBig);
            }
        }
    }

    fn copy(&mut self, d: usize, len: usize) -> Result<(), Fail> {
        let at = self.out.len();
        if d > at - self.member_start {
            if !self.inherited {
                return Err(Fail::Bad);
            }
            // Reaching into the unknown window: markers, then copies of
            // what this chunk wrote (which may be markers themselves).
            for i in 0..len {
                let src = (at + i) as isize - d as isize;
                let v = if src < 0 {
                    MARKER + (WINDOW as isize + src) as u16
                } else {
                    self.out[src as usize]
                };
                self.out.push(v);
            }
            self.marker_end = self.out.len();
            return Ok(());
        }
        let src = at - d;
        if d >= len {
            self.out.extend_from_within(src..src + len);
        } else if d == 1 {
            let v = self.out[src];
            self.out.resize(at + len, v);
        } else {
            // From `src` on the output repeats with period `d`: copy what
            // is there, doubling.
            let mut left = len;
            while left > 0 {
                let n = left.min(self.out.len() - src);
                self.out.extend_from_within(src..src + n);
                left -= n;
            }
        }
        if src < self.marker_end && self.out[at..].iter().any(|&v| v >= MARKER) {
            self.marker_end = self.out.len();
        }
        Ok(())
    }
}
