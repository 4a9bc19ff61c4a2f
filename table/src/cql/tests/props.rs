//! The parser never panics: on arbitrary text, on text made of CQL tokens, and on valid statements
//! with a piece cut out or swapped.

use super::super::{parse, parse_many, split_statements};
use proptest::prelude::*;

const VALID: &[&str] = &[
    "CREATE KEYSPACE ks WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
    "CREATE TABLE ks.t (a int, b text, c list<int>, s int static, PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC) AND comment = 'x'",
    "ALTER TABLE t ADD (x int, y map<text, int>)",
    "INSERT INTO t (a, b) VALUES (?, :b) USING TTL 5",
    "UPDATE t SET l = [1] + l, m['k'] = 2 WHERE a = 1 IF EXISTS",
    "DELETE m['k'] FROM t USING TIMESTAMP 3 WHERE a IN (1, 2)",
    "BEGIN BATCH INSERT INTO t (a) VALUES (1); DELETE FROM t WHERE a = 2; APPLY BATCH",
    "SELECT DISTINCT a, count(*) AS n FROM t WHERE token(a) > 5 AND (b, c) > (1, 2) ORDER BY b DESC LIMIT 3 ALLOW FILTERING",
    "DESCRIBE TABLE ks.t",
];

const PIECES: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ".",
    "=",
    "<",
    ">=",
    "+",
    "-",
    "*",
    "?",
    ":",
    "'s'",
    "$$d$$",
    "1",
    "-2.5e3",
    "0xab",
    "NaN",
    "null",
    "true",
    "a",
    "\"Q\"",
    "IN",
    "AND",
    "TOKEN",
    "BEGIN",
    "BATCH",
    "APPLY",
    "INSERT",
    "INTO",
    "VALUES",
    "UPDATE",
    "SET",
    "CREATE",
    "TABLE",
    "PRIMARY",
    "KEY",
    "map",
    "<",
    "int",
    "--c\n",
    "/*",
    "*/",
    "123e4567-e89b-12d3-a456-426614174000",
];

fn check(text: &str) {
    let _ = parse(text);
    let _ = parse_many(text);
    let split = split_statements(text);
    let total: usize = split.complete.iter().map(|s| s.len()).sum::<usize>() + split.rest.len();
    assert_eq!(total, text.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn arbitrary_text(text in ".{0,80}") {
        check(&text);
    }

    #[test]
    fn arbitrary_tokens(pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..30)) {
        check(&pieces.join(" "));
    }

    #[test]
    fn mutated_statements(which in 0..VALID.len(), at in any::<prop::sample::Index>(), len in 0usize..6,
                          insert in proptest::sample::select(PIECES)) {
        let text = VALID[which];
        let start = at.index(text.len() + 1);
        let end = (start + len).min(text.len());
        if text.is_char_boundary(start) && text.is_char_boundary(end) {
            check(&format!("{}{}", &text[..start], &text[end..]));
            check(&format!("{}{}{}", &text[..start], insert, &text[end..]));
        }
    }
}

#[test]
fn the_valid_ones_parse() {
    for t in VALID {
        parse(t).unwrap_or_else(|e| panic!("{t}: {e}"));
    }
}
