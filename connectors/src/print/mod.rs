//! TODO
#[derive(Debug)]
pub struct PrintConnector;
