//! Sluice's own logical plan nodes (DataFusion `Extension` nodes), so
//! DataFusion's optimizer and EXPLAIN see one plan.

mod correlate;
mod watermark;
mod window_tvf;

pub use correlate::{CorrelateNode, TableFunctionScanNode};
pub use watermark::WatermarkNode;
pub use window_tvf::{WINDOW_COLUMNS, WindowTvfNode};

use datafusion::logical_expr::{Extension, LogicalPlan};

/// `node` if `plan` is an extension of type `T`.
pub fn extension<T: 'static>(plan: &LogicalPlan) -> Option<&T> {
    match plan {
        LogicalPlan::Extension(Extension { node }) => node.as_any().downcast_ref::<T>(),
        _ => None,
    }
}
