//! A plugin's aggregate function as a DataFusion aggregate function: each
//! group's accumulator is an opaque object inside the plugin, fed whole
//! argument columns and asked for its state and value as one-row arrays.

use std::fmt::{self, Debug};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use datafusion::arrow::array::{Array, ArrayRef, StructArray};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use sluice_udf_plugin::abi::AggregateVTable;
use sluice_udf_plugin::columns::{export_columns, import_array};

use super::library::Descriptor;
use crate::api::{coerce_args, sql_type};

/// The function, callable from SQL as the name it was created with.
pub fn aggregate_function(d: Descriptor) -> AggregateUDF {
    let name = d.handle.name.clone();
    let lower = name.to_ascii_lowercase();
    AggregateUDF::new_from_impl(PluginAggregate {
        aliases: if lower == name { vec![] } else { vec![lower] },
        signature: Signature::user_defined(Volatility::Immutable),
        arg_types: d.arguments.iter().map(|f| f.data_type().clone()).collect(),
        return_type: d.result[0].data_type().clone(),
        name,
        d: Arc::new(d),
    })
}

struct PluginAggregate {
    name: String,
    aliases: Vec<String>,
    signature: Signature,
    arg_types: Vec<DataType>,
    return_type: DataType,
    d: Arc<Descriptor>,
}

impl Debug for PluginAggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginAggregate({})", self.name)
    }
}

impl PartialEq for PluginAggregate {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.d, &other.d)
    }
}

impl Eq for PluginAggregate {}

impl Hash for PluginAggregate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl AggregateUDFImpl for PluginAggregate {
    fn name(&self) -> &str {
        &self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_args(&self.name, &self.arg_types, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.return_type.clone())
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(self
            .d
            .state
            .iter()
            .map(|f| {
                let name = format!("{}[{}]", args.name, f.name());
                Arc::new(f.clone().with_name(name).with_nullable(true))
            })
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let raw = self.d.raw();
        let vt = vtable(&self.d);
        let acc = unsafe { (vt.create)(raw.instance) };
        if acc.is_null() {
            return exec_err!(
                "user-defined function '{}' failed: it could not create an accumulator",
                self.name
            );
        }
        Ok(Box::new(PluginAccumulator {
            d: Arc::clone(&self.d),
            return_type: self.return_type.clone(),
            acc,
        }))
    }
}

fn vtable(d: &Descriptor) -> &AggregateVTable {
    // SAFETY: the kind was checked on load, so the aggregate calls are set.
    unsafe { &*d.raw().aggregate }
}

/// One group's accumulator, owned by the plugin until dropped.
struct PluginAccumulator {
    d: Arc<Descriptor>,
    return_type: DataType,
    acc: *mut std::ffi::c_void,
}

// SAFETY: the plugin's accumulators are `Send + Sync` (the SDK requires it)
// and only `&mut self` methods change one.
unsafe impl Send for PluginAccumulator {}
unsafe impl Sync for PluginAccumulator {}

impl Debug for PluginAccumulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PluginAccumulator({})", self.d.handle.name)
    }
}

impl Drop for PluginAccumulator {
    fn drop(&mut self) {
        let vt = vtable(&self.d);
        unsafe { (vt.destroy)(self.d.raw().instance, self.acc) };
    }
}

type Feed = unsafe extern "C" fn(
    *const std::ffi::c_void,
    *mut std::ffi::c_void,
    *mut FFI_ArrowArray,
    *mut FFI_ArrowSchema,
) -> sluice_udf_plugin::abi::SluiceStatus;

impl PluginAccumulator {
    fn feed(&mut self, call: Feed, columns: &[ArrayRef]) -> Result<()> {
        let rows = columns.first().map_or(0, |c| c.len());
        if rows == 0 {
            return Ok(());
        }
        let (mut a, mut s) = export_columns(columns, rows)?;
        let status = unsafe { call(self.d.raw().instance, self.acc, &mut a, &mut s) };
        self.d.handle.check(status)
    }

    fn read(&self, call: Feed) -> Result<ArrayRef> {
        let (mut out, mut out_schema) = (FFI_ArrowArray::empty(), FFI_ArrowSchema::empty());
        let status = unsafe { call(self.d.raw().instance, self.acc, &mut out, &mut out_schema) };
        self.d.handle.check(status)?;
        let array = unsafe { import_array(&mut out, &mut out_schema) }?;
        if array.len() != 1 {
            return exec_err!(
                "user-defined function '{}' returned {} rows where one was expected",
                self.d.handle.name,
                array.len()
            );
        }
        Ok(array)
    }
}

impl Accumulator for PluginAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.feed(vtable(&self.d).accumulate, values)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if !self.supports_retract_batch() {
            return exec_err!(
                "aggregate function '{}' has no retract, so it cannot consume an updating input",
                self.d.handle.name
            );
        }
        self.feed(vtable(&self.d).retract, values)
    }

    fn supports_retract_batch(&self) -> bool {
        vtable(&self.d).supports_retract
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let value = self.read(vtable(&self.d).value)?;
        if value.data_type() != &self.return_type {
            return exec_err!(
                "user-defined function '{}' returned a {} value but declares {}",
                self.d.handle.name,
                sql_type(value.data_type()),
                sql_type(&self.return_type)
            );
        }
        ScalarValue::try_from_array(&value, 0)
    }

    fn size(&self) -> usize {
        let plugin = unsafe { (vtable(&self.d).size)(self.d.raw().instance, self.acc) };
        std::mem::size_of::<Self>() + plugin
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let state = self.read(vtable(&self.d).state)?;
        let Some(state) = state.as_any().downcast_ref::<StructArray>() else {
            return exec_err!(
                "user-defined function '{}' returned a state that is not a row",
                self.d.handle.name
            );
        };
        if state.num_columns() != self.d.state.len() {
            return exec_err!(
                "user-defined function '{}' returned {} state fields but declares {}",
                self.d.handle.name,
                state.num_columns(),
                self.d.state.len()
            );
        }
        state
            .columns()
            .iter()
            .map(|c| ScalarValue::try_from_array(c, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if !vtable(&self.d).supports_merge {
            return exec_err!(
                "aggregate function '{}' has no merge, so it cannot combine partial results \
                 (HOP, CUMULATE and SESSION windows need that)",
                self.d.handle.name
            );
        }
        self.feed(vtable(&self.d).merge, states)
    }
}
