//! A stable hash of the round's state, for comparing outcomes cheaply.
//!
//! FNV-1a 64 over fixed-width little-endian fields, written in a fixed
//! order: the same on every target and every Rust version (std's
//! `DefaultHasher` promises neither).

use core::hash::Hasher as _;

use fnv::FnvHasher;

/// Feeds fixed-width integers, little-endian, into FNV-1a 64.
#[derive(Default)]
pub(crate) struct StateHasher(FnvHasher);

impl StateHasher {
    pub(crate) fn u32(&mut self, value: u32) -> &mut Self {
        self.0.write(&value.to_le_bytes());
        self
    }

    pub(crate) fn i32(&mut self, value: i32) -> &mut Self {
        self.0.write(&value.to_le_bytes());
        self
    }

    pub(crate) fn finish(&self) -> u64 {
        self.0.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_published_fnv1a_64_vectors() {
        // Test vectors of the FNV reference (draft-eastlake-fnv): "" and "a".
        assert_eq!(
            StateHasher::default().finish(),
            0xcbf2_9ce4_8422_2325,
            "offset basis"
        );
        let mut hasher = StateHasher::default();
        hasher.0.write(b"a");
        assert_eq!(hasher.finish(), 0xaf63_dc4c_8601_ec8c, "FNV-1a 64 of \"a\"");
    }

    #[test]
    fn integers_are_little_endian() {
        let mut by_value = StateHasher::default();
        by_value.u32(0x0403_0201);
        let mut by_bytes = StateHasher::default();
        by_bytes.0.write(&[1, 2, 3, 4]);
        assert_eq!(
            by_value.finish(),
            by_bytes.finish(),
            "u32 must hash as its LE bytes"
        );
    }
}
