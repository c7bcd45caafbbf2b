//! rootless-check: tells whether a container image is truly rootless.
//!
//! Data flows one way: bytes → archive reader ([`archive`], `std` only) → layer
//! summaries → merged view → facts and rules → [`analysis::report::Report`] →
//! renderers ([`render`]).
//!
//! The analysis core ([`analysis`]) is `no_std` + `alloc` and does no I/O, so
//! the same code runs natively, in WebAssembly and on embedded targets.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod analysis;
#[cfg(feature = "std")]
pub mod archive;
pub mod cli;
pub mod render;
#[cfg(all(feature = "registry", not(target_arch = "wasm32")))]
pub mod source;
#[cfg(all(target_arch = "wasm32", feature = "std"))]
pub mod wasm;

pub use analysis::error::{Error, ErrorCode};
pub use analysis::report::Report;
