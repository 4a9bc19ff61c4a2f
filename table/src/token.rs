//! Cassandra's `Murmur3Partitioner`: the token of a partition key, which places the partition on the
//! ring. The token of a key must be Cassandra's exactly, so that drivers' token-aware routing sends a
//! request to a replica of its partition; it is also persisted (the first part of every row key), so
//! it never changes.
//!
//! - The key bytes ([`partition_key_bytes`]): for a one-column partition key, the column value's CQL
//!   serialization; for a composite key, Cassandra's `CompositeType`: per component a u16 big-endian
//!   length, the bytes, and an end-of-component byte 0x00.
//! - The hash: MurmurHash3 x64_128 with seed 0 as Cassandra implements it, taking the first 64-bit
//!   half. Cassandra reads the 1 to 15 tail bytes as *signed* Java bytes, so a tail byte >= 0x80 is
//!   sign-extended before it is shifted into place; this differs from the reference MurmurHash3 for
//!   keys whose length is not a multiple of 16 and that hold such a byte (non-ASCII text, most
//!   integers), and drivers reproduce it.
//! - `i64::MIN` is not a key's token: it is the ring's minimum ([`MIN_TOKEN`]), so a hash of
//!   `i64::MIN` becomes `i64::MAX`, and the empty key (which CQL forbids) has the minimum token, as in
//!   Cassandra's `getToken`.

use crate::error::ValueError;
use crate::serialize::serialize;
use crate::value::Value;

/// The ring's minimum token, which no key has (ranges start after it).
pub const MIN_TOKEN: i64 = i64::MIN;
/// The greatest token.
pub const MAX_TOKEN: i64 = i64::MAX;

const C1: u64 = 0x87c3_7b91_1142_53d5;
const C2: u64 = 0x4cf5_ad43_2745_937f;

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

fn mix_k1(k1: u64) -> u64 {
    k1.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2)
}

fn mix_k2(k2: u64) -> u64 {
    k2.wrapping_mul(C2).rotate_left(33).wrapping_mul(C1)
}

/// Cassandra's MurmurHash3 x64_128 (seed 0) of `key`: both 64-bit halves.
pub fn murmur3_x64_128(key: &[u8]) -> (i64, i64) {
    let (mut h1, mut h2) = (0u64, 0u64);
    let mut blocks = key.chunks_exact(16);
    for block in &mut blocks {
        let (lo, hi) = block.split_at(8);
        let k1 = u64::from_le_bytes(lo.try_into().unwrap_or_default());
        let k2 = u64::from_le_bytes(hi.try_into().unwrap_or_default());
        h1 ^= mix_k1(k1);
        h1 = h1
            .rotate_left(27)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x52dc_e729);
        h2 ^= mix_k2(k2);
        h2 = h2
            .rotate_left(31)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x3849_5ab5);
    }
    let tail = blocks.remainder();
    // Java's `(long) key.get(i) << shift`: the byte is sign-extended to 64 bits before the shift.
    let signed = |i: usize| tail[i] as i8 as i64 as u64;
    let (mut k1, mut k2) = (0u64, 0u64);
    for i in (8..tail.len()).rev() {
        k2 ^= signed(i) << ((i - 8) * 8);
    }
    for i in (0..tail.len().min(8)).rev() {
        k1 ^= signed(i) << (i * 8);
    }
    if tail.len() > 8 {
        h2 ^= mix_k2(k2);
    }
    if !tail.is_empty() {
        h1 ^= mix_k1(k1);
    }
    let len = key.len() as u64;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (h1 as i64, h2 as i64)
}

/// The Murmur3Partitioner token of a partition key's bytes (see the module doc for the edge cases).
pub fn murmur3_token(key: &[u8]) -> i64 {
    if key.is_empty() {
        return MIN_TOKEN;
    }
    match murmur3_x64_128(key).0 {
        MIN_TOKEN => MAX_TOKEN,
        token => token,
    }
}

