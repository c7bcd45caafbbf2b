//! Renderers: a [`Report`](crate::Report) as text for people or JSON for machines.

pub mod catalogue;
pub mod json;
pub mod json_writer;
pub mod sarif;
pub mod text;
