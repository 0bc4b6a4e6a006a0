//! The Redis commands a sink can issue per row, what columns each takes,
//! and the command that undoes it for a `-D`/`-U` row.

/// `'command' = '...'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Set,
    Hset,
    Incrby,
    Incrbyfloat,
    Hincrby,
    Hincrbyfloat,
    Sadd,
    Zadd,
    Zincrby,
    Rpush,
    Lpush,
    Del,
}

/// What the value columns after the key are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// Any value, written as its text (bytes for BYTES).
    Value,
    /// A hash field.
    Field,
    /// An integer increment.
    Integer,
    /// A number (increment or score).
    Number,
    /// A set/sorted-set member.
    Member,
}

impl Command {
    /// Every accepted `command` value.
    pub const NAMES: &'static [&'static str] = &[
        "set",
        "hset",
        "incrby",
        "incrbyfloat",
        "hincrby",
        "hincrbyfloat",
        "sadd",
        "zadd",
        "zincrby",
        "rpush",
        "lpush",
        "del",
    ];

    /// Parses a lower-cased `command` value.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "set" => Command::Set,
            "hset" => Command::Hset,
            "incrby" => Command::Incrby,
            "incrbyfloat" => Command::Incrbyfloat,
            "hincrby" => Command::Hincrby,
            "hincrbyfloat" => Command::Hincrbyfloat,
            "sadd" => Command::Sadd,
            "zadd" => Command::Zadd,
            "zincrby" => Command::Zincrby,
            "rpush" => Command::Rpush,
            "lpush" => Command::Lpush,
            "del" => Command::Del,
            _ => return None,
        })
    }

    /// The Redis command name.
    pub fn name(self) -> &'static str {
        match self {
            Command::Set => "SET",
            Command::Hset => "HSET",
            Command::Incrby => "INCRBY",
            Command::Incrbyfloat => "INCRBYFLOAT",
            Command::Hincrby => "HINCRBY",
            Command::Hincrbyfloat => "HINCRBYFLOAT",
            Command::Sadd => "SADD",
            Command::Zadd => "ZADD",
            Command::Zincrby => "ZINCRBY",
            Command::Rpush => "RPUSH",
            Command::Lpush => "LPUSH",
            Command::Del => "DEL",
        }
    }

    /// The columns after the key, in order (the community connector's
    /// column-order mapping: key, [field], value; zadd: key, score, member).
    pub fn args(self) -> &'static [Arg] {
        match self {
            Command::Set | Command::Rpush | Command::Lpush => &[Arg::Value],
            Command::Sadd => &[Arg::Member],
            Command::Incrby => &[Arg::Integer],
            Command::Incrbyfloat => &[Arg::Number],
            Command::Hset => &[Arg::Field, Arg::Value],
            Command::Hincrby => &[Arg::Field, Arg::Integer],
            Command::Hincrbyfloat => &[Arg::Field, Arg::Number],
            Command::Zadd | Command::Zincrby => &[Arg::Number, Arg::Member],
            Command::Del => &[],
        }
    }

    /// The columns as users write them, for messages: `key, field, value`.
    pub fn shape(self) -> String {
        let mut parts = vec!["key"];
        parts.extend(self.args().iter().map(|a| match a {
            Arg::Value => "value",
            Arg::Field => "field",
            Arg::Integer => "increment (integer)",
            Arg::Number if matches!(self, Command::Zadd) => "score",
            Arg::Number => "increment (number)",
            Arg::Member => "member",
        }));
        parts.join(", ")
    }

    /// True when a later write to the same key (and field) replaces an
    /// earlier one, so a flush may keep only the last change: these take
    /// upsert input; the others take every change in order.
    pub fn is_idempotent_by_key(self) -> bool {
        matches!(self, Command::Set | Command::Hset)
    }

    /// True for commands whose retraction negates the increment.
    pub fn is_increment(self) -> bool {
        matches!(
            self,
            Command::Incrby
                | Command::Incrbyfloat
                | Command::Hincrby
                | Command::Hincrbyfloat
                | Command::Zincrby
        )
    }
}
