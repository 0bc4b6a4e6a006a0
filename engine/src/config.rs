//! Session configuration (`SET`).
