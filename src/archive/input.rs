//! Byte sources for the tar walker. An [`Input`] reads and can skip; a
//! seekable one skips by seeking, so entry contents that are not needed are
//! never read. [`Window`] is one archive member as an `Input` of its own, so
//! a layer stored uncompressed in a seekable archive is skipped through too.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::io::{self, Read, Seek, SeekFrom};

use super::budget::Budget;

const BUFFER: usize = 256 << 10;

pub trait Input {
    /// Read up to `buf.len()` bytes; 0 means the end of the source.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Skip `n` bytes; returns how many were skipped (fewer at the end of the source).
    fn skip(&mut self, n: u64) -> io::Result<u64>;
    /// Bytes consumed so far.
    fn position(&self) -> u64;
    /// Size of the whole source when known (files; not pipes or decoders):
    /// lets the reader tell whether a member lies entirely within it.
    fn total_len(&self) -> Option<u64> {
        None
    }
    /// The walk will not come back before the current position (a tar walk
    /// marks where each entry starts): an input that keeps bytes for it to
    /// read again may drop those before.
    fn mark(&mut self) {}
}

/// Fill `buf` completely unless the source ends; returns the bytes read.
/// A function over `dyn Input`, not a trait method: one copy in the wasm
/// instead of one per input type.
pub fn read_full(input: &mut dyn Input, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match input.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// A boxed input: the archive reader uses this one type inside, so its
/// generic code is compiled once.
pub type DynInput<'a> = Box<dyn Input + 'a>;

impl<I: Input + ?Sized> Input for Box<I> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read(buf)
    }
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        (**self).skip(n)
    }
    fn position(&self) -> u64 {
        (**self).position()
    }
    fn total_len(&self) -> Option<u64> {
        (**self).total_len()
    }
    fn mark(&mut self) {
        (**self).mark()
    }
}

impl<I: Input + ?Sized> Input for &mut I {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read(buf)
    }
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        (**self).skip(n)
    }
    fn position(&self) -> u64 {
        (**self).position()
    }
    fn total_len(&self) -> Option<u64> {
        (**self).total_len()
    }
    fn mark(&mut self) {
        (**self).mark()
    }
}

/// Skip by reading into a scratch buffer.
fn skip_by_reading<R: Read + ?Sized>(r: &mut R, mut n: u64) -> io::Result<u64> {
    let mut scratch = [0u8; 16 << 10];
    let mut skipped = 0;
    while n > 0 {
        let want = n.min(scratch.len() as u64) as usize;
        match r.read(&mut scratch[..want]) {
            Ok(0) => break,
            Ok(k) => {
                skipped += k as u64;
                n -= k as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(skipped)
}

/// A buffered, forward-only source (stdin, pipes, decompressors).
pub struct StreamInput<R: Read> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    position: u64,
}

impl<R: Read> StreamInput<R> {
    pub fn new(inner: R) -> Self {
        StreamInput {
            inner,
            buf: vec![0u8; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            position: 0,
        }
    }

    fn fill(&mut self) -> io::Result<bool> {
        if self.start < self.end {
            return Ok(true);
        }
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => {
                    self.start = 0;
                    self.end = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Input for StreamInput<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        // Large reads bypass the buffer when it is empty.
        if self.start == self.end && out.len() >= self.buf.len() {
            let n = self.inner.read(out)?;
            self.position += n as u64;
            return Ok(n);
        }
        if !self.fill()? {
            return Ok(0);
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        self.position += n as u64;
        Ok(n)
    }

    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let buffered = ((self.end - self.start) as u64).min(n);
        self.start += buffered as usize;
        let rest = skip_by_reading(&mut self.inner, n - buffered)?;
        self.position += buffered + rest;
        Ok(buffered + rest)
    }

    fn position(&self) -> u64 {
        self.position
    }
}

/// A buffered seekable source (a file): skips seek instead of reading.
pub struct SeekInput<R: Read + Seek> {
    inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Position of the next byte the caller gets.
    position: u64,
    len: u64,
}

impl<R: Read + Seek> SeekInput<R> {
    pub fn new(mut inner: R) -> io::Result<Self> {
        let here = inner.stream_position()?;
        let len = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(here))?;
        Ok(SeekInput {
            inner,
            buf: vec![0u8; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
            position: here,
            len,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<R: Read + Seek> Input for SeekInput<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.start == self.end {
            if out.len() >= self.buf.len() {
                let n = self.inner.read(out)?;
                self.position += n as u64;
                return Ok(n);
            }
            let n = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            self.start = 0;
            self.end = n;
            if n == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        self.position += n as u64;
        Ok(n)
    }

    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let buffered = (self.end - self.start) as u64;
        if n <= buffered {
            self.start += n as usize;
            self.position += n;
            return Ok(n);
        }
        let target = self
            .position
            .saturating_add(n)
            .min(self.len.max(self.position));
        // The file may have grown or shrunk; trust the seek, not the length read at open.
        self.inner.seek(SeekFrom::Start(target))?;
        self.start = 0;
        self.end = 0;
        let skipped = target - self.position;
        self.position = target;
        Ok(skipped)
    }

    fn position(&self) -> u64 {
        self.position
    }

    fn total_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

/// One archive member: at most `remaining` bytes of the underlying input.
/// Notes whether the underlying input ended first (a truncated archive).
pub struct Window<'a, I: Input + ?Sized> {
    pub(crate) inner: &'a mut I,
    pub(crate) remaining: &'a mut u64,
    pub(crate) truncated: &'a mut bool,
    start: u64,
}

impl<'a, I: Input + ?Sized> Window<'a, I> {
    pub fn new(inner: &'a mut I, remaining: &'a mut u64, truncated: &'a mut bool) -> Self {
        Window {
            inner,
            remaining,
            truncated,
            start: 0,
        }
    }

    /// A member whose first `start` bytes lie before `inner`'s position:
    /// positions still count from the member's start.
    pub fn resumed_at(mut self, start: u64) -> Self {
        self.start = start;
        self
    }
}

impl<I: Input + ?Sized> Input for Window<'_, I> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if *self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = (*self.remaining).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            *self.truncated = true;
        }
        *self.remaining -= n as u64;
        self.start += n as u64;
        Ok(n)
    }

    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let want = n.min(*self.remaining);
        let done = self.inner.skip(want)?;
        if done < want {
            *self.truncated = true;
        }
        *self.remaining -= done;
        self.start += done;
        Ok(done)
    }

    fn position(&self) -> u64 {
        self.start
    }

    fn mark(&mut self) {
        self.inner.mark()
    }
}

/// Counts the bytes taken from (read or skipped in) the source into the
/// analysis's budget (which the caller keeps while the input itself is
/// moved into decoders): `bytesRead`, and a stream's size so far.
pub struct Counted<'b, I: Input> {
    inner: I,
    budget: &'b Budget,
}

impl<'b, I: Input> Counted<'b, I> {
    pub fn new(inner: I, budget: &'b Budget) -> Self {
        Counted { inner, budget }
    }
}

impl<I: Input> Input for Counted<'_, I> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget.add_consumed(n as u64);
        Ok(n)
    }
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let done = self.inner.skip(n)?;
        self.budget.add_consumed(done);
        Ok(done)
    }
    fn position(&self) -> u64 {
        self.inner.position()
    }
    fn total_len(&self) -> Option<u64> {
        self.inner.total_len()
    }
}

