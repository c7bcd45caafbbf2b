//! A gzip stream inflated on a thread of its own while the caller's thread
//! reads the compressed bytes and takes the decoded ones (native only).
//! Inflating is most of a whole-file gzip's analysis (bench W3: about 85 %
//! of the run); the reading and the tar walk then overlap it on a second
//! core. The decoder on that thread is the sequential one's ([`Gunzip`], as
//! in `GzipReader`), so the bytes and the errors are its own: an error reaches the caller
//! after the bytes decoded before it, as it would from
//! [`GzipReader`](super::gzip::GzipReader).
//!
//! The source is read on the caller's thread (it need not be `Send`) and
//! handed over in chunks. Both directions are bounded: at most
//! [`RAW_IN_FLIGHT`] compressed chunks and [`DECODED_BUFFERS`] decoded
//! buffers exist at a time, and buffers go back to be reused. The inflating
//! thread only ever waits on channels whose other end this reader holds, so
//! dropping the reader ends the thread, which the drop then joins.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::vec;

use std::io::{self, Read};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

use super::gzip::Gunzip;
#[cfg(test)]
use super::gzip::GzipReader;

/// Compressed bytes read from the source at a time.
const RAW_CHUNK: usize = 1 << 20;
/// Compressed chunks handed over and not yet given back.
const RAW_IN_FLIGHT: usize = 4;
/// Decoded bytes per buffer.
const DECODED: usize = 1 << 20;
/// Decoded buffers in all (with the inflating thread, queued, or the one
/// being read here).
const DECODED_BUFFERS: usize = 4;

/// From the inflating thread to the reader.
enum Message {
    /// A decoded buffer and how many of its bytes are decoded bytes.
    Decoded(Vec<u8>, usize),
    /// The stream ended cleanly.
    End,
    /// The decoder's error; nothing follows.
    Failed(io::Error),
    /// A compressed chunk was used up: room for another.
    RawBack(Vec<u8>),
}

/// A gzip stream's decoded bytes, inflated on another thread.
pub struct PipedGunzip<'a> {
    source: Box<dyn Read + 'a>,
    source_ended: bool,
    /// Compressed chunks to the inflating thread (`Err`: the source's error,
    /// an empty chunk: the source's end).
    raw: Option<Sender<io::Result<Vec<u8>>>>,
    raw_in_flight: usize,
    /// Used-up compressed chunks, for the next reads.
    raw_spare: Vec<Vec<u8>>,
    messages: Receiver<Message>,
    /// Decoded buffers given back to the inflating thread.
    decoded_back: Option<Sender<Vec<u8>>>,
    /// The decoded buffer being read, its length and the position in it.
    current: Option<Vec<u8>>,
    current_len: usize,
    at: usize,
    /// The end, or the error returned (its kind and words, for the reads after it).
    ended: bool,
    failed: Option<(io::ErrorKind, String)>,
    thread: Option<JoinHandle<()>>,
}

impl<'a> PipedGunzip<'a> {
    /// The source back if no thread could be started.
    pub fn new(source: Box<dyn Read + 'a>) -> Result<Self, Box<dyn Read + 'a>> {
        let (raw, raw_rx) = channel();
        let (messages_tx, messages) = channel();
        let (decoded_back, decoded_rx) = channel();
        for _ in 0..DECODED_BUFFERS {
            // The receiver is alive: it is in this function.
            let _ = decoded_back.send(vec![0u8; DECODED]);
        }
        let Ok(thread) = std::thread::Builder::new()
            .name("gunzip".into())
            .spawn(move || inflate(raw_rx, messages_tx, decoded_rx))
        else {
            return Err(source);
        };
        Ok(PipedGunzip {
            source,
            source_ended: false,
            raw: Some(raw),
            raw_in_flight: 0,
            raw_spare: Vec::new(),
            messages,
            decoded_back: Some(decoded_back),
            current: None,
            current_len: 0,
            at: 0,
            ended: false,
            failed: None,
            thread: Some(thread),
        })
    }

    /// Hand compressed chunks over until enough are in flight or the source
    /// has ended (its error is handed over too, to come back in its place).
    fn feed(&mut self) {
        let Some(raw) = &self.raw else { return };
        while !self.source_ended && self.raw_in_flight < RAW_IN_FLIGHT {
            let mut chunk = self.raw_spare.pop().unwrap_or_default();
            chunk.resize(RAW_CHUNK, 0);
            let read = loop {
                match self.source.read(&mut chunk) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let sent = match read {
                Ok(n) => {
                    chunk.truncate(n);
                    self.source_ended = n == 0;
                    Ok(chunk)
                }
                Err(e) => {
                    self.source_ended = true;
                    Err(e)
                }
            };
            if raw.send(sent).is_err() {
                return; // the thread ended; its last message says why
            }
            self.raw_in_flight += 1;
        }
    }
}

impl Read for PipedGunzip<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(buf) = &self.current {
                if self.at < self.current_len {
                    let n = out.len().min(self.current_len - self.at);
                    out[..n].copy_from_slice(&buf[self.at..self.at + n]);
                    self.at += n;
                    return Ok(n);
                }
            }
            if let Some((kind, words)) = &self.failed {
                return Err(io::Error::new(*kind, words.clone()));
            }
            if self.ended || out.is_empty() {
                return Ok(0);
            }
            if let (Some(buf), Some(back)) = (self.current.take(), &self.decoded_back) {
                let _ = back.send(buf);
            }
            self.feed();
            match self.messages.recv() {
                Ok(Message::Decoded(buf, len)) => {
                    self.current = Some(buf);
                    self.current_len = len;
                    self.at = 0;
                }
                Ok(Message::RawBack(chunk)) => {
                    self.raw_in_flight -= 1;
                    self.raw_spare.push(chunk);
                }
                Ok(Message::End) => self.ended = true,
                Ok(Message::Failed(e)) => {
                    self.failed = Some((e.kind(), e.to_string()));
                    return Err(e);
                }
                Err(_) => {
                    let e = io::Error::other("the gzip decoder's thread stopped");
                    self.failed = Some((e.kind(), e.to_string()));
                    return Err(e);
                }
            }
        }
    }
}

