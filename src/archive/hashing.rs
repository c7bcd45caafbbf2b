//! SHA-256 of what passes through an [`Input`], for `--verify`. While
//! hashing, skips read instead of seeking: every byte must be seen.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::io;

use sha2::{Digest, Sha256};

use super::input::Input;

pub struct Hashing<I: Input> {
    inner: I,
    hasher: Option<Sha256>,
}

impl<I: Input> Hashing<I> {
    /// Hash only when `enabled`; otherwise a transparent wrapper.
    pub fn new(inner: I, enabled: bool) -> Self {
        Hashing {
            inner,
            hasher: enabled.then(Sha256::new),
        }
    }

    /// Read to the end, so the digest covers everything.
    pub fn drain(&mut self) -> io::Result<()> {
        if self.hasher.is_none() {
            return Ok(());
        }
        let mut buf = vec![0u8; 64 << 10];
        while self.read(&mut buf)? > 0 {}
        Ok(())
    }

    /// `sha256:<hex>`, when hashing.
    pub fn finish(self) -> Option<String> {
        self.hasher.map(|h| digest_string(&h.finalize()))
    }
}

/// `sha256:<hex>` of a SHA-256 hash.
pub fn digest_string(hash: &[u8]) -> String {
    let mut s = String::from("sha256:");
    for b in hash {
        s.push_str(&format!("{:02x}", b));
    }
    s
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    digest_string(&Sha256::digest(bytes))
}

impl<I: Input> Input for Hashing<I> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        Ok(n)
    }

    fn skip(&mut self, n: u64) -> io::Result<u64> {
        if self.hasher.is_none() {
            return self.inner.skip(n);
        }
        let mut buf = [0u8; 16 << 10];
        let mut done = 0;
        while done < n {
            let want = (n - done).min(buf.len() as u64) as usize;
            let got = self.read(&mut buf[..want])?;
            if got == 0 {
                break;
            }
            done += got as u64;
        }
        Ok(done)
    }

    fn position(&self) -> u64 {
        self.inner.position()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::input::StreamInput;
    use std::io::Cursor;

    #[test]
    fn digest_of_abc_with_a_skip() {
        let mut h = Hashing::new(StreamInput::new(Cursor::new(b"abc".to_vec())), true);
        let mut b = [0u8; 1];
        crate::archive::input::read_full(&mut h, &mut b).unwrap();
        assert_eq!(h.skip(5).unwrap(), 2);
        assert_eq!(
            h.finish().unwrap(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
