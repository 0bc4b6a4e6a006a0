//! How a connector tells the buffering layer what went wrong with a write,
//! so the layer can decide between retrying, locating a bad row, skipping it
//! (`sink.ignore-errors`) and failing the job.

/// The outcome of a failed [`super::FlushWriter::write`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// Nothing was written, and trying again may work: the connection was
    /// lost, the server is overloaded, a deadlock was chosen as victim. The
    /// whole batch is retried with back-off, up to `sink.max-retries`.
    Retryable(String),
    /// Nothing was written because some row's data was refused (too long,
    /// wrong type, constraint), and the target did not say which row. The
    /// layer splits the batch in halves until it finds the row(s), so the
    /// error can name them; retrying the same rows unchanged would fail again.
    Rejected(String),
    /// Some rows failed and every other row was written (a bulk API with
    /// per-item results). Only these rows are looked at again.
    Rows(Vec<RowError>),
    /// Retrying cannot help (unknown table, no permission, a bug): fail now.
    Fatal(String),
}

/// One row of a batch that the target did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Index of the row in the batch passed to `write`.
    pub row: usize,
    /// True for transient failures (e.g. HTTP 429): the row is retried.
    /// False when the row's data was refused: it fails the job or, with
    /// `sink.ignore-errors`, is skipped and counted.
    pub retryable: bool,
    /// What the target said about the row.
    pub message: String,
    /// The column at fault when known, for the error message.
    pub column: Option<String>,
}

impl RowError {
    /// A row whose data was refused.
    pub fn rejected(row: usize, message: impl Into<String>) -> Self {
        Self {
            row,
            retryable: false,
            message: message.into(),
            column: None,
        }
    }

    /// A row that failed transiently and should be retried.
    pub fn retryable(row: usize, message: impl Into<String>) -> Self {
        Self {
            row,
            retryable: true,
            message: message.into(),
            column: None,
        }
    }

    /// Names the column at fault.
    pub fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Retryable(m) | WriteError::Rejected(m) | WriteError::Fatal(m) => {
                f.write_str(m)
            }
            WriteError::Rows(rows) => match rows.first() {
                Some(r) if rows.len() == 1 => f.write_str(&r.message),
                Some(r) => write!(f, "{} rows failed, first: {}", rows.len(), r.message),
                None => f.write_str("no rows failed"),
            },
        }
    }
}
