//! Ranking: Top-N and deduplication over `ROW_NUMBER() OVER (..)`.

pub mod top_n;

pub use top_n::{TopNOperator, TopNSpec};
