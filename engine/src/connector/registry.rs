use std::collections::BTreeMap;
use std::sync::Arc;

use super::Connector;

/// Connector factories by name. Filled by `sluice-connectors` at start-up.
#[derive(Debug, Default, Clone)]
pub struct ConnectorRegistry {
    connectors: BTreeMap<String, Arc<dyn Connector>>,
}

impl ConnectorRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }
    /// Registers (or replaces) a connector under its name.
    pub fn register(&mut self, connector: Arc<dyn Connector>) {
        self.connectors
            .insert(connector.name().to_string(), connector);
    }
    /// Looks a connector up by the value of `'connector'`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Connector>> {
        self.connectors.get(name).cloned()
    }
    /// Every registered name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.connectors.keys().cloned().collect()
    }
}
