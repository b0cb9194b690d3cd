//! One function per subcommand, grouped by resource.

pub mod images;
