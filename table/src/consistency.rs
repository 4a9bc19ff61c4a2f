//! Consistency levels (Cassandra's): how many replicas must answer a read or acknowledge a write.
//!
//! Basalt has one data center, so the `LOCAL_*` levels are their plain counterparts and `EACH_QUORUM`
//! is `QUORUM`. `SERIAL` and `LOCAL_SERIAL` belong to compare-and-set (a later issue) and are refused
//! for plain reads and writes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Consistency {
    /// A write is durable once any node (a replica or the coordinator's hint) has it. Writes only.
    Any,
    #[default]
    One,
    Two,
    Three,
    Quorum,
    All,
    LocalQuorum,
    EachQuorum,
    Serial,
    LocalSerial,
    LocalOne,
}

impl Consistency {
    pub const ALL_LEVELS: [Consistency; 11] = [
        Consistency::Any,
        Consistency::One,
        Consistency::Two,
        Consistency::Three,
        Consistency::Quorum,
        Consistency::All,
        Consistency::LocalQuorum,
        Consistency::EachQuorum,
        Consistency::Serial,
        Consistency::LocalSerial,
        Consistency::LocalOne,
    ];

    /// The protocol's code (CQL native protocol `[consistency]`).
    pub fn code(self) -> u16 {
        match self {
            Consistency::Any => 0x0000,
            Consistency::One => 0x0001,
            Consistency::Two => 0x0002,
            Consistency::Three => 0x0003,
            Consistency::Quorum => 0x0004,
            Consistency::All => 0x0005,
            Consistency::LocalQuorum => 0x0006,
            Consistency::EachQuorum => 0x0007,
            Consistency::Serial => 0x0008,
            Consistency::LocalSerial => 0x0009,
            Consistency::LocalOne => 0x000A,
        }
    }

    pub fn from_code(code: u16) -> Option<Consistency> {
        Self::ALL_LEVELS.into_iter().find(|c| c.code() == code)
    }

    /// The name as Cassandra spells it (`QUORUM`, `LOCAL_ONE`).
    pub fn name(self) -> &'static str {
        match self {
            Consistency::Any => "ANY",
            Consistency::One => "ONE",
            Consistency::Two => "TWO",
            Consistency::Three => "THREE",
            Consistency::Quorum => "QUORUM",
            Consistency::All => "ALL",
            Consistency::LocalQuorum => "LOCAL_QUORUM",
            Consistency::EachQuorum => "EACH_QUORUM",
            Consistency::Serial => "SERIAL",
            Consistency::LocalSerial => "LOCAL_SERIAL",
            Consistency::LocalOne => "LOCAL_ONE",
        }
    }

    /// How many replicas out of `rf` must answer; `None` for the serial levels (not plain operations).
    /// ANY needs one acknowledgement, which a stored hint can give.
    pub fn required(self, rf: usize) -> Option<usize> {
        Some(match self {
            Consistency::Any | Consistency::One | Consistency::LocalOne => 1,
            Consistency::Two => 2,
            Consistency::Three => 3,
            Consistency::Quorum | Consistency::LocalQuorum | Consistency::EachQuorum => rf / 2 + 1,
            Consistency::All => rf,
            Consistency::Serial | Consistency::LocalSerial => return None,
        })
    }

    /// Whether this level may be used to read (ANY may not).
    pub fn readable(self) -> bool {
        !matches!(self, Consistency::Any | Consistency::Serial | Consistency::LocalSerial)
    }
}

impl fmt::Display for Consistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Parses a level in any case (`quorum`, `QUORUM`, `local_one`).
impl FromStr for Consistency {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        Self::ALL_LEVELS.into_iter().find(|c| c.name() == upper).ok_or_else(|| {
            let names: Vec<_> = Self::ALL_LEVELS.iter().map(|c| c.name()).collect();
            format!("unknown consistency level '{s}' (one of {})", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!("quorum".parse::<Consistency>(), Ok(Consistency::Quorum));
        assert_eq!("Local_One".parse::<Consistency>(), Ok(Consistency::LocalOne));
        assert!("most".parse::<Consistency>().is_err());
        assert_eq!(Consistency::Quorum.required(3), Some(2));
        assert_eq!(Consistency::Quorum.required(4), Some(3));
        assert_eq!(Consistency::All.required(3), Some(3));
        assert_eq!(Consistency::Serial.required(3), None);
        for c in Consistency::ALL_LEVELS {
            assert_eq!(Consistency::from_code(c.code()), Some(c));
        }
    }
}
