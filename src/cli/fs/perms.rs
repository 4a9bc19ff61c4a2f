//! `basalt fs chmod|chown|chgrp [-R]`, as `hadoop fs` has them: modes in octal (`755`, `1777`) or
//! symbolic (`u+x,go-w,a=r`, `+t`), `OWNER[:GROUP]`, and `-R` walking the tree with the client.

use anyhow::{Result, bail};
use basalt_client::{Client, FileStatus};

/// A mode change: an octal mode, or symbolic clauses applied to each file's current mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModeChange {
    Octal(u32),
    Symbolic(Vec<Clause>),
}

/// One `[ugoa]*[+-=][rwxXt]*` clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    /// Which of user (0o4700 bits' owner part), group, other: a mask of `rwx` positions.
    who: u32,
    op: char,
    perms: String,
}

/// Parses `hadoop fs -chmod`'s MODE.
pub fn parse_mode(s: &str) -> Result<ModeChange> {
    if !s.is_empty() && s.chars().all(|c| c.is_digit(8)) {
        let m = u32::from_str_radix(s, 8)?;
        if s.len() > 4 || m > 0o7777 {
            bail!("chmod: {s} is not a mode: at most 4 octal digits (e.g. 755, 1777)");
        }
        return Ok(ModeChange::Octal(m));
    }
    let mut clauses = Vec::new();
    for part in s.split(',') {
        let who_end = part.find(|c: char| !"ugoa".contains(c)).unwrap_or(part.len());
        let (who_s, rest) = part.split_at(who_end);
        let mut chars = rest.chars();
        let Some(op) = chars.next().filter(|c| "+-=".contains(*c)) else {
            bail!("chmod: {s} is not a mode: give octal (755) or [ugoa][+-=][rwxXt] clauses (u+x,go-w)");
        };
        let perms: String = chars.collect();
        if !perms.chars().all(|c| "rwxXt".contains(c)) {
            bail!("chmod: {s} is not a mode: permissions are r, w, x, X and t");
        }
        let mut who = 0;
        for c in who_s.chars() {
            who |= match c {
                'u' => 0o700,
                'g' => 0o070,
                'o' => 0o007,
                _ => 0o777,
            };
        }
        if who == 0 {
            who = 0o777;
        }
        clauses.push(Clause { who, op, perms });
    }
    Ok(ModeChange::Symbolic(clauses))
}

impl ModeChange {
    /// The new mode of an entry whose mode is `mode`.
    pub fn apply(&self, mode: u32, is_dir: bool) -> u32 {
        let clauses = match self {
            ModeChange::Octal(m) => return *m,
            ModeChange::Symbolic(c) => c,
        };
        let mut mode = mode & 0o7777;
        for c in clauses {
            let mut bits = 0;
            let mut sticky = false;
            for p in c.perms.chars() {
                match p {
                    'r' => bits |= 0o444,
                    'w' => bits |= 0o222,
                    'x' => bits |= 0o111,
                    'X' if is_dir || mode & 0o111 != 0 => bits |= 0o111,
                    't' => sticky = true,
                    _ => {}
                }
            }
            let bits = bits & c.who;
            // The sticky bit belongs to "other" (and "all"), as in Hadoop.
            let sticky = sticky && c.who & 0o007 != 0;
            match c.op {
                '+' => {
                    mode |= bits;
                    if sticky {
                        mode |= 0o1000;
                    }
                }
                '-' => {
                    mode &= !bits;
                    if sticky {
                        mode &= !0o1000;
                    }
                }
                _ => {
                    mode = (mode & !c.who) | bits;
                    if c.who & 0o007 != 0 {
                        mode = (mode & !0o1000) | if sticky { 0o1000 } else { 0 };
                    }
                }
            }
        }
        mode
    }
}

/// Parses `OWNER[:GROUP]` (either part may be empty, not both).
pub fn parse_owner(s: &str) -> Result<(Option<String>, Option<String>)> {
    let (o, g) = match s.split_once(':') {
        Some((o, g)) => (o, Some(g)),
        None => (s, None),
    };
    let some = |x: &str| (!x.is_empty()).then(|| x.to_string());
    let (owner, group) = (some(o), g.and_then(some));
    if owner.is_none() && group.is_none() {
        bail!("chown: {s:?} names no owner and no group (OWNER[:GROUP])");
    }
    Ok((owner, group))
}

/// `path`'s status, then (with `recursive`) everything below it, in the order `hadoop fs -R` visits.
async fn walk(
    client: &Client,
    path: &str,
    recursive: bool,
    mut f: impl AsyncFnMut(&FileStatus) -> Result<()>,
) -> Result<()> {
    let top = client.stat(path).await?;
    f(&top).await?;
    if !recursive || !top.is_dir {
        return Ok(());
    }
    let mut stack = vec![top.path.clone()];
    while let Some(dir) = stack.pop() {
        for st in client.list(&dir).await? {
            f(&st).await?;
            if st.is_dir {
                stack.push(st.path.clone());
            }
        }
    }
    Ok(())
}

pub async fn chmod(client: &Client, mode: &str, paths: &[String], recursive: bool) -> Result<()> {
    let change = parse_mode(mode)?;
    for p in paths {
        walk(client, p, recursive, async |st: &FileStatus| {
            let new = change.apply(st.mode, st.is_dir);
            Ok(client.set_permission(&st.path, new).await?)
        })
        .await?;
    }
    Ok(())
}

pub async fn chown(
    client: &Client,
    owner: Option<&str>,
    group: Option<&str>,
    paths: &[String],
    recursive: bool,
) -> Result<()> {
    for p in paths {
        walk(client, p, recursive, async |st: &FileStatus| {
            Ok(client.set_owner(&st.path, owner, group).await?)
        })
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn octal_and_symbolic_modes() {
        let cases: [(&str, u32, bool, u32); 12] = [
            ("755", 0o000, false, 0o755),
            ("1777", 0o755, true, 0o1777),
            ("u+x", 0o644, false, 0o744),
            ("go-w", 0o777, false, 0o755),
            ("a=r", 0o777, false, 0o444),
            ("u+x,go-w", 0o666, false, 0o744),
            ("+x", 0o644, false, 0o755),
            ("+t", 0o777, true, 0o1777),
            ("o-t", 0o1777, true, 0o777),
            ("a+X", 0o644, true, 0o755),
            ("a+X", 0o644, false, 0o644),
            ("g=rw", 0o1751, true, 0o1761),
        ];
        for (m, from, dir, want) in cases {
            assert_eq!(parse_mode(m).unwrap().apply(from, dir), want, "{m} on {from:o}");
        }
        for bad in ["", "8", "77777", "u+q", "z+x", "u"] {
            assert!(parse_mode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn owners_and_groups() {
        assert_eq!(parse_owner("alice").unwrap(), (Some("alice".into()), None));
        assert_eq!(
            parse_owner("alice:eng").unwrap(),
            (Some("alice".into()), Some("eng".into()))
        );
        assert_eq!(parse_owner(":eng").unwrap(), (None, Some("eng".into())));
        assert!(parse_owner(":").is_err());
    }
}
