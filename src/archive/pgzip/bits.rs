//! A bit reader over a slice, at an absolute bit position (deflate's order:
//! least significant bit first), so that decoding can start at any bit and
//! says exactly where it stopped.

/// The data ran out: more input is needed (or the stream is truncated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Short;

pub struct Bits<'a> {
    data: &'a [u8],
    pub pos: u64,
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8], pos: u64) -> Self {
        Bits { data, pos }
    }

    pub fn len_bits(&self) -> u64 {
        self.data.len() as u64 * 8
    }

    /// The next 32 bits (zeros past the end: `take` tells if they were real).
    #[inline(always)]
    pub fn peek32(&self) -> u32 {
        let byte = (self.pos >> 3) as usize;
        let shift = self.pos & 7;
        let word = match self.data.get(byte..byte + 8) {
            Some(s) => u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
            None => {
                let mut buf = [0u8; 8];
                if byte < self.data.len() {
                    let n = self.data.len() - byte;
                    buf[..n].copy_from_slice(&self.data[byte..]);
                }
                u64::from_le_bytes(buf)
            }
        };
        (word >> shift) as u32
    }

    #[inline(always)]
    pub fn skip(&mut self, n: u32) -> Result<(), Short> {
        self.pos += u64::from(n);
        if self.pos > self.len_bits() {
            return Err(Short);
        }
        Ok(())
    }

    /// `n` ≤ 24 bits.
    #[inline(always)]
    pub fn take(&mut self, n: u32) -> Result<u32, Short> {
        let v = self.peek32() & ((1u32 << n) - 1);
        self.skip(n)?;
        Ok(v)
    }

    /// To the next byte boundary.
    pub fn align(&mut self) -> Result<(), Short> {
        let aligned = self.pos.next_multiple_of(8);
        self.skip((aligned - self.pos) as u32)
    }

    /// `n` whole bytes from a byte boundary.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], Short> {
        debug_assert!(self.pos % 8 == 0);
        let at = (self.pos / 8) as usize;
        let s = self.data.get(at..at + n).ok_or(Short)?;
        self.pos += n as u64 * 8;
        Ok(s)
    }
}
