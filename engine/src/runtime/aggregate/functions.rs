//! The aggregate calls of one GROUP BY: DataFusion's physical aggregate
//! expressions (so every built-in aggregate and every UDAF works), their
//! `FILTER (WHERE ..)` clauses, and accumulators that can also retract when
//! the input is updating.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::compute::filter;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Accumulator;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;

use crate::error::{Result, SluiceError};

/// One aggregate call and its optional filter.
#[derive(Debug, Clone)]
pub struct AggregateCall {
    pub expr: Arc<AggregateFunctionExpr>,
    pub filter: Option<Arc<dyn PhysicalExpr>>,
}

/// The aggregate calls of one operator.
#[derive(Debug, Clone)]
pub struct AggregateCalls {
    pub calls: Vec<AggregateCall>,
    /// Accumulators must support `retract` (updating input).
    pub retract: bool,
}

/// A batch's aggregate inputs, evaluated once: per call, its argument
/// arrays and its filter mask.
pub struct CallInputs {
    pub args: Vec<Vec<ArrayRef>>,
    pub masks: Vec<Option<BooleanArray>>,
}

impl AggregateCalls {
    /// Checks at plan time that every call can run here.
    pub fn validate(&self) -> Result<()> {
        if !self.retract {
            return Ok(());
        }
        for c in &self.calls {
            let name = c.expr.fun().name().to_ascii_lowercase();
            if is_min_max(&name) {
                continue;
            }
            if c.expr.is_distinct() {
                return Err(SluiceError::not_supported(format!(
                    "{}(DISTINCT ..) over an updating input",
                    c.expr.fun().name()
                )));
            }
            // An accumulator without retract may refuse to be created as a
            // sliding one at all: the same answer either way.
            let retracts = c
                .expr
                .create_sliding_accumulator()
                .is_ok_and(|acc| acc.supports_retract_batch());
            if !retracts {
                return Err(SluiceError::not_supported(format!(
                    "aggregate '{}' over an updating input: it cannot retract",
                    c.expr.fun().name()
                )));
            }
        }
        Ok(())
    }

    /// Fresh accumulators for one group (or window pane).
    pub fn accumulators(&self) -> Result<Vec<Box<dyn Accumulator>>> {
        self.calls
            .iter()
            .map(|c| {
                if !self.retract {
                    return Ok(c.expr.create_accumulator()?);
                }
                let name = c.expr.fun().name().to_ascii_lowercase();
                if is_min_max(&name) {
                    return Ok(Box::new(RetractableMinMax::new(
                        name == "max",
                        c.expr.field().data_type().clone(),
                    )) as Box<dyn Accumulator>);
                }
                Ok(c.expr.create_sliding_accumulator()?)
            })
            .collect()
    }

    /// Evaluates every call's arguments and filter over `batch`.
    pub fn inputs(&self, batch: &RecordBatch) -> Result<CallInputs> {
        let n = batch.num_rows();
        let mut args = Vec::with_capacity(self.calls.len());
        let mut masks = Vec::with_capacity(self.calls.len());
        for c in &self.calls {
            let a = c
                .expr
                .expressions()
                .iter()
                .map(|e| e.evaluate(batch).and_then(|v| v.into_array(n)))
                .collect::<datafusion::error::Result<Vec<_>>>()?;
            args.push(a);
            masks.push(match &c.filter {
                None => None,
                Some(f) => {
                    let m = f.evaluate(batch)?.into_array(n)?;
                    Some(m.as_boolean().clone())
                }
            });
        }
        Ok(CallInputs { args, masks })
    }
}

impl CallInputs {
    /// Takes rows by `indices` from every argument and mask (used to lay a
    /// batch out group by group).
    pub fn take(&self, indices: &datafusion::arrow::array::UInt32Array) -> Result<CallInputs> {
        let take = |a: &ArrayRef| datafusion::arrow::compute::take(a.as_ref(), indices, None);
        Ok(CallInputs {
            args: self
                .args
                .iter()
                .map(|a| {
                    a.iter()
                        .map(take)
                        .collect::<std::result::Result<Vec<_>, _>>()
                })
                .collect::<std::result::Result<Vec<_>, _>>()?,
            masks: self
                .masks
                .iter()
                .map(|m| {
                    m.as_ref()
                        .map(|m| {
                            take(&(Arc::new(m.clone()) as ArrayRef)).map(|a| a.as_boolean().clone())
                        })
                        .transpose()
                })
                .collect::<std::result::Result<Vec<_>, _>>()?,
        })
    }

    /// Feeds rows `offset..offset+len` to `accs` (retracting them when
    /// `retract`), honouring each call's filter.
    pub fn apply(
        &self,
        accs: &mut [Box<dyn Accumulator>],
        offset: usize,
        len: usize,
        retract: bool,
    ) -> Result<()> {
        for (i, acc) in accs.iter_mut().enumerate() {
            let mut args: Vec<ArrayRef> =
                self.args[i].iter().map(|a| a.slice(offset, len)).collect();
            if let Some(mask) = &self.masks[i] {
                let m = mask.slice(offset, len);
                if m.true_count() == 0 {
                    continue;
                }
                if m.true_count() < len || m.null_count() > 0 {
                    args = args
                        .iter()
                        .map(|a| filter(a.as_ref(), &m))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                }
            }
            if retract {
                acc.retract_batch(&args)?;
            } else {
                acc.update_batch(&args)?;
            }
        }
        Ok(())
    }
}