impl Drop for PipedGunzip<'_> {
    fn drop(&mut self) {
        // Without these senders, whatever the thread waits on ends.
        self.raw = None;
        self.decoded_back = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The inflating thread: decode the compressed chunks as they come into the
/// buffers the reader gives back, until the end, an error, or the reader is
/// gone. [`Gunzip`] decodes straight out of each chunk, as
/// [`GzipReader`](super::gzip::GzipReader)
/// would out of its own buffer, and ends the same way.
fn inflate(
    raw: Receiver<io::Result<Vec<u8>>>,
    messages: Sender<Message>,
    decoded_back: Receiver<Vec<u8>>,
) {
    let mut gunzip = Gunzip::default();
    let mut chunk: Vec<u8> = Vec::new();
    let mut at = 0;
    let mut source_ended = false;
    while let Ok(mut buf) = decoded_back.recv() {
        // Fill the buffer: one message per buffer, not per decoder call.
        let mut len = 0;
        let mut last = None;
        while len < buf.len() {
            if at == chunk.len() && !source_ended {
                if chunk.capacity() > 0 {
                    let _ = messages.send(Message::RawBack(std::mem::take(&mut chunk)));
                }
                at = 0;
                match raw.recv() {
                    Ok(Ok(next)) => {
                        source_ended = next.is_empty();
                        chunk = next;
                    }
                    Ok(Err(e)) => {
                        last = Some(Message::Failed(e));
                        break;
                    }
                    Err(_) => return, // the reader is gone
                }
            }
            match gunzip.decode(&chunk[at..], &mut buf[len..]) {
                Ok((consumed, produced)) => {
                    at += consumed;
                    len += produced;
                    // With no input left, what the inflater held has come out.
                    if produced == 0 && at == chunk.len() && source_ended {
                        last = Some(match gunzip.finish() {
                            Ok(()) => Message::End,
                            Err(e) => Message::Failed(e),
                        });
                        break;
                    }
                }
                Err(e) => {
                    last = Some(Message::Failed(e));
                    break;
                }
            }
        }
        if len > 0 && messages.send(Message::Decoded(buf, len)).is_err() {
            return;
        }
        if let Some(last) = last {
            let _ = messages.send(last);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::gzip::tests::gunzip;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Some compressible bytes: a tar-like run of text and zeros.
    fn sample(len: usize) -> Vec<u8> {
        let mut seed = 7u32;
        (0..len)
            .map(|i| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                if i % 1024 < 300 {
                    b'a' + (seed >> 24) as u8 % 26
                } else if i % 1024 < 400 {
                    (seed >> 16) as u8
                } else {
                    0
                }
            })
            .collect()
    }

    /// A reader handing out at most `step` bytes a call, then an error of
    /// its own after `fail_after` bytes, if given.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
        fail_after: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.fail_after.is_some_and(|f| self.at >= f) {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "the source broke",
                ));
            }
            let mut n = out.len().min(self.step).min(self.data.len() - self.at);
            if let Some(f) = self.fail_after {
                n = n.min(f - self.at);
            }
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// What a reader gives, read `step` bytes at a time: the bytes, and the
    /// error's kind and words if it ended with one.
    fn drain(mut r: impl Read, step: usize) -> (Vec<u8>, Option<(io::ErrorKind, String)>) {
        let mut out = Vec::new();
        let mut buf = vec![0u8; step];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, None),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Some((e.kind(), e.to_string()))),
            }
        }
    }

    fn piped(data: &[u8], step: usize, fail_after: Option<usize>) -> PipedGunzip<'static> {
        PipedGunzip::new(Box::new(Trickle {
            data: data.to_vec(),
            at: 0,
            step,
            fail_after,
        }))
        .unwrap_or_else(|_| std::panic!("no thread"))
    }

    #[test]
    fn the_bytes_of_the_sequential_decoder() {
        let a = sample(3 << 20);
        let b = sample(5000);
        let mut two = gzip(&a);
        two.extend(gzip(b""));
        two.extend(gzip(&b));
        let whole: Vec<u8> = [a.as_slice(), b.as_slice()].concat();
        assert_eq!(gunzip(&two).unwrap(), whole);
        for (step, read) in [(1 << 20, 1 << 16), (1000, 7), (RAW_CHUNK * 3, 3 << 20)] {
            let (out, err) = drain(piped(&two, step, None), read);
            assert!(err.is_none(), "{:?}", err);
            assert!(out == whole, "step {} read {}", step, read);
        }
        assert_eq!(drain(piped(&gzip(b""), 10, None), 10), (vec![], None));
        assert_eq!(drain(piped(b"", 10, None), 10), (vec![], None));
    }

    #[test]
    fn errors_are_the_sequential_decoders_and_come_after_its_bytes() {
        let data = sample(2 << 20);
        let whole = gzip(&data);
        let mut bad_crc = whole.clone();
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        let mut corrupt = whole.clone();
        for i in 0..64 {
            corrupt[whole.len() / 2 + i * 7] ^= 0x55;
        }
        let mut junk = whole.clone();
        junk.extend_from_slice(b"not gzip at all");
        let cases = [
            whole[..whole.len() / 3].to_vec(),
            whole[..whole.len() - 3].to_vec(),
            bad_crc,
            corrupt,
            junk,
            b"\x1f\x8b\x08\x00".to_vec(),
        ];
        for (i, case) in cases.iter().enumerate() {
            let (seq_out, seq_err) = drain(GzipReader::new(case.as_slice()), 1 << 16);
            let (out, err) = drain(piped(case, 4096, None), 1 << 16);
            let seq_err = seq_err.unwrap_or_else(|| std::panic!("case {}: no error", i));
            assert_eq!(err.as_ref(), Some(&seq_err), "case {}", i);
            // The same decoder's bytes before the error (how many come out
            // before it may differ by what one call buffers).
            assert!(
                seq_out.starts_with(&out) || out.starts_with(&seq_out),
                "case {}",
                i
            );
            if i != 3 {
                // Not corrupt: what comes out is the data's start.
                assert!(data.starts_with(&out), "case {}", i);
            }
        }
    }

    #[test]
    fn a_source_error_comes_back_as_it_was_and_stays() {
        let whole = gzip(&sample(4 << 20));
        let mut r = piped(&whole, 100_000, Some(whole.len() / 2));
        let (_, err) = drain(&mut r, 1 << 16);
        let err = err.unwrap();
        assert_eq!(
            err,
            (io::ErrorKind::ConnectionReset, "the source broke".into())
        );
        let again = r.read(&mut [0u8; 10]).unwrap_err();
        assert_eq!((again.kind(), again.to_string()), err);
    }

    #[test]
    fn dropped_early_the_thread_ends() {
        let whole = gzip(&sample(16 << 20));
        for taken in [0usize, 1, 5 << 20] {
            let mut r = piped(&whole, 1 << 20, None);
            let mut buf = vec![0u8; 4096];
            let mut got = 0;
            while got < taken {
                got += r.read(&mut buf).unwrap();
            }
            drop(r); // joins the thread: a hang here fails the test by timeout
        }
    }

    #[test]
    fn a_hostile_header_cannot_stall_it() {
        // A member whose header carries a 3 MiB file name: megabytes of
        // input before the first decoded byte.
        let mut m = vec![0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0xff];
        m.extend(std::iter::repeat_n(b'n', 3 << 20));
        m.push(0);
        let body = gzip(b"after the name");
        m.extend_from_slice(&body[10..]);
        let (seq_out, seq_err) = drain(GzipReader::new(m.as_slice()), 1 << 16);
        assert_eq!(drain(piped(&m, 1 << 16, None), 1 << 16), (seq_out, seq_err));
    }
}
