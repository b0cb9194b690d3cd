//! The rules every repository implementation must pass, one suite per
//! trait, in the style of object_store's integration suite: each rule is a
//! function of a fresh, empty repository, run by `run` (which fails with
//! the names of the rules broken) for every implementation. The memory
//! repositories run them in their tests; the next backends run the same.

pub(crate) mod images;
pub(crate) mod metadefs;
pub(crate) mod tasks;

/// A rule: its name, and a check of a fresh repository.
pub(crate) type Rule<R> = (&'static str, fn(&R) -> Result<(), String>);

/// Fail the check with `msg` unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}
pub(crate) use ensure;

/// The names of the rules a fresh repository from `make` breaks, with
/// what each found.
pub(crate) fn broken<R: ?Sized>(make: &dyn Fn() -> Box<R>, rules: &[Rule<R>]) -> Vec<String> {
    rules
        .iter()
        .filter_map(|(name, check)| check(&*make()).err().map(|e| format!("{name}: {e}")))
        .collect()
}

/// Panic with every rule `make`'s repositories break.
pub(crate) fn assert_passes<R: ?Sized>(make: &dyn Fn() -> Box<R>, rules: &[Rule<R>]) {
    let broken = broken(make, rules);
    assert!(broken.is_empty(), "rules broken:\n{}", broken.join("\n"));
}

/// A repository error fails a rule with its message (so a rule may use `?`).
impl From<crate::db::RepoError> for String {
    fn from(e: crate::db::RepoError) -> Self {
        e.to_string()
    }
}
