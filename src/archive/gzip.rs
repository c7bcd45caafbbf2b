//! gzip streams of one or more members (as `gzip -d` and Docker read them),
//! decoded with flate2's low-level inflater (zlib-rs, which checks each
//! member's header and CRC): compressed bytes are pushed in and decoded
//! bytes come out, so a decode can stop where its input has no bytes yet and
//! go on later (the browser's layer steps, see `LayerScan`). [`GzipReader`]
//! is the same decoder pulling from a reader.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::vec;

use std::io::{self, Read};

use flate2::{Decompress, FlushDecompress, Status};

use super::budget::{over_budget, Budget};
use super::input::Input;
use crate::analysis::layer::{LayerBuilder, LayerSummary};

/// Bytes of compressed input read at a time.
const INPUT: usize = 64 << 10;

/// A stream that is not gzip, or not deflate where it should be: every
/// gzip decoder here (the parallel one and the split one too) says so in
/// these words, so that their errors are the sequential decoder's.
pub(crate) fn corrupt() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "corrupt gzip stream")
}

/// A stream that ends inside a member.
pub(crate) fn incomplete() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "incomplete gzip stream")
}

/// The decoder's state between pushes.
pub struct Gunzip {
    inflate: Decompress,
    /// A member has begun and not ended: the input may not end here.
    in_member: bool,
}

impl Default for Gunzip {
    fn default() -> Self {
        Gunzip {
            inflate: Decompress::new_gzip(15),
            in_member: false,
        }
    }
}

impl Gunzip {
    /// Decode from `input` into `out`; returns the bytes consumed and produced.
    pub fn decode(&mut self, input: &[u8], out: &mut [u8]) -> io::Result<(usize, usize)> {
        if !self.in_member {
            if input.is_empty() {
                return Ok((0, 0));
            }
            // The next member.
            if self.inflate.total_in() > 0 {
                self.inflate = Decompress::new_gzip(15);
            }
            self.in_member = true;
        }
        let (before_in, before_out) = (self.inflate.total_in(), self.inflate.total_out());
        let status = self
            .inflate
            .decompress(input, out, FlushDecompress::None)
            .map_err(|_| corrupt())?;
        let consumed = (self.inflate.total_in() - before_in) as usize;
        let produced = (self.inflate.total_out() - before_out) as usize;
        if status == Status::StreamEnd {
            self.in_member = false;
        } else if consumed == 0 && produced == 0 && !input.is_empty() && !out.is_empty() {
            return Err(corrupt());
        }
        Ok((consumed, produced))
    }

    /// The input ended: fine between members, a truncation inside one.
    pub fn finish(&self) -> io::Result<()> {
        if self.in_member {
            return Err(incomplete());
        }
        Ok(())
    }
}

/// A [`Gunzip`] with the compressed bytes it pulls, a buffer at a time.
struct Pulling {
    gunzip: Gunzip,
    /// Compressed bytes pulled, `[start, end)` not decoded yet.
    input: Box<[u8]>,
    start: usize,
    end: usize,
    /// Compressed bytes pulled so far.
    taken: u64,
    ended: bool,
}

impl Default for Pulling {
    fn default() -> Self {
        Pulling {
            gunzip: Gunzip::default(),
            input: vec![0u8; INPUT].into_boxed_slice(),
            start: 0,
            end: 0,
            taken: 0,
            ended: false,
        }
    }
}

impl Pulling {
    /// Decode into `out`, pulling compressed bytes with `pull`; 0 at the end.
    /// An error of `pull` leaves the state as it was.
    fn decode(
        &mut self,
        pull: &mut dyn FnMut(&mut [u8]) -> io::Result<usize>,
        out: &mut [u8],
    ) -> io::Result<usize> {
        loop {
            if self.start == self.end && !self.ended {
                let n = pull(&mut self.input)?;
                (self.start, self.end) = (0, n);
                self.taken += n as u64;
                self.ended = n == 0;
            }
            // With no input left, what the inflater still holds comes out.
            let (consumed, produced) =
                self.gunzip.decode(&self.input[self.start..self.end], out)?;
            self.start += consumed;
            if produced > 0 {
                return Ok(produced);
            }
            if self.start == self.end && self.ended {
                self.gunzip.finish()?;
                return Ok(0);
            }
        }
    }
}

