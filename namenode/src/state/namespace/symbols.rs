//! Interned owner and group names: a namespace has millions of inodes but few distinct users and
//! groups, so each inode keeps a 4-byte [`Sym`] and the name is stored once here. Symbols are never
//! freed (a name once used stays in the table; the table is as small as the set of users ever seen).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::sync::Arc;

/// An interned name: an index into [`Symbols`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sym(u32);

/// The table of interned names. Persisted as the list of names in symbol order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Symbols {
    names: Vec<Arc<str>>,
    index: HashMap<Arc<str>, Sym>,
}

impl Symbols {
    /// The symbol of `name`, adding it when it is new.
    pub fn intern(&mut self, name: &str) -> Sym {
        if let Some(s) = self.index.get(name) {
            return *s;
        }
        let sym = Sym(u32::try_from(self.names.len()).expect("fewer than 2^32 distinct user and group names"));
        let name: Arc<str> = name.into();
        self.names.push(name.clone());
        self.index.insert(name, sym);
        sym
    }

    /// The name of `sym` (the empty name for a symbol this table never gave out).
    pub fn name(&self, sym: Sym) -> &str {
        self.names.get(sym.0 as usize).map_or("", |n| n)
    }

    fn from_names(names: Vec<Arc<str>>) -> Self {
        let mut s = Symbols::default();
        for n in names {
            // A duplicate (not written by this module) keeps its first symbol; later ones still resolve.
            let sym = Sym(s.names.len() as u32);
            s.index.entry(n.clone()).or_insert(sym);
            s.names.push(n);
        }
        s
    }
}

impl Serialize for Symbols {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Symbols {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Symbols::from_names(Vec::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_round_trips() {
        let mut s = Symbols::default();
        let a = s.intern("alice");
        let b = s.intern("staff");
        assert_eq!(s.intern("alice"), a);
        assert_ne!(a, b);
        assert_eq!(s.name(b), "staff");
        let bytes = rmp_serde::to_vec_named(&s).unwrap();
        let back: Symbols = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.name(a), "alice");
    }
}
