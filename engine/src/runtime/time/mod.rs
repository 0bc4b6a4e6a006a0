//! Event time: watermark generation at the sources.

mod assigner;

pub use assigner::{WatermarkAssigner, WatermarkSettings};
