//! A gzip stream's members inflated without checking their CRC-32 and size,
//! which are handed to the caller to check where the decoded bytes go.
//!
//! Node's package decodes a big gzip file this way in a worker thread while
//! the analysis, on the calling thread, reads the decoded tar and checks each
//! member's CRC and size with Node's own crc32 (gunzip-pipe.cjs): the two
//! cores share the work that [`super::gzip`] does on one. This decoder only
//! has to be right on a clean stream: anything it does not expect (a header
//! zlib would refuse, a cut stream, bytes after the last member that are not
//! a member) is an error, and the caller then decodes the file again with
//! the sequential decoder, whose errors are the native CLI's.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::vec;

use std::io::{self, Read};

use zlib_rs::{Inflate, InflateFlush, Status};

use super::gzip::{corrupt, incomplete};
use super::gzip_member::{self, Trailer};

/// Compressed bytes read at a time.
const INPUT: usize = 256 << 10;
/// A member header longer than this (a name or comment field that long) is
/// left to the sequential decoder.
const MAX_HEADER: usize = 64 << 10;

/// What [`SplitGunzip::next`] gives, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece {
    /// This many decoded bytes, at the start of the output buffer.
    Bytes(usize),
    /// The end of a member whose decoded bytes all came before: its trailer.
    MemberEnd(Trailer),
    /// The stream ended cleanly, after a member.
    End,
}

enum State {
    Header,
    Body,
    Trailer,
}

/// The decoder over a reader of the compressed stream.
pub struct SplitGunzip<R: Read> {
    inner: R,
    /// Compressed bytes read and not used yet: `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    state: State,
    inflate: Inflate,
    /// Compressed bytes used so far (headers, bodies and trailers).
    taken: u64,
}

impl<R: Read> SplitGunzip<R> {
    pub fn new(inner: R) -> Self {
        SplitGunzip {
            inner,
            buf: vec![0; INPUT],
            start: 0,
            end: 0,
            eof: false,
            state: State::Header,
            inflate: Inflate::new(false, 15),
            taken: 0,
        }
    }