/// An `Input` as `io::Read`, to feed decompressors.
pub struct InputReader<I: Input>(pub I);

impl<I: Input> Read for InputReader<I> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// Bytes already read from an input (to sniff it), served before the rest.
pub struct Peeked<I: Input> {
    head: Vec<u8>,
    at: usize,
    inner: I,
    /// The head was read through another handle: `inner`'s position does not count it.
    head_outside_inner: bool,
}

impl<I: Input> Peeked<I> {
    /// Read up to `n` bytes ahead.
    pub fn new(mut inner: I, n: usize) -> io::Result<Self> {
        let mut head = vec![0u8; n];
        let got = read_full(&mut inner, &mut head)?;
        head.truncate(got);
        Ok(Peeked {
            head,
            at: 0,
            inner,
            head_outside_inner: false,
        })
    }

    /// Serve `head` (already read from `inner`) before the rest of `inner`.
    pub fn with_head(inner: I, head: Vec<u8>) -> Self {
        Peeked {
            head,
            at: 0,
            inner,
            head_outside_inner: true,
        }
    }

    pub fn head(&self) -> &[u8] {
        &self.head[self.at..]
    }
}

impl<I: Input> Input for Peeked<I> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.head.len() {
            let n = buf.len().min(self.head.len() - self.at);
            buf[..n].copy_from_slice(&self.head[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }

    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let from_head = ((self.head.len() - self.at) as u64).min(n);
        self.at += from_head as usize;
        Ok(from_head + self.inner.skip(n - from_head)?)
    }

    fn position(&self) -> u64 {
        let unread = (self.head.len() - self.at) as u64;
        if self.head_outside_inner {
            self.inner.position() + self.at as u64
        } else {
            self.inner.position() - unread
        }
    }

    fn total_len(&self) -> Option<u64> {
        // Positions are the inner input's own when the head came from it.
        self.inner.total_len().filter(|_| !self.head_outside_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn seek_input_skips_and_reads() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        let mut s = SeekInput::new(Cursor::new(data.clone())).unwrap();
        let mut b = [0u8; 4];
        read_full(&mut s, &mut b).unwrap();
        assert_eq!(b, [0, 1, 2, 3]);
        assert_eq!(s.skip(600_000).unwrap(), 600_000);
        read_full(&mut s, &mut b).unwrap();
        assert_eq!(b[0], data[600_004]);
        assert_eq!(s.skip(10 << 20).unwrap(), (1 << 20) - 600_008);
        assert_eq!(s.read(&mut b).unwrap(), 0);
    }

    #[test]
    fn window_marks_truncation() {
        let mut s = StreamInput::new(Cursor::new(vec![7u8; 10]));
        let mut remaining = 20;
        let mut truncated = false;
        let mut w = Window::new(&mut s, &mut remaining, &mut truncated);
        let mut b = [0u8; 32];
        assert_eq!(read_full(&mut w, &mut b).unwrap(), 10);
        assert!(truncated);
        assert_eq!(remaining, 10);
    }

    #[test]
    fn peeked_replays_head() {
        let s = StreamInput::new(Cursor::new(b"hello world".to_vec()));
        let mut p = Peeked::new(s, 5).unwrap();
        assert_eq!(p.head(), b"hello");
        let mut b = [0u8; 11];
        assert_eq!(read_full(&mut p, &mut b).unwrap(), 11);
        assert_eq!(&b, b"hello world");
    }
}
