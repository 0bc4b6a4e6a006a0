//! librdkafka client configuration from `properties.*`: validated at CREATE
//! TABLE (librdkafka checks every name and value without connecting), with
//! Java-client spellings Flink users write translated, and secrets masked
//! wherever the configuration is printed.

use std::collections::BTreeMap;
use std::fmt;

use rdkafka::ClientConfig;
use rdkafka::error::KafkaError;
use sluice_engine::Result;
use sluice_engine::catalog::{ConnectorOptions, MASK, is_secret_key};

/// Properties of Flink's Kafka source that configure Flink itself rather
/// than the Kafka client; accepted and not passed to librdkafka.
const FLINK_ONLY: &[&str] = &[
    "partition.discovery.interval.ms",
    "commit.offsets.on.checkpoint",
    "client.id.prefix",
    "register.consumer.metrics",
    "key.deserializer",
    "value.deserializer",
    "key.serializer",
    "value.serializer",
];

/// The `properties.*` options, without the prefix.
#[derive(Clone, Default)]
pub struct Properties {
    values: BTreeMap<String, String>,
}

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.values
                    .iter()
                    .map(|(k, v)| (k, if is_secret_key(k) { MASK } else { v.as_str() })),
            )
            .finish()
    }
}

/// `username="u" password="p"` from a Java `sasl.jaas.config`.
fn jaas_credentials(jaas: &str) -> (Option<String>, Option<String>) {
    let value = |name: &str| {
        let start = jaas.find(&format!("{name}=\""))? + name.len() + 2;
        let end = jaas[start..].find('"')? + start;
        Some(jaas[start..end].to_string())
    };
    (value("username"), value("password"))
}

impl Properties {
    /// Takes every `properties.*` key and checks it with librdkafka.
    pub fn from_options(opts: &mut ConnectorOptions) -> Result<Self> {
        let values = opts.prefixed("properties.", "properties.*");
        let props = Self { values };
        let mut config = ClientConfig::new();
        for (k, v) in props.librdkafka() {
            config.set(k, v);
        }
        if let Err(e) = config.create_native_config() {
            return Err(opts.error("properties.*", describe(&e)));
        }
        Ok(props)
    }

    /// A property as written.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// True when the user set `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// `properties.group.id`.
    pub fn group_id(&self) -> Option<&str> {
        self.get("group.id").filter(|g| !g.is_empty())
    }

    /// `properties.bootstrap.servers`, for messages.
    pub fn bootstrap(&self) -> &str {
        self.get("bootstrap.servers").unwrap_or("")
    }

    /// The properties as librdkafka understands them: Flink-only keys
    /// dropped, a Java `sasl.jaas.config` turned into `sasl.username` /
    /// `sasl.password`, `auto.offset.reset=none` into `error`.
    pub fn librdkafka(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (k, v) in &self.values {
            if FLINK_ONLY.contains(&k.as_str()) {
                continue;
            }
            match k.as_str() {
                "sasl.jaas.config" => {
                    let (user, password) = jaas_credentials(v);
                    if let Some(u) = user {
                        out.entry("sasl.username".to_string()).or_insert(u);
                    }
                    if let Some(p) = password {
                        out.entry("sasl.password".to_string()).or_insert(p);
                    }
                }
                "auto.offset.reset" if v.eq_ignore_ascii_case("none") => {
                    out.insert(k.clone(), "error".to_string());
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        out
    }

    /// A client configuration: `defaults` (unless the user set them), then
    /// the user's properties, then `forced`.
    pub fn client_config(
        &self,
        defaults: &[(&str, &str)],
        forced: &[(&str, &str)],
    ) -> ClientConfig {
        let mut config = ClientConfig::new();
        let user = self.librdkafka();
        for (k, v) in defaults {
            if !user.contains_key(*k) {
                config.set(*k, *v);
            }
        }
        for (k, v) in &user {
            config.set(k, v);
        }
        for (k, v) in forced {
            config.set(*k, *v);
        }
        config
    }
}

/// A librdkafka error as a sentence.
pub fn describe(e: &KafkaError) -> String {
    match e {
        KafkaError::ClientConfig(_, desc, key, value) => {
            let shown = if is_secret_key(key) {
                MASK
            } else {
                value.as_str()
            };
            format!("invalid Kafka client property '{key}' = '{shown}': {desc}")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Result<Properties> {
        let mut o = ConnectorOptions::new(
            "t",
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        Properties::from_options(&mut o)
    }

    #[test]
    fn properties_are_checked_translated_and_masked() {
        let p = props(&[
            ("properties.bootstrap.servers", "h:9092"),
            ("properties.sasl.jaas.config",
             "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"s3cret\";"),
            ("properties.commit.offsets.on.checkpoint", "true"),
        ])
        .unwrap();
        let l = p.librdkafka();
        assert_eq!(l.get("sasl.username").map(String::as_str), Some("u"));
        assert_eq!(l.get("sasl.password").map(String::as_str), Some("s3cret"));
        assert!(!l.contains_key("commit.offsets.on.checkpoint"));
        let shown = format!("{p:?}");
        assert!(!shown.contains("s3cret"), "{shown}");

        let err = props(&[("properties.no.such.thing", "1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("no.such.thing"), "{err}");
    }
}