    /// Compressed bytes used so far.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// The reader, to learn why it failed.
    pub fn reader_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Read until at least `want` bytes wait (fewer only at the input's end).
    fn fill(&mut self, want: usize) -> io::Result<()> {
        while self.end - self.start < want && !self.eof {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                let grown = (self.buf.len() * 2).max(want);
                self.buf.resize(grown, 0);
            }
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.taken += n as u64;
    }

    /// The next piece: decoded bytes into `out` (not empty), a member's end,
    /// or the stream's end.
    pub fn next(&mut self, out: &mut [u8]) -> io::Result<Piece> {
        loop {
            match self.state {
                State::Header => {
                    self.fill(1)?;
                    if self.start == self.end {
                        // Between members (or an empty stream): a clean end.
                        return Ok(Piece::End);
                    }
                    let mut want = 64;
                    let n = loop {
                        self.fill(want)?;
                        match gzip_member::header(&self.buf[self.start..self.end], 0) {
                            Ok(n) => break n,
                            Err(gzip_member::Fail::Short) if !self.eof && want < MAX_HEADER => {
                                want = (self.end - self.start + 1).max(want * 2);
                            }
                            Err(gzip_member::Fail::Short) => return Err(incomplete()),
                            Err(gzip_member::Fail::Bad) => return Err(corrupt()),
                        }
                    };
                    self.consume(n);
                    self.inflate.reset(false);
                    self.state = State::Body;
                }
                State::Body => {
                    if self.start == self.end {
                        self.fill(1)?;
                        if self.start == self.end {
                            return Err(incomplete());
                        }
                    }
                    let (in_before, out_before) =
                        (self.inflate.total_in(), self.inflate.total_out());
                    let status = self
                        .inflate
                        .decompress(&self.buf[self.start..self.end], out, InflateFlush::NoFlush)
                        .map_err(|_| corrupt())?;
                    let used = (self.inflate.total_in() - in_before) as usize;
                    let produced = (self.inflate.total_out() - out_before) as usize;
                    self.consume(used);
                    if status == Status::StreamEnd {
                        self.state = State::Trailer;
                    } else if used == 0 && produced == 0 {
                        // It wants more input than is here.
                        let have = self.end - self.start;
                        self.fill(have + 1)?;
                        if self.end - self.start == have {
                            return Err(incomplete());
                        }
                    }
                    if produced > 0 {
                        return Ok(Piece::Bytes(produced));
                    }
                }
                State::Trailer => {
                    self.fill(8)?;
                    if self.end - self.start < 8 {
                        return Err(incomplete());
                    }
                    let trailer = Trailer::parse(&self.buf[self.start..self.start + 8]);
                    self.consume(8);
                    self.state = State::Header;
                    return Ok(Piece::MemberEnd(trailer));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::gzip::tests::gunzip;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// The decoded bytes, and each trailer with the decoded length at its member's end.
    type Split = (Vec<u8>, Vec<(Trailer, usize)>);

    /// The decoded bytes and the trailers, through a reader that gives
    /// `step` bytes at a time, into an output buffer of `out` bytes.
    fn split(data: &[u8], step: usize, out: usize) -> io::Result<Split> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(self.1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut d = SplitGunzip::new(Trickle(data, step));
        let mut buf = vec![0u8; out];
        let (mut bytes, mut ends) = (Vec::new(), Vec::new());
        for _ in 0..10_000_000 {
            match d.next(&mut buf)? {
                Piece::Bytes(n) => bytes.extend_from_slice(&buf[..n]),
                Piece::MemberEnd(t) => ends.push((t, bytes.len())),
                Piece::End => {
                    assert_eq!(d.taken(), data.len() as u64);
                    return Ok((bytes, ends));
                }
            }
        }
        Err(io::Error::other("the decoder never ended"))
    }

    #[test]
    fn members_and_their_trailers_in_order() {
        let a: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let b = b"second member".to_vec();
        let mut data = gzip(&a);
        data.extend(gzip(&b));
        data.extend(gzip(b""));
        let whole = gunzip(&data).unwrap();
        for (step, out) in [(1, 1), (7, 1000), (1 << 20, 1 << 20)] {
            let (bytes, ends) = split(&data, step, out).unwrap();
            assert_eq!(bytes, whole);
            let crc = |d: &[u8]| zlib_rs::crc32::crc32(0, d);
            let expected = [
                (
                    Trailer {
                        crc: crc(&a),
                        size: a.len() as u32,
                    },
                    a.len(),
                ),
                (
                    Trailer {
                        crc: crc(&b),
                        size: b.len() as u32,
                    },
                    a.len() + b.len(),
                ),
                (Trailer { crc: 0, size: 0 }, a.len() + b.len()),
            ];
            assert_eq!(ends, expected, "step {step}");
        }
    }

    #[test]
    fn a_bad_crc_is_the_callers_to_find() {
        let mut data = gzip(b"hello");
        let n = data.len();
        data[n - 8] ^= 1;
        let (bytes, ends) = split(&data, 3, 2).unwrap();
        assert_eq!(bytes, b"hello");
        assert_ne!(ends[0].0.crc, zlib_rs::crc32::crc32(0, b"hello"));
    }

    #[test]
    fn cut_junk_and_trailing_bytes_are_errors() {
        let data = gzip(&[5u8; 5000]);
        for cut in [1, 5, 10, data.len() / 2, data.len() - 4, data.len() - 1] {
            let e = split(&data[..cut], 3, 100).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
        }
        assert!(split(b"not gzip at all", 4, 100).is_err());
        let mut padded = data.clone();
        padded.extend([0u8; 16]);
        assert!(split(&padded, 1 << 20, 100).is_err());
        let mut bad = data.clone();
        bad[12] ^= 0xff;
        assert!(split(&bad, 1 << 20, 100).is_err());
        assert_eq!(split(b"", 1, 1).unwrap(), (vec![], vec![]));
    }
}