/// The bytes Cassandra hashes for a partition key with these component values (in the key's column
/// order): one component's serialization, or the `CompositeType` of several. A component longer than
/// 65535 bytes (which Cassandra refuses) has its length truncated to 16 bits, as the drivers write it;
/// the CQL layer refuses such keys before they get here.
pub fn partition_key_bytes(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    if let [single] = values {
        serialize(single, &mut out);
        return out;
    }
    let mut component = Vec::new();
    for v in values {
        component.clear();
        serialize(v, &mut component);
        out.extend_from_slice(&(component.len() as u16).to_be_bytes());
        out.extend_from_slice(&component);
        out.push(0);
    }
    out
}

/// The longest partition key component (Cassandra's limit, also for one-component keys).
pub const MAX_KEY_COMPONENT_BYTES: usize = u16::MAX as usize;

/// Checks that every component of a partition key serializes to at most
/// [`MAX_KEY_COMPONENT_BYTES`], as Cassandra requires (the CQL layer calls this before
/// [`partition_key_bytes`]).
pub fn check_partition_key(values: &[Value]) -> Result<(), ValueError> {
    let mut buf = Vec::new();
    for (component, v) in values.iter().enumerate() {
        buf.clear();
        serialize(v, &mut buf);
        if buf.len() > MAX_KEY_COMPONENT_BYTES {
            return Err(ValueError::KeyTooLarge {
                component,
                len: buf.len(),
            });
        }
    }
    Ok(())
}

/// The token of the partition whose key has these component values.
pub fn token_of(values: &[Value]) -> i64 {
    murmur3_token(&partition_key_bytes(values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_of_text_keys_match_cassandra() {
        // From scylla-rust-driver, scylla/src/routing/partitioner.rs, test_murmur3_partitioner
        // (tokens as Cassandra computes them; "kremówki" exercises the signed tail bytes).
        for (key, token) in [
            ("test", -6017608668500074083),
            ("xd", 4507812186440344727),
            ("primary_key", -1632642444691073360),
            ("kremówki", 4354931215268080151),
        ] {
            assert_eq!(murmur3_token(key.as_bytes()), token, "{key}");
            assert_eq!(token_of(&[Value::Text(key.into())]), token, "{key}");
        }
    }

    #[test]
    fn tokens_of_int_and_composite_keys_match_cassandra() {
        // From cassandra-sharp, CassandraSharpUnitTests/Partitioner/MurmurHash3PartitionerTest.cs
        // (CheckSingleKey, CheckCompositeKey1, CheckCompositeKey2: int components).
        assert_eq!(token_of(&[Value::Int(0x1234_5678)]), -8827056344306985898);
        let ints = |v: [i32; 3]| v.map(Value::Int);
        assert_eq!(token_of(&ints([1, 1, 200301])), 470466698873626083);
        assert_eq!(token_of(&ints([18653, 1, 200711])), -1934257741304192960);
    }

    #[test]
    fn composite_layout_and_edges() {
        assert_eq!(
            partition_key_bytes(&[Value::Int(1), Value::Text("ab".into())]),
            [0, 4, 0, 0, 0, 1, 0, 0, 2, b'a', b'b', 0]
        );
        assert_eq!(partition_key_bytes(&[Value::Int(1)]), [0, 0, 0, 1]);
        assert_eq!(murmur3_token(&[]), MIN_TOKEN);
        let big = Value::Blob(vec![0; MAX_KEY_COMPONENT_BYTES + 1]);
        assert_eq!(
            check_partition_key(&[Value::Int(1), big]),
            Err(ValueError::KeyTooLarge {
                component: 1,
                len: MAX_KEY_COMPONENT_BYTES + 1
            })
        );
        assert!(check_partition_key(&[Value::Blob(vec![0; MAX_KEY_COMPONENT_BYTES])]).is_ok());
    }

    proptest! {
        #[test]
        fn no_key_has_the_minimum_token(key in prop::collection::vec(any::<u8>(), 1..40)) {
            prop_assert_ne!(murmur3_token(&key), MIN_TOKEN);
        }
    }
}
