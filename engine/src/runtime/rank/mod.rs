//! Ranking: Top-N and deduplication over `ROW_NUMBER() OVER (..)`, on an
//! unbounded stream (updating) or per window (append-only, where `RANK()`
//! and `DENSE_RANK()` work too).

pub mod top_n;
pub mod window_top_n;

pub use top_n::{TopNOperator, TopNSpec};
pub use window_top_n::{RankFunction, WindowTopNOperator, WindowTopNSpec};
