//! Zstandard streams of several frames (zstd:chunked layers have many, and
//! skippable frames), decoded one frame after another with ruzstd.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::io::{self, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

/// Counts bytes so a clean end between frames can be told from truncation.
struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

pub struct ZstdReader<R: Read> {
    source: Counting<R>,
    decoder: FrameDecoder,
    in_frame: bool,
    done: bool,
}

/// What is wrong, in a few words. Not ruzstd's own messages: formatting
/// them links its `Display` impls, 5 KiB of the gzipped wasm.
fn invalid(e: FrameDecoderError) -> io::Error {
    let what = match e {
        FrameDecoderError::ReadFrameHeaderError(_)
        | FrameDecoderError::FrameHeaderError(_)
        | FrameDecoderError::FailedToInitialize(_) => "bad frame header",
        FrameDecoderError::WindowSizeTooBig { .. } => "window larger than the decoder allows",
        FrameDecoderError::DictionaryDecodeError(_) | FrameDecoderError::DictNotProvided { .. } => {
            "it needs a dictionary"
        }
        FrameDecoderError::FailedToReadBlockHeader(_) => "bad block header",
        FrameDecoderError::FailedToReadBlockBody(_) => "bad block",
        FrameDecoderError::FailedToReadChecksum(_) => "bad checksum field",
        _ => "bad data",
    };
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt zstd stream: {}", what),
    )
}

impl<R: Read> ZstdReader<R> {
    pub fn new(source: R) -> Self {
        ZstdReader {
            source: Counting {
                inner: source,
                count: 0,
            },
            decoder: FrameDecoder::new(),
            in_frame: false,
            done: false,
        }
    }

    pub fn into_inner(self) -> R {
        self.source.inner
    }
}

impl<R: Read> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.done {
                return Ok(0);
            }
            if !self.in_frame {
                let before = self.source.count;
                match self.decoder.init(&mut self.source) {
                    Ok(()) => self.in_frame = true,
                    Err(FrameDecoderError::ReadFrameHeaderError(
                        ReadFrameHeaderError::SkipFrame { length, .. },
                    )) => {
                        let skipped =
                            io::copy(&mut (&mut self.source).take(length as u64), &mut io::sink())?;
                        if skipped < length as u64 {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "zstd skippable frame ends early",
                            ));
                        }
                    }
                    Err(FrameDecoderError::ReadFrameHeaderError(
                        ReadFrameHeaderError::MagicNumberReadError(_),
                    )) if self.source.count == before => {
                        // Nothing after the last frame: the end of the stream.
                        self.done = true;
                        return Ok(0);
                    }
                    Err(e) => {
                        if self.source.count > before {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "zstd frame header ends early",
                            ));
                        }
                        return Err(invalid(e));
                    }
                }
                continue;
            }
            if self.decoder.can_collect() > 0 {
                return self.decoder.read(buf);
            }
            if self.decoder.is_finished() {
                self.in_frame = false;
                continue;
            }
            self.decoder
                .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                .map_err(invalid)?;
        }
    }
}