/// A [`Gunzip`] pulling its input from a reader.
pub struct GzipReader<R: Read> {
    inner: R,
    pulling: Pulling,
}

impl<R: Read> GzipReader<R> {
    pub fn new(inner: R) -> Self {
        GzipReader {
            inner,
            pulling: Pulling::default(),
        }
    }
}

impl<R: Read> Read for GzipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        let inner = &mut self.inner;
        self.pulling.decode(&mut |buf| inner.read(buf), out)
    }
}

/// A gzip layer decoded in steps (see `LayerScan` in the wasm bindings):
/// the decoder's state between steps, and the decoded bytes that a walk
/// which stopped inside an entry reads again when it starts over. Each
/// decoded byte is charged once to the layer's budget, as the walk reads
/// or skips it: the same charges as a walk in one pass (`scan_layer`).
pub struct GunzipSteps {
    /// The decoder, and the compressed bytes taken from the sources.
    pulling: Pulling,
    /// Decoded bytes `[kept_at, decoded)`, kept since the walk's last mark.
    kept: Vec<u8>,
    kept_at: u64,
    decoded: u64,
    /// What this layer may decode.
    budget: Budget,
    over_budget: bool,
}

impl Default for GunzipSteps {
    fn default() -> Self {
        GunzipSteps::new(None)
    }
}

impl GunzipSteps {
    /// A layer that may decode `allowance` bytes (`None`: no limit).
    pub fn new(allowance: Option<u64>) -> Self {
        GunzipSteps {
            pulling: Pulling::default(),
            kept: Vec::new(),
            kept_at: 0,
            decoded: 0,
            budget: Budget::of(allowance),
            over_budget: false,
        }
    }

    /// What this layer may decode in all (`None`: no limit), from the next
    /// step on: layers decoded by turns on one thread each get, before each
    /// step, what the others left of the budget.
    pub fn set_allowance(&mut self, allowance: Option<u64>) {
        let budget = Budget::of(allowance);
        budget.charge(self.decoded);
        self.budget = budget;
    }

    /// Bytes decoded so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Compressed bytes taken so far: the next step's source starts there.
    pub fn taken(&self) -> u64 {
        self.pulling.taken
    }

    /// This step's decoded stream, from `position` (where the walk starts
    /// over), over `source`: the compressed bytes from [`GunzipSteps::taken`]
    /// on, whose reads may fail where it has no bytes yet.
    pub fn input<'a>(&'a mut self, source: &'a mut dyn Input, position: u64) -> Stepped<'a> {
        Stepped {
            steps: self,
            source,
            position,
        }
    }

    /// The walk is over: the layer's summary, with what was decoded.
    pub fn finish(&self, builder: LayerBuilder) -> LayerSummary {
        let mut summary = builder.finish();
        summary.decompressed = self.decoded;
        summary.over_budget = self.over_budget;
        summary
    }

    /// Decode into `out`, taking compressed bytes from `source`; 0 at the end.
    fn decode(&mut self, source: &mut dyn Input, out: &mut [u8]) -> io::Result<usize> {
        let room = usize::try_from(self.budget.room().saturating_add(1)).unwrap_or(usize::MAX);
        let want = out.len().min(room);
        if want == 0 {
            return Ok(0);
        }
        let n = self
            .pulling
            .decode(&mut |buf| source.read(buf), &mut out[..want])?;
        let fit = self.budget.charge(n as u64);
        self.decoded += fit;
        if fit < n as u64 {
            self.over_budget = true;
            return Err(over_budget());
        }
        Ok(n)
    }
}

/// One step's decoded stream: see [`GunzipSteps::input`]. On an error
/// (or the source's "no bytes yet") its position stays where it was, as a
/// [`StreamInput`](super::input::StreamInput)'s does.
pub struct Stepped<'a> {
    steps: &'a mut GunzipSteps,
    source: &'a mut dyn Input,
    position: u64,
}

