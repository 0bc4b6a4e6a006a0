//! TODO
#[derive(Debug)]
pub struct DatagenConnector;