/// The current result of every accumulator of one group.
pub fn evaluate_all(accs: &mut [Box<dyn Accumulator>]) -> Result<Vec<ScalarValue>> {
    Ok(accs
        .iter_mut()
        .map(|a| a.evaluate())
        .collect::<datafusion::error::Result<_>>()?)
}

/// Two-phase aggregation: merges the partial states of `parts` into `target`.
pub fn merge_states(
    target: &mut [Box<dyn Accumulator>],
    parts: &mut [Box<dyn Accumulator>],
) -> Result<()> {
    for (t, part) in target.iter_mut().zip(parts.iter_mut()) {
        let state: Vec<ArrayRef> = part
            .state()?
            .into_iter()
            .map(|s| s.to_array())
            .collect::<datafusion::error::Result<_>>()?;
        t.merge_batch(&state)?;
    }
    Ok(())
}

/// Result column `c` of per-group results, as the output type `want`.
pub fn result_column(rows: &[Vec<ScalarValue>], c: usize, want: &DataType) -> Result<ArrayRef> {
    let col = ScalarValue::iter_to_array(rows.iter().map(|v| v[c].clone()))?;
    Ok(if col.data_type() == want {
        col
    } else {
        datafusion::arrow::compute::cast(&col, want)?
    })
}

fn is_min_max(name: &str) -> bool {
    name == "min" || name == "max"
}

/// A total order over scalars of one type, for the multiset below.
#[derive(Debug, Clone, PartialEq)]
struct Ordered(ScalarValue);

impl Eq for Ordered {}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .partial_cmp(&other.0)
            .unwrap_or(std::cmp::Ordering::Equal)
    }
}

/// MIN/MAX that stays right under arbitrary retraction: a multiset of the
/// live values (DataFusion's sliding MIN/MAX assume first-in-first-out
/// retraction, which an updating stream does not give).
#[derive(Debug)]
pub struct RetractableMinMax {
    max: bool,
    data_type: DataType,
    values: BTreeMap<Ordered, u64>,
}

impl RetractableMinMax {
    pub fn new(max: bool, data_type: DataType) -> Self {
        RetractableMinMax {
            max,
            data_type,
            values: BTreeMap::new(),
        }
    }
}

impl Accumulator for RetractableMinMax {
    fn update_batch(&mut self, values: &[ArrayRef]) -> datafusion::error::Result<()> {
        let a = &values[0];
        for i in 0..a.len() {
            if a.is_null(i) {
                continue;
            }
            *self
                .values
                .entry(Ordered(ScalarValue::try_from_array(a, i)?))
                .or_default() += 1;
        }
        Ok(())
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> datafusion::error::Result<()> {
        let a = &values[0];
        for i in 0..a.len() {
            if a.is_null(i) {
                continue;
            }
            let k = Ordered(ScalarValue::try_from_array(a, i)?);
            if let Some(c) = self.values.get_mut(&k) {
                *c -= 1;
                if *c == 0 {
                    self.values.remove(&k);
                }
            }
        }
        Ok(())
    }

    fn supports_retract_batch(&self) -> bool {
        true
    }

    fn evaluate(&mut self) -> datafusion::error::Result<ScalarValue> {
        let v = if self.max {
            self.values.keys().next_back()
        } else {
            self.values.keys().next()
        };
        match v {
            Some(v) => Ok(v.0.clone()),
            None => ScalarValue::try_from(&self.data_type),
        }
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.values.len() * 64
    }

    fn state(&mut self) -> datafusion::error::Result<Vec<ScalarValue>> {
        // Snapshot form: the multiset as two lists (values, counts).
        let vals: Vec<ScalarValue> = self.values.keys().map(|k| k.0.clone()).collect();
        let counts: Vec<ScalarValue> = self
            .values
            .values()
            .map(|c| ScalarValue::UInt64(Some(*c)))
            .collect();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list_nullable(&vals, &self.data_type)),
            ScalarValue::List(ScalarValue::new_list_nullable(&counts, &DataType::UInt64)),
        ])
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> datafusion::error::Result<()> {
        let vals = states[0].as_list::<i32>();
        let counts = states[1].as_list::<i32>();
        for r in 0..vals.len() {
            let v = vals.value(r);
            let c = counts.value(r);
            let c = c.as_primitive::<datafusion::arrow::datatypes::UInt64Type>();
            for i in 0..v.len() {
                *self
                    .values
                    .entry(Ordered(ScalarValue::try_from_array(&v, i)?))
                    .or_default() += c.value(i);
            }
        }
        Ok(())
    }
}