impl Input for Stepped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let s = &mut *self.steps;
        if self.position < s.kept_at {
            // The walk starts over at its last mark, never before.
            return Err(io::Error::other("a gzip step went back past its mark"));
        }
        let n = if self.position < s.decoded {
            let at = (self.position - s.kept_at) as usize;
            let n = buf.len().min(s.kept.len() - at);
            buf[..n].copy_from_slice(&s.kept[at..at + n]);
            n
        } else {
            let n = s.decode(self.source, buf)?;
            s.kept.extend_from_slice(&buf[..n]);
            n
        };
        self.position += n as u64;
        Ok(n)
    }

    fn skip(&mut self, n: u64) -> io::Result<u64> {
        let start = self.position;
        let target = start.saturating_add(n);
        let mut scratch = [0u8; 4096];
        if start > self.steps.kept_at {
            // Inside an entry (a padding): the walk may start the entry
            // over, so the bytes are kept, as if read.
            while self.position < target {
                let want = (target - self.position).min(scratch.len() as u64) as usize;
                match self.read(&mut scratch[..want]) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => {
                        self.position = start;
                        return Err(e);
                    }
                }
            }
            return Ok(self.position - start);
        }
        // An entry's content, just after a mark: decoded and dropped.
        let s = &mut *self.steps;
        while s.decoded < target {
            let want = (target - s.decoded).min(scratch.len() as u64) as usize;
            let got = s.decode(self.source, &mut scratch[..want])?;
            s.kept.clear();
            s.kept_at = s.decoded;
            if got == 0 {
                break;
            }
        }
        let skipped = target.min(s.decoded) - start;
        self.position += skipped;
        Ok(skipped)
    }

    fn position(&self) -> u64 {
        self.position
    }

    fn mark(&mut self) {
        let s = &mut *self.steps;
        let drop = self
            .position
            .saturating_sub(s.kept_at)
            .min(s.kept.len() as u64);
        s.kept.drain(..drop as usize);
        s.kept_at += drop;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// What the sequential decoder gives (the parallel one's tests compare with it).
    pub(crate) fn gunzip(data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        GzipReader::new(data).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn members_one_after_another() {
        let mut two = gzip(b"hello ");
        two.extend(gzip(b"world"));
        assert_eq!(gunzip(&two).unwrap(), b"hello world");
        assert_eq!(gunzip(&gzip(b"")).unwrap(), b"");
    }

    #[test]
    fn a_cut_stream_is_truncated_and_junk_is_corrupt() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let whole = gzip(&data);
        for cut in [5, 11, whole.len() / 2, whole.len() - 1] {
            let e = gunzip(&whole[..cut]).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "cut at {cut}");
        }
        let mut junk = gzip(b"hello");
        junk.extend_from_slice(b"not gzip");
        assert_eq!(
            gunzip(&junk).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
        let mut bad_crc = gzip(b"hello");
        let n = bad_crc.len();
        bad_crc[n - 8] ^= 1;
        assert_eq!(
            gunzip(&bad_crc).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }

    #[test]
    fn pushed_a_byte_at_a_time() {
        let whole = gzip(b"a few bytes, pushed one by one");
        let mut g = Gunzip::default();
        let (mut out, mut buf) = (Vec::new(), [0u8; 7]);
        for byte in whole.chunks(1) {
            let mut input = byte;
            while !input.is_empty() {
                let (c, p) = g.decode(input, &mut buf).unwrap();
                out.extend_from_slice(&buf[..p]);
                input = &input[c..];
            }
        }
        // Output the inflater still holds.
        loop {
            let (_, p) = g.decode(&[], &mut buf).unwrap();
            if p == 0 {
                break;
            }
            out.extend_from_slice(&buf[..p]);
        }
        g.finish().unwrap();
        assert_eq!(out, b"a few bytes, pushed one by one");
    }
}
