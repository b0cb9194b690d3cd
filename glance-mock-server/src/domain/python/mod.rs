//! Text as Glance's Python writes it, to the character: `repr()`,
//! `pprint.pformat`, `json.loads`/`json.dumps`, `int()`, `str()` and truth
//! of JSON values, and `jsonschema`'s validation messages. One rule each:
//! every message the mock shares with Glance goes through these.
//!
//! `repr()` of a `str` is Python 3's everywhere, whatever the text came from
//! (request bodies or URL paths): Glance 33 escapes what `str.isprintable()`
//! refuses and keeps all other text, Latin-1 or not (`'日本\u200b'`).

mod int;
pub mod json;
pub mod jsonschema;
mod pprint;
mod repr;
mod value;

pub use int::{int_of_str, int64_of, int64_of_str};
pub use pprint::pformat;
pub use repr::{repr, str_repr};
pub use value::{Py, is_py_space, str_of, truthy};

/// The old name of [`str_repr`], from when URL-path text had a rule of its
/// own; the two always agreed on the Latin-1 text WSGI hands over.
pub use repr::str_repr as repr_str;
