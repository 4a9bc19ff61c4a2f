//! CQL, the language: the one module that reads CQL text.
//!
//! - [`lexer`]: text to tokens with positions.
//! - [`ast`]: the statements ([`Statement`]) and terms.
//! - [`parser`]: [`parse`] one statement, [`parse_many`] a script, [`split_statements`] for a shell.
//! - [`bind`]: what each bind marker stands for (name and type), for `PREPARE`.
//! - [`literal`]: a term to a [`crate::Value`] of a column's type, as Cassandra coerces constants.
//! - [`schema`]: `CREATE TABLE` / `CREATE KEYSPACE` to the catalog's [`crate::TableDef`] and
//!   [`crate::KeyspaceDef`], validated as Cassandra does.
//! - [`describe`]: the `CREATE` statements that `DESCRIBE` prints for a definition.
//!
//! Errors are [`CqlError`]; all of them are request errors (`ErrorKind::Invalid`).

pub mod ast;
pub mod bind;
pub mod describe;
pub mod error;
pub mod lexer;
pub mod literal;
pub mod parser;
pub mod schema;

#[cfg(test)]
mod tests;

pub use ast::Statement;
pub use error::{CqlError, CqlErrorClass, ReplicationError, TableDefError};
pub use parser::{Split, parse, parse_many, split_statements};
