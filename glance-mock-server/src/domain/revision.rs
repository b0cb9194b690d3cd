//! Which write of a record a copy is.

/// The repository's count of a record's writes: 1 when created, one more
/// on every write; a guarded write is refused when the record is no
/// longer at the revision it was read at (optimistic concurrency).
///
/// It is bookkeeping, not part of the record's value: every revision
/// compares equal to every other, so two copies with the same values are
/// equal whichever write they came from (a record read back from a dump
/// equals the one dumped). Compare [`Revision::get`] to tell writes apart.
#[derive(Debug, Clone, Copy, Default)]
pub struct Revision(u64);

impl Revision {
    /// Revision `n`.
    pub fn new(n: u64) -> Self {
        Revision(n)
    }

    /// Its number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The revision after this one.
    pub fn next(self) -> Self {
        Revision(self.0.saturating_add(1))
    }
}

impl PartialEq for Revision {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_count_but_do_not_tell_values_apart() {
        let one = Revision::new(1);
        assert_eq!(one.next().get(), 2);
        assert_eq!(one, one.next());
        assert_eq!(Revision::default().get(), 0);
    }
}
