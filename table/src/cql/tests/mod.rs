//! Tests of the CQL module, one file per part.

mod bind;
mod describe;
mod errors;
mod literal;
mod parse_ddl;
mod parse_dml;
mod props;
mod props_roundtrip;
mod schema;

use super::ast::*;
use super::{Statement, parse};

/// Parses `text`, panicking with the error if it is not valid.
pub(super) fn ok(text: &str) -> Statement {
    parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

pub(super) fn int(s: &str) -> Term {
    Term::Literal(Literal::Integer(s.into()))
}

pub(super) fn string(s: &str) -> Term {
    Term::Literal(Literal::String(s.into()))
}

pub(super) fn qn(ks: Option<&str>, name: &str) -> QualifiedName {
    QualifiedName {
        keyspace: ks.map(Into::into),
        name: name.into(),
    }
}

pub(super) fn eq(column: &str, value: Term) -> (RelationLhs, Operator, RelationRhs) {
    (
        RelationLhs::Column(column.into()),
        Operator::Eq,
        RelationRhs::Term(value),
    )
}

/// The relations without their spans.
pub(super) fn rels(r: &[Relation]) -> Vec<(RelationLhs, Operator, RelationRhs)> {
    r.iter().map(|r| (r.lhs.clone(), r.op, r.rhs.clone())).collect()
}
