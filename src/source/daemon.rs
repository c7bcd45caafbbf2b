//! `docker-daemon:REF`: the image as the Docker Engine API streams it
//! (`GET /images/get?names=REF`, what `docker save` reads), from
//! `DOCKER_HOST` (`unix:///var/run/docker.sock` by default, or `tcp://`).
//! Podman's API service (`podman system service`) answers the same. The
//! stream goes through the archive reader as `docker save | rootless-check -`
//! would, never to disk.

#[allow(unused_imports)]
use std::prelude::rust_2021::*;
#[allow(unused_imports)]
use std::{format, vec};

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::SourceOptions;
use crate::analysis::error::{Error, ErrorCode, Result};
use crate::analysis::reference::Reference;
use crate::analysis::report::{Report, SourceInfo};
use crate::archive::analyze_reader;

const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
/// An answer's status line and headers.
const MAX_HEAD: u64 = 64 << 10;

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// Where the daemon listens.
pub fn daemon_host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| String::from(DEFAULT_HOST))
}

fn connect(host: &str) -> Result<Box<dyn Stream>> {
    let failed = |e: io::Error| {
        Error::new(
            ErrorCode::Network,
            format!("cannot connect to the Docker daemon at {}: {} (is it running? DOCKER_HOST names another)", host, e),
        )
    };
    let stream: Box<dyn Stream> = if let Some(path) = host.strip_prefix("unix://") {
        let s = UnixStream::connect(path).map_err(failed)?;
        s.set_read_timeout(Some(Duration::from_secs(300)))
            .map_err(failed)?;
        Box::new(s)
    } else if let Some(addr) = host.strip_prefix("tcp://") {
        if std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty()) {
            return Err(Error::new(
                ErrorCode::Usage,
                "a daemon behind TLS (DOCKER_TLS_VERIFY) is not supported; use its unix socket, or docker save | rootless-check -",
            ));
        }
        let s = TcpStream::connect(addr.trim_end_matches('/')).map_err(failed)?;
        s.set_read_timeout(Some(Duration::from_secs(300)))
            .map_err(failed)?;
        Box::new(s)
    } else {
        return Err(Error::new(
            ErrorCode::Usage,
            format!("DOCKER_HOST '{}' is neither unix:// nor tcp://", host),
        ));
    };
    Ok(stream)
}

/// A chunked body (RFC 9112 §7.1), as a reader.
struct Chunked<R: BufRead> {
    inner: R,
    left: u64,
    done: bool,
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            (&mut self.inner).take(1024).read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or("");
            self.left = u64::from_str_radix(size, 16).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a bad chunk size from the daemon",
                )
            })?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = (buf.len() as u64).min(self.left) as usize;
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the daemon's answer ended inside a chunk",
            ));
        }
        self.left -= n as u64;
        if self.left == 0 {
            let mut crlf = [0u8; 2];
            self.inner.read_exact(&mut crlf)?;
        }
        Ok(n)
    }
}

/// Analyse the image the daemon knows as `name`.
pub fn analyze(name: &str, given: &str, options: &SourceOptions) -> Result<Report> {
    let host = daemon_host();
    let mut stream = connect(&host)?;
    let request = format!(
        "GET /images/get?names={} HTTP/1.1\r\nHost: docker\r\nUser-Agent: rootless-check/{}\r\nConnection: close\r\n\r\n",
        super::registry::encode(name),
        env!("CARGO_PKG_VERSION")
    );
    let network = |e: io::Error| {
        Error::new(
            ErrorCode::Network,
            format!("the Docker daemon at {}: {}", host, e),
        )
    };
    stream.write_all(request.as_bytes()).map_err(network)?;
    let mut reader = BufReader::with_capacity(1 << 20, stream);
    let mut head = (&mut reader).take(MAX_HEAD);
    let mut status_line = String::new();
    head.read_line(&mut status_line).map_err(network)?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::Registry,
                format!("the Docker daemon at {} did not answer HTTP", host),
            )
        })?;
    let mut chunked = false;
    let mut length = None;
    loop {
        let mut line = String::new();
        if head.read_line(&mut line).map_err(network)? == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            } else if k.eq_ignore_ascii_case("content-length") {
                length = v.parse::<u64>().ok();
            }
        }
    }
    let body: Box<dyn Read + Send> = if chunked {
        Box::new(Chunked {
            inner: reader,
            left: 0,
            done: false,
        })
    } else {
        Box::new(reader.take(length.unwrap_or(u64::MAX)))
    };
    if status != 200 {
        let mut text = String::new();
        let _ = body.take(4096).read_to_string(&mut text);
        let message = daemon_message(&text).unwrap_or_else(|| format!("HTTP {}", status));
        let code = if status == 404 {
            ErrorCode::NotFound
        } else {
            ErrorCode::Registry
        };
        return Err(Error::new(
            code,
            format!("the Docker daemon at {}: {}", host, message),
        ));
    }
    let mut report = analyze_reader(body, &options.read)?;
    let parsed = Reference::parse(name).ok();
    report.input.source = Some(SourceInfo {
        kind: String::from("docker-daemon"),
        reference: given.to_string(),
        resolved: name.to_string(),
        registry: None,
        repository: parsed.as_ref().map(|r| r.name()),
        tag: parsed.and_then(|r| r.tag),
        digest: None,
        platforms: Vec::new(),
    });
    Ok(report)
}

/// The daemon's `{"message": "…"}`, cleaned of control characters.
fn daemon_message(text: &str) -> Option<String> {
    let mut message = None;
    let mut r = crate::analysis::json::Reader::new(text.as_bytes());
    let _ = r.object(&mut |r, key| {
        if key == "message" {
            message = Some(r.string()?);
            Ok(())
        } else {
            r.skip()
        }
    });
    message.map(|m: String| m.chars().filter(|c| !c.is_control()).take(500).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies() {
        let raw = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
        let mut out = String::new();
        Chunked {
            inner: &raw[..],
            left: 0,
            done: false,
        }
        .read_to_string(&mut out)
        .unwrap();
        assert_eq!(out, "hello world");
        let mut cut = Chunked {
            inner: &b"5\r\nhel"[..],
            left: 0,
            done: false,
        };
        assert!(cut.read_to_string(&mut String::new()).is_err());
        let mut bad = Chunked {
            inner: &b"zz\r\n"[..],
            left: 0,
            done: false,
        };
        assert!(bad.read_to_string(&mut String::new()).is_err());
        assert_eq!(
            daemon_message(r#"{"message":"No such image: x\u001b"}"#).as_deref(),
            Some("No such image: x")
        );
    }
}
