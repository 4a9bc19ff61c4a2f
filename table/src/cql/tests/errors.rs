use super::super::{CqlError, parse};
use basalt_common::ErrorKind;

fn syntax(text: &str) -> (u32, u32, String, String) {
    match parse(text) {
        Err(CqlError::Syntax {
            line,
            column,
            message,
            near,
        }) => (line, column, message, near),
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn no_viable_alternative_with_position() {
    let (line, column, message, near) = syntax("CREATE TABL foo");
    assert_eq!((line, column), (1, 7));
    assert_eq!(message, "no viable alternative at input 'TABL'");
    assert_eq!(near, "TABL");
    let e = parse("CREATE TABL foo").unwrap_err();
    assert_eq!(e.to_string(), "line 1:7 no viable alternative at input 'TABL'");
    assert_eq!(e.kind(), ErrorKind::Invalid);
    let (_, column, message, _) = syntax("SELEC * FROM t");
    assert_eq!(column, 0);
    assert_eq!(message, "no viable alternative at input 'SELEC'");
}

#[test]
fn mismatched_input_expecting() {
    let (line, column, message, _) = syntax("SELECT a FROM t WHERE\n  k = 1 LIMIT 2 3");
    assert_eq!((line, column), (2, 16));
    assert_eq!(message, "mismatched input '3' expecting <EOF>");
    let (_, column, message, _) = syntax("INSERT INTO t (a, b VALUES (1, 2)");
    assert_eq!(column, 20);
    assert_eq!(message, "mismatched input 'VALUES' expecting ')'");
    let (_, _, message, near) = syntax("SELECT a t");
    assert_eq!(message, "mismatched input 't' expecting K_FROM");
    assert_eq!(near, "t");
    let (_, column, message, near) = syntax("SELECT a FROM");
    assert_eq!((column, near.as_str()), (13, "<EOF>"));
    assert_eq!(message, "no viable alternative at input '<EOF>'");
}

#[test]
fn lexer_errors_have_positions() {
    let (line, column, message, _) = syntax("SELECT * FROM t WHERE k = 'open");
    assert_eq!((line, column), (1, 26));
    assert!(message.starts_with("unterminated string"), "{message}");
    let (_, column, _, _) = syntax("SELECT * FROM t /* never closed");
    assert_eq!(column, 16);
    let (_, column, message, _) = syntax("SELECT # FROM t");
    assert_eq!(column, 7);
    assert!(message.starts_with("token recognition error"), "{message}");
    // Columns count characters, not bytes.
    let (_, column, _, _) = syntax("SELECT 'é' ~");
    assert_eq!(column, 11);
}

#[test]
fn reserved_words_need_quotes() {
    assert!(parse("CREATE TABLE select (k int PRIMARY KEY)").is_err());
    assert!(parse("CREATE TABLE \"select\" (k int PRIMARY KEY)").is_ok());
    // Unreserved keywords are names.
    assert!(parse("CREATE TABLE t (key int PRIMARY KEY, ttl int, writetime int, type text, count int)").is_ok());
    assert!(parse("SELECT key, count, ttl FROM t").is_ok());
}

#[test]
fn reserved_list_is_sorted() {
    let words = super::super::parser::RESERVED;
    assert!(words.windows(2).all(|w| w[0] < w[1]));
    assert!(words.iter().all(|w| super::super::parser::is_reserved(w)));
    assert!(!super::super::parser::is_reserved("key"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let text = format!(
        "INSERT INTO t (a) VALUES ({}1{})",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(matches!(parse(&text), Err(CqlError::Syntax { .. })));
}

#[test]
fn unknown_types() {
    let e = parse("CREATE TABLE t (a badtype PRIMARY KEY)").unwrap_err();
    assert_eq!(e.to_string(), "line 1:18 Unknown type badtype");
    assert_eq!(e.class(), super::super::CqlErrorClass::Invalid);
    assert_eq!(
        parse("GRANT x").unwrap_err().class(),
        super::super::CqlErrorClass::Syntax
    );
}
