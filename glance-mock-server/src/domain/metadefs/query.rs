//! Query strings as Glance's metadata definition deserializers read them:
//! webob's `MultiDict` (`pop` takes the first value of a name, `get` the
//! last), Python's `int()`, and `urlencode` for the `first`/`next` links.

/// The query parameters, in request order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// Parse a raw query string (`+` and `%XX` decoded, blank values kept).
    pub fn parse(raw: &str) -> Params {
        Params(
            form_urlencoded::parse(raw.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// `MultiDict.pop(name)`: remove and return the first value.
    pub fn pop(&mut self, name: &str) -> Option<String> {
        let at = self.0.iter().position(|(k, _)| k == name)?;
        Some(self.0.remove(at).1)
    }

    /// `MultiDict.get(name)` (and `[name]`): the last value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name in params`.
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// `del params[name]` (no error when absent): every value removed.
    pub fn remove_all(&mut self, name: &str) {
        self.0.retain(|(k, _)| k != name);
    }

    /// Whether no parameter is left.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `dict(params)`: one entry per name, at its first place, with its
    /// last value.
    pub fn to_dict(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in &self.0 {
            match out.iter_mut().find(|(have, _)| have == k) {
                Some(slot) => slot.1 = v.clone(),
                None => out.push((k.clone(), v.clone())),
            }
        }
        out
    }
}

/// Python's `int(text)` clamped to `i64`, which lives in
/// [`crate::domain::python`]; this path stays for code that used it.
pub use crate::domain::python::int64_of_str as python_int;

/// `urllib.parse.urlencode(pairs)`: `quote_plus` on names and values.
pub fn urlencode<'a>(pairs: impl IntoIterator<Item = &'a (String, String)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", quote_plus(k), quote_plus(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Sort direction of a list request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `asc`
    Asc,
    /// `desc`, the default.
    Desc,
}

/// `_validate_sort_dir`.
pub fn sort_dir(value: &str) -> Result<Direction, crate::domain::Fault> {
    match value {
        "asc" => Ok(Direction::Asc),
        "desc" => Ok(Direction::Desc),
        other => Err(crate::domain::Fault::BadRequest(format!(
            "Invalid sort direction: {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multidict_pop_first_get_last() {
        let mut p = Params::parse("a=1&b=2&a=3&c");
        assert_eq!(p.get("a"), Some("3"));
        assert_eq!(p.pop("a").as_deref(), Some("1"));
        assert_eq!(p.get("a"), Some("3"));
        assert_eq!(p.get("c"), Some(""));
        assert_eq!(
            Params::parse("x=1&y=2&x=3").to_dict(),
            [("x".into(), "3".into()), ("y".into(), "2".into())]
        );
    }

    #[test]
    fn links_encode_like_urlencode() {
        assert_eq!(
            urlencode(&[
                ("resource_types".into(), "OS::Nova::Flavor,X".into()),
                ("q".into(), "a b/é".into())
            ]),
            "resource_types=OS%3A%3ANova%3A%3AFlavor%2CX&q=a+b%2F%C3%A9"
        );
    }
}
