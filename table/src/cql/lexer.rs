//! The CQL lexer: text to tokens with byte offsets.
//!
//! - Unquoted identifiers and keywords (`[A-Za-z][A-Za-z0-9_]*`) are one token kind, [`Tok::Word`],
//!   lowercased (keywords are case-insensitive, unquoted names are lowercased as CQL resolves them);
//!   `"quoted"` identifiers keep their case, `""` is a `"` inside them.
//! - Strings: `'...'` with `''` for a quote, and `$$...$$` without escapes.
//! - Numbers: integers (`42`), floats (`1.5`, `1e10`, `2.5E-3`; `NaN` and `Infinity` are words the
//!   parser reads as floats). A `-` is its own token: the parser folds it into the literal after it.
//! - `0x...` blobs, unquoted UUIDs `8-4-4-4-12`, `?` and the `:` of a `:name` bind marker.
//! - Comments `-- ...`, `// ...` to the end of the line, and `/* ... */`.

use super::error::CqlError;
use crate::value::Uuid;

/// A token's kind and content.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// An unquoted identifier or keyword, lowercased.
    Word(String),
    /// A `"quoted"` identifier, unescaped.
    QuotedName(String),
    /// A string literal, unescaped.
    Str(String),
    /// Digits, as written (no sign).
    Integer(String),
    /// A float as written (no sign).
    Float(String),
    /// The hex digits of a `0x` blob literal (without `0x`; possibly odd in number, checked later).
    Hex(String),
    Uuid(Uuid),
    /// Punctuation and operators: `( ) [ ] { } , ; . = != < <= > >= + - * ? : += -=`.
    Sym(&'static str),
    Eof,
}

/// A token and where it is in the text (byte offsets, `start..end`).
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// Line (from 1) and column (from 0, in characters) of byte `offset` of `text`.
pub fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() as u32;
    (line, column)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A syntax error at byte `offset`.
pub(crate) fn syntax_error(text: &str, offset: usize, message: String, near: String) -> CqlError {
    let (line, column) = line_column(text, offset);
    CqlError::Syntax {
        line,
        column,
        message,
        near,
    }
}

const SYMBOLS: [&str; 22] = [
    "!=", "<=", ">=", "+=", "-=", "(", ")", "[", "]", "{", "}", ",", ";", ".", "=", "<", ">", "+", "-", "*", "?", ":",
];

/// Splits `text` into tokens, the last one [`Tok::Eof`].
pub fn tokenize(text: &str) -> Result<Vec<Token>, CqlError> {
    let mut lexer = Lexer { text, pos: 0 };
    let mut out = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let eof = token.tok == Tok::Eof;
        out.push(token);
        if eof {
            return Ok(out);
        }
    }
}

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    fn error(&self, at: usize, what: &str) -> CqlError {
        let near: String = self.text[at..].chars().take(12).collect();
        syntax_error(self.text, at, format!("{what} at: '{near}'"), near)
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), CqlError> {
        loop {
            let rest = self.rest();
            let trimmed = rest.trim_start();
            self.pos += rest.len() - trimmed.len();
            if trimmed.starts_with("--") || trimmed.starts_with("//") {
                self.pos += trimmed.find('\n').unwrap_or(trimmed.len());
            } else if let Some(body) = trimmed.strip_prefix("/*") {
                match body.find("*/") {
                    Some(i) => self.pos += i + 4,
                    None => return Err(self.error(self.pos, "unterminated comment")),
                }
            } else {
                return Ok(());
            }
        }
    }

    fn next_token(&mut self) -> Result<Token, CqlError> {
        self.skip_trivia()?;
        let start = self.pos;
        let rest = self.rest();
        let bytes = rest.as_bytes();
        let Some(&c) = bytes.first() else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let (tok, len) = if let Some(uuid) = uuid_prefix(rest) {
            (Tok::Uuid(uuid), 36)
        } else if c == b'0' && matches!(bytes.get(1), Some(b'x' | b'X')) {
            let n = bytes[2..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
            if bytes.get(2 + n).is_some_and(|b| is_word_char(*b)) {
                return Err(self.error(start, "token recognition error"));
            }
            (Tok::Hex(rest[2..2 + n].to_string()), 2 + n)
        } else if c.is_ascii_digit() {
            number(rest)
        } else if c.is_ascii_alphabetic() {
            let n = bytes.iter().take_while(|b| is_word_char(**b)).count();
            (Tok::Word(rest[..n].to_ascii_lowercase()), n)
        } else if c == b'"' {
            let (s, n) = quoted(rest, '"').ok_or_else(|| self.error(start, "unterminated quoted identifier"))?;
            (Tok::QuotedName(s), n)
        } else if c == b'\'' {
            let (s, n) = quoted(rest, '\'').ok_or_else(|| self.error(start, "unterminated string"))?;
            (Tok::Str(s), n)
        } else if let Some(body) = rest.strip_prefix("$$") {
            let i = body
                .find("$$")
                .ok_or_else(|| self.error(start, "unterminated string"))?;
            (Tok::Str(body[..i].to_string()), i + 4)
        } else if let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            (Tok::Sym(sym), sym.len())
        } else {
            return Err(self.error(start, "token recognition error"));
        };
        self.pos += len;
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }
}

/// A quoted string or identifier at the start of `rest` (which starts with `q`): its unescaped
/// content and its length in bytes; `None` if unterminated.
fn quoted(rest: &str, q: char) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = rest.char_indices().skip(1).peekable();
    while let Some((i, c)) = chars.next() {
        if c == q {
            if chars.peek().map(|(_, n)| *n) == Some(q) {
                chars.next();
                out.push(q);
            } else {
                return Some((out, i + 1));
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// An integer or a float at the start of `rest` (which starts with a digit).
fn number(rest: &str) -> (Tok, usize) {
    let b = rest.as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n = digits(0);
    let mut float = false;
    if b.get(n) == Some(&b'.')
        && !b
            .get(n + 1)
            .is_some_and(|c| c.is_ascii_alphabetic() && *c != b'e' && *c != b'E')
    {
        float = true;
        n += 1;
        n += digits(n);
    }
    if matches!(b.get(n), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(n + 1), Some(b'+' | b'-')));
        let exp = digits(n + 1 + sign);
        if exp > 0 {
            float = true;
            n += 1 + sign + exp;
        }
    }
    let text = rest[..n].to_string();
    (if float { Tok::Float(text) } else { Tok::Integer(text) }, n)
}

/// A UUID `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` at the start of `rest`, not followed by a word character.
fn uuid_prefix(rest: &str) -> Option<Uuid> {
    let b = rest.as_bytes();
    if b.len() < 36 || b.get(36).is_some_and(|c| is_word_char(*c)) {
        return None;
    }
    let mut out = [0u8; 16];
    let mut nibbles = 0;
    for (i, &c) in b[..36].iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let v = (c as char).to_digit(16)? as u8;
        out[nibbles / 2] |= if nibbles % 2 == 0 { v << 4 } else { v };
        nibbles += 1;
    }
    Some(Uuid(out))
}

/// Parses a UUID from its `8-4-4-4-12` text (any case).
pub fn parse_uuid(text: &str) -> Option<Uuid> {
    if text.len() != 36 {
        return None;
    }
    uuid_prefix(text)
}
