//! gzip member headers and trailers (RFC 1952), checked as zlib checks them:
//! for the decoders that inflate members raw (pgzip/, split_gunzip.rs).

/// Why a header could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fail {
    /// The data ends inside it.
    Short,
    /// zlib would refuse it.
    Bad,
}

/// The header at `data[at..]`: its length.
pub fn header(data: &[u8], at: usize) -> Result<usize, Fail> {
    let d = data.get(at..).unwrap_or(&[]);
    let byte = |i: usize| d.get(i).copied().ok_or(Fail::Short);
    if byte(0)? != 0x1f || byte(1)? != 0x8b || byte(2)? != 8 {
        return Err(Fail::Bad);
    }
    let flags = byte(3)?;
    if flags & 0xe0 != 0 {
        return Err(Fail::Bad);
    }
    let mut i = 10;
    byte(i - 1)?;
    if flags & 4 != 0 {
        let xlen = usize::from(byte(i)?) | usize::from(byte(i + 1)?) << 8;
        i += 2 + xlen;
        byte(i - 1)?;
    }
    for flag in [8, 16] {
        if flags & flag != 0 {
            while byte(i)? != 0 {
                i += 1;
            }
            i += 1;
        }
    }
    if flags & 2 != 0 {
        let want = u16::from(byte(i)?) | u16::from(byte(i + 1)?) << 8;
        if zlib_rs::crc32::crc32(0, &d[..i]) as u16 != want {
            return Err(Fail::Bad);
        }
        i += 2;
    }
    Ok(i)
}

/// A member's trailer: CRC-32 and size (mod 2^32) of its decoded bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trailer {
    pub crc: u32,
    pub size: u32,
}

impl Trailer {
    pub fn parse(t: &[u8]) -> Trailer {
        Trailer {
            crc: u32::from_le_bytes([t[0], t[1], t[2], t[3]]),
            size: u32::from_le_bytes([t[4], t[5], t[6], t[7]]),
        }
    }
}
