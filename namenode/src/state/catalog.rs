//! The catalog sub-machine: keyspaces, tables and their schema versions (the tables feature).
//!
//! An empty slot today, shaped like the others (state, commands, outputs, errors, queries), so that the
//! feature that fills it adds variants and fields here and nowhere else in the state layer.

use basalt_common::ErrorKind;
use serde::{Deserialize, Serialize};

/// The replicated catalog state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {}

/// Commands of the catalog sub-machine (none yet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogCommand {}

impl CatalogCommand {
    pub fn name(&self) -> &'static str {
        match *self {}
    }
}

/// What a successfully applied catalog command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogOutput {}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum CatalogError {}

impl CatalogError {
    pub fn kind(&self) -> ErrorKind {
        match *self {}
    }
}

impl Catalog {
    pub fn apply(&mut self, cmd: &CatalogCommand) -> Result<CatalogOutput, CatalogError> {
        match *cmd {}
    }
}
