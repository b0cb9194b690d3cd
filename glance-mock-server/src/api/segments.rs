//! Path patterns matched segment by segment, filed so that a path is
//! compared only with the patterns it could match: what Glance's route
//! table ([`super::routes`]) and the resources' table
//! ([`super::resources`]) both need.
//!
//! A pattern such as `/images/{image_id}` is split once into segments,
//! each a literal or a `{name}` that matches one non-empty segment. A
//! [`Table`] files patterns by their number of segments and then by the
//! literal at one position, so a path is compared only with those of its
//! own length and that literal (trying all of them was most of a route
//! lookup's cost, bench/profile show).

/// More segments than any pattern or path the tables take.
pub const MAX_SEGMENTS: usize = 10;

/// A pattern split once: `Some(literal)`, or `None` for a `{name}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern(Vec<Option<Box<[u8]>>>);

impl Pattern {
    /// `pattern` split at each `/`.
    pub fn parse(pattern: &str) -> Pattern {
        Pattern(
            pattern
                .split('/')
                .map(|s| {
                    let param = s.starts_with('{') && s.ends_with('}');
                    (!param).then(|| s.as_bytes().into())
                })
                .collect(),
        )
    }

    /// Which segments are parameters, in order: patterns compare by it
    /// as axum's router (matchit) prefers them, at the first segment
    /// where two differ a literal before a parameter.
    pub fn shape(&self) -> Vec<bool> {
        self.0.iter().map(Option::is_none).collect()
    }

    fn matches(&self, path: &[&[u8]]) -> bool {
        self.0.len() == path.len()
            && self.0.iter().zip(path).all(|(want, got)| match want {
                Some(literal) => **literal == **got,
                None => !got.is_empty(),
            })
    }
}

/// Patterns of one length with this literal at the table's position.
type Group<T> = (Box<[u8]>, Vec<(Pattern, T)>);

/// Values filed by their pattern's length and the literal at position
/// `key` of it, each group in the order the values were pushed.
#[derive(Debug)]
pub struct Table<T> {
    key: usize,
    by_length: [Vec<Group<T>>; MAX_SEGMENTS + 1],
}

impl<T> Table<T> {
    /// An empty table filing by the literal at segment `key`.
    pub fn new(key: usize) -> Table<T> {
        Table {
            key,
            by_length: Default::default(),
        }
    }

    /// File `value` under `pattern`. A pattern longer than
    /// [`MAX_SEGMENTS`], or without a literal at the table's position, is
    /// not taken (`false`): no path would find it.
    pub fn push(&mut self, pattern: Pattern, value: T) -> bool {
        let Some(groups) = self.by_length.get_mut(pattern.0.len()) else {
            return false;
        };
        let Some(Some(literal)) = pattern.0.get(self.key).cloned() else {
            return false;
        };
        let at = match groups.iter().position(|(l, _)| *l == literal) {
            Some(at) => at,
            None => {
                groups.push((literal, Vec::new()));
                groups.len() - 1
            }
        };
        groups[at].1.push((pattern, value));
        true
    }

    /// Reorder each group (stably) by `order` of the patterns.
    pub fn sort_by(&mut self, mut order: impl FnMut(&Pattern, &Pattern) -> std::cmp::Ordering) {
        for (_, group) in self.by_length.iter_mut().flatten() {
            group.sort_by(|a, b| order(&a.0, &b.0));
        }
    }

    /// Every value, with its pattern.
    pub fn iter(&self) -> impl Iterator<Item = &(Pattern, T)> {
        self.by_length.iter().flatten().flat_map(|(_, g)| g)
    }

    /// The values whose patterns `path` matches, in their group's order.
    pub fn matching<'t, 'p>(
        &'t self,
        path: &'p str,
    ) -> impl Iterator<Item = &'t T> + use<'t, 'p, T> {
        let mut parts: [&[u8]; MAX_SEGMENTS] = [b""; MAX_SEGMENTS];
        let mut n = 0;
        let mut fits = true;
        // Split as bytes: `str::split` was a third of a lookup's cost.
        for segment in path.as_bytes().split(|&b| b == b'/') {
            match parts.get_mut(n) {
                Some(part) => *part = segment,
                None => fits = false,
            }
            n += 1;
        }
        let group = fits
            .then(|| {
                let literal = parts.get(self.key).filter(|_| self.key < n)?;
                self.by_length
                    .get(n)?
                    .iter()
                    .find(|(l, _)| **l == **literal)
            })
            .flatten()
            .map_or(&[][..], |(_, g)| g.as_slice());
        group
            .iter()
            .filter(move |(p, _)| p.matches(&parts[..n.min(MAX_SEGMENTS)]))
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table<&'static str> {
        let mut t = Table::new(1);
        for p in [
            "/images/{id}",
            "/images/{id}/tags/{tag}",
            "/tasks/{id}",
            "/images",
        ] {
            assert!(t.push(Pattern::parse(p), p));
        }
        t
    }

    fn found(t: &Table<&'static str>, path: &str) -> Vec<&'static str> {
        t.matching(path).copied().collect()
    }

    #[test]
    fn paths_find_the_patterns_of_their_length_and_literal() {
        let t = table();
        assert_eq!(found(&t, "/images/x"), ["/images/{id}"]);
        assert_eq!(found(&t, "/images/x/tags/y"), ["/images/{id}/tags/{tag}"]);
        assert_eq!(found(&t, "/tasks/x"), ["/tasks/{id}"]);
        assert_eq!(found(&t, "/images"), ["/images"]);
        // A parameter matches one non-empty segment; literals exactly.
        assert!(found(&t, "/images/").is_empty());
        assert!(found(&t, "/images//tags/y").is_empty());
        assert!(found(&t, "/Images/x").is_empty());
        assert!(found(&t, "images").is_empty());
        assert!(found(&t, "").is_empty());
        assert!(found(&t, &"/x".repeat(40)).is_empty());
    }

    #[test]
    fn patterns_without_a_literal_to_file_by_are_refused() {
        let mut t = Table::new(1);
        assert!(!t.push(Pattern::parse("/{id}"), ()));
        assert!(!t.push(Pattern::parse(&"/x".repeat(40)), ()));
    }
}
