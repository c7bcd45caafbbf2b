//! Finding where a deflate block starts, without knowing what came before:
//! every bit offset is tried, and a candidate is kept only if its header is
//! one that a real encoder writes (rapidgzip's strict checks): a dynamic
//! block (BTYPE 2) with HLIT ≤ 286, HDIST ≤ 30, a complete code-length code,
//! code lengths that fit, an end-of-block code, complete literal/length
//! and distance codes; or a stored block whose padding is zero and whose
//! LEN is the complement of NLEN. A candidate can still be wrong: the
//! worker decodes from it and moves on to the next if that fails, and the
//! consumer checks that the previous chunk really ended there.

use super::bits::Bits;
use super::huffman::Kind;
use super::inflate::dynamic_header;

/// The first plausible block start in `[from, to)` (bit offsets in `data`).
pub fn find(data: &[u8], from: u64, to: u64) -> Option<u64> {
    let to = to.min(data.len() as u64 * 8);
    (from..to).find(|&p| plausible(data, p))
}

/// Does a block plausibly start at bit `p`?
pub fn plausible(data: &[u8], p: u64) -> bool {
    let mut bits = Bits::new(data, p);
    let head = bits.peek32();
    match (head >> 1) & 3 {
        2 => {
            // HLIT (5 bits after the 3) ≤ 29, HDIST ≤ 29: cheap first.
            if (head >> 3) & 31 > 29 || (head >> 8) & 31 > 29 {
                return false;
            }
            bits.pos += 3;
            dynamic_header(&mut bits, Kind::Strict).is_ok()
        }
        0 => {
            bits.pos += 3;
            let pad = (8 - bits.pos % 8) % 8;
            if pad > 0 && bits.peek32() & ((1 << pad) - 1) != 0 {
                return false;
            }
            if bits.align().is_err() {
                return false;
            }
            let len_nlen = bits.peek32();
            bits.pos + 32 <= bits.len_bits() && (len_nlen & 0xffff) == (!len_nlen >> 16)
        }
        _ => false,
    }
}
