//! Renderers: a [`Report`](crate::Report) as text for people or JSON for machines.

pub mod json;
pub mod text;
