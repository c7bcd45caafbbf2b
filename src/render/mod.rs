//! Renderers: a [`Report`](crate::Report) as text for people, JSON and SARIF
//! for machines, Markdown and JUnit for CI, an SVG or shields.io badge for
//! documentation pages.

pub mod badge;
pub mod catalogue;
pub mod json;
pub mod json_writer;
pub mod junit;
pub mod markdown;
pub mod sarif;
pub mod text;
