//! Canonical Huffman codes of deflate, with zlib's rules for which code
//! lengths are valid, and a single-level lookup table (indexed by the next
//! `bits` bits of the stream).

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::vec;

/// A code that zlib would reject (or a symbol that no code maps to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid;

/// How strict to be about incomplete codes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The code-length code: must be complete (zlib's CODES).
    Precode,
    /// Literal/length and distance codes: as zlib (LENS, DISTS), an
    /// incomplete code only if its one code is 1 bit long; no codes at all
    /// is allowed (a block without distances).
    Data,
    /// For the block finder: complete, or a single 1-bit code.
    Strict,
}

pub struct Huffman {
    /// `symbol << 4 | length`; 0: no code.
    table: Vec<u16>,
    pub bits: u32,
}

impl Huffman {
    pub fn new(lengths: &[u8], kind: Kind) -> Result<Huffman, Invalid> {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let max = (1..16).rev().find(|&l| count[l] != 0).unwrap_or(0);
        // Kraft: codes left at each length.
        let mut left: i32 = 1;
        for &c in &count[1..16] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return Err(Invalid);
            }
        }
        let single = max == 1 && count[1] == 1;
        match kind {
            Kind::Precode if left > 0 => return Err(Invalid),
            Kind::Data if left > 0 && max > 1 => return Err(Invalid),
            Kind::Strict if left > 0 && !single => return Err(Invalid),
            _ => {}
        }
        let bits = (max as u32).max(1);
        let mut table = vec![0u16; 1 << bits];
        // First code of each length.
        let mut next = [0u32; 16];
        let mut code = 0u32;
        for l in 1..16 {
            code = (code + u32::from(count[l - 1])) << 1;
            next[l] = code;
        }
        for (sym, &l) in lengths.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let l = u32::from(l);
            let c = next[l as usize];
            next[l as usize] += 1;
            let rev = c.reverse_bits() >> (32 - l);
            let entry = ((sym as u16) << 4) | l as u16;
            let mut i = rev as usize;
            while i < table.len() {
                table[i] = entry;
                i += 1 << l;
            }
        }
        Ok(Huffman { table, bits })
    }

    /// (symbol, length) of the code at the start of `peek`.
    #[inline(always)]
    pub fn decode(&self, peek: u32) -> Result<(u32, u32), Invalid> {
        let e = self.table[(peek & ((1 << self.bits) - 1)) as usize];
        if e == 0 {
            return Err(Invalid);
        }
        Ok((u32::from(e >> 4), u32::from(e & 15)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zlib_rules() {
        // Complete: 1, 2, 2.
        assert!(Huffman::new(&[1, 2, 2], Kind::Precode).is_ok());
        // Over-subscribed.
        assert!(Huffman::new(&[1, 1, 1], Kind::Data).is_err());
        // Incomplete: only a single 1-bit code is allowed, never in a precode.
        assert!(Huffman::new(&[0, 1], Kind::Data).is_ok());
        assert!(Huffman::new(&[0, 1], Kind::Precode).is_err());
        assert!(Huffman::new(&[2, 2, 2], Kind::Data).is_err());
        assert!(Huffman::new(&[0, 0], Kind::Data).is_ok());
        assert!(Huffman::new(&[0, 0], Kind::Strict).is_err());
        let h = Huffman::new(&[2, 1, 3, 3], Kind::Precode).unwrap();
        // Symbol 1 has code 0 (1 bit).
        assert_eq!(h.decode(0b110).unwrap(), (1, 1));
        // Symbol 0 has code 10: read first bit 1 then 0, i.e. bits 0b01.
        assert_eq!(h.decode(0b01).unwrap(), (0, 2));
    }
}
