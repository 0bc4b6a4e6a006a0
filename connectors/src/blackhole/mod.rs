//! TODO
#[derive(Debug)]
pub struct BlackholeConnector;
