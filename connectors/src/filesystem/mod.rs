//! TODO
#[derive(Debug)]
pub struct FilesystemConnector;
