//! The `Accept` header as webob 1.8 reads it (`webob.acceptparse`): its
//! grammar (a header that does not match it is "invalid", and then every
//! offer is acceptable), media-range specificity and q-values, and the
//! normalised form `str(request.accept)` that Glance's version negotiation
//! looks at.

/// One media range of a valid header.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRange {
    /// `type/subtype` as written.
    pub media_type: String,
    /// Media type parameters (before `q`), as written.
    pub params: Vec<(String, String)>,
    /// The q-value, 1.0 when absent.
    pub q: f32,
    /// Accept extensions after `q`, as written (`;name` or `;name=value`).
    pub extensions: String,
}

/// A parsed `Accept` header.
#[derive(Debug, Clone, PartialEq)]
pub enum Accept {
    /// No `Accept` header.
    Missing,
    /// A header that does not follow the grammar.
    Invalid,
    /// A valid header (possibly empty, or only commas).
    Valid(Vec<MediaRange>),
}

impl Accept {
    /// Parse a header value (`None` when the request has no `Accept`).
    pub fn parse(value: Option<&[u8]>) -> Accept {
        match value {
            None => Accept::Missing,
            Some(v) => parse_list(v).map_or(Accept::Invalid, Accept::Valid),
        }
    }

    /// webob's `acceptable_offers`: the acceptable offers, best first, with
    /// their q-values. Offers are plain `type/subtype` media types.
    pub fn acceptable_offers<'a>(&self, offers: &[&'a str]) -> Vec<(&'a str, f32)> {
        let ranges = match self {
            // A missing header is read as an empty, valid one here: webob
            // builds the header from `environ.get('HTTP_ACCEPT', '')`.
            Accept::Missing => return Vec::new(),
            Accept::Invalid => return offers.iter().map(|o| (*o, 1.0)).collect(),
            Accept::Valid(ranges) => ranges,
        };
        let mut found: Vec<(usize, f32, u8)> = Vec::new(); // (offer index, q, specificity)
        for (index, offer) in offers.iter().enumerate() {
            let offer = offer.to_ascii_lowercase();
            let Some((offer_type, _)) = offer.split_once('/') else {
                continue;
            };
            let mut best: Option<(f32, u8)> = None;
            for range in ranges {
                let range_type_subtype = range.media_type.to_ascii_lowercase();
                let Some((range_type, range_subtype)) = range_type_subtype.split_once('/') else {
                    continue;
                };
                let specificity = if range_type_subtype == offer {
                    // Offers carry no parameters: only a range without
                    // parameters matches them exactly.
                    if !range.params.is_empty() {
                        continue;
                    }
                    3
                } else if range_subtype == "*" && range_type == offer_type {
                    2
                } else if range_type_subtype == "*/*" {
                    1
                } else {
                    continue;
                };
                if best.is_none_or(|(_, s)| specificity > s) {
                    best = Some((range.q, specificity));
                }
            }
            if let Some((q, specificity)) = best {
                found.push((index, q, specificity));
            }
        }
        found.retain(|(_, q, _)| *q != 0.0);
        // Stable: ties keep the order of `offers`.
        found.sort_by(|a, b| b.1.total_cmp(&a.1));
        found.into_iter().map(|(i, q, _)| (offers[i], q)).collect()
    }

    /// `str(request.accept)` as webob renders it: the ranges of a valid
    /// header joined by `", "`, with `;q=` only where q is not 1.
    pub fn normalized(&self) -> String {
        match self {
            Accept::Missing => "<no header in request>".into(),
            Accept::Invalid => "<invalid header value>".into(),
            Accept::Valid(ranges) => ranges
                .iter()
                .map(|r| {
                    let mut s = r.media_type.clone();
                    for (name, value) in &r.params {
                        s.push_str(&format!(";{name}={value}"));
                    }
                    if r.q != 1.0 || !r.extensions.is_empty() {
                        s.push_str(&format!(";q={}", python_float(r.q)));
                    }
                    s.push_str(&r.extensions);
                    s
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

/// Python's `str(float)` for the q-values webob can parse (at most three
/// decimals).
fn python_float(q: f32) -> String {
    let s = format!("{q}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A cursor over the header bytes.
struct Scanner<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        (self.pos > start).then(|| String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn quoted(&mut self) -> Option<String> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return None;
        }
        self.pos += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned());
                }
                b'\\' => {
                    let next = *self.s.get(self.pos + 1)?;
                    if !(next == b'\t'
                        || next == b' '
                        || (0x21..=0x7e).contains(&next)
                        || next >= 0x80)
                    {
                        return None;
                    }
                    self.pos += 2;
                }
                b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => self.pos += 1,
                _ => return None,
            }
        }
    }

    fn value(&mut self) -> Option<String> {
        if self.peek() == Some(b'"') {
            self.quoted()
        } else {
            self.token()
        }
    }

    /// `OWS ";" OWS`, consumed only if present; the position is restored otherwise.
    fn semicolon(&mut self) -> bool {
        let save = self.pos;
        self.ows();
        if self.peek() == Some(b';') {
            self.pos += 1;
            self.ows();
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// `[qQ]=qvalue` with qvalue `0(.d{0,3})?` or `1(.0{0,3})?`.
    fn weight(&mut self) -> Option<f32> {
        if !matches!(self.peek(), Some(b'q' | b'Q')) || self.s.get(self.pos + 1) != Some(&b'=') {
            return None;
        }
        self.pos += 2;
        let start = self.pos;
        let first = self.peek()?;
        if first != b'0' && first != b'1' {
            return None;
        }
        self.pos += 1;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let mut digits = 0;
            while digits < 3
                && self.peek().is_some_and(|d| {
                    if first == b'0' {
                        d.is_ascii_digit()
                    } else {
                        d == b'0'
                    }
                })
            {
                self.pos += 1;
                digits += 1;
            }
        }
        let text = String::from_utf8_lossy(&self.s[start..self.pos]);
        text.trim_end_matches('.').parse().ok()
    }

    /// One `media-range [accept-params]`; `None` if none starts here.
    fn element(&mut self) -> Option<MediaRange> {
        let start = self.pos;
        let Some(media_type) = self
            .token()
            .and_then(|t| (self.peek() == Some(b'/')).then_some(t))
        else {
            self.pos = start;
            return None;
        };
        self.pos += 1;
        let Some(subtype) = self.token() else {
            self.pos = start;
            return None;
        };
        let mut range = MediaRange {
            media_type: format!("{media_type}/{subtype}"),
            params: Vec::new(),
            q: 1.0,
            extensions: String::new(),
        };
        // Media type parameters, then the weight and its extensions.
        loop {
            let save = self.pos;
            if !self.semicolon() {
                break;
            }
            if matches!(self.peek(), Some(b'q' | b'Q')) && self.s.get(self.pos + 1) == Some(&b'=') {
                match self.weight() {
                    Some(q) => range.q = q,
                    None => {
                        self.pos = save;
                        return Some(range);
                    }
                }
                loop {
                    let save = self.pos;
                    if !self.semicolon() {
                        break;
                    }
                    let Some(name) = self.token() else {
                        self.pos = save;
                        break;
                    };
                    range.extensions.push(';');
                    range.extensions.push_str(&name);
                    if self.peek() == Some(b'=') {
                        self.pos += 1;
                        let Some(value) = self.value() else {
                            self.pos = save;
                            break;
                        };
                        range.extensions.push('=');
                        range.extensions.push_str(&value);
                    }
                }
                return Some(range);
            }
            let Some(name) = self.token() else {
                self.pos = save;
                break;
            };
            if self.peek() != Some(b'=') {
                self.pos = save;
                break;
            }
            self.pos += 1;
            let Some(value) = self.value() else {
                self.pos = save;
                break;
            };
            range.params.push((name, value));
        }
        Some(range)
    }
}

/// `^(?:$)|(?:(?:,|E)(?:OWS,(?:OWS E)?)*)$`: the header must start with a
/// comma or an element; elements and empty items follow after commas.
fn parse_list(s: &[u8]) -> Option<Vec<MediaRange>> {
    let mut sc = Scanner { s, pos: 0 };
    let mut ranges = Vec::new();
    if s.is_empty() {
        return Some(ranges);
    }
    if sc.peek() == Some(b',') {
        sc.pos += 1;
    } else {
        ranges.push(sc.element()?);
    }
    while sc.pos < s.len() {
        sc.ows();
        if sc.peek() != Some(b',') {
            return None;
        }
        sc.pos += 1;
        let save = sc.pos;
        sc.ows();
        match sc.element() {
            Some(range) => ranges.push(range),
            None => sc.pos = save,
        }
    }
    Some(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERS: &[&str] = &["text/html", "application/json"];

    fn offers(header: Option<&str>) -> Vec<&'static str> {
        Accept::parse(header.map(str::as_bytes))
            .acceptable_offers(OFFERS)
            .into_iter()
            .map(|(o, _)| o)
            .collect()
    }

    #[test]
    fn offers_follow_webob() {
        // Each case was checked against webob 1.8.11.
        let html_json = vec!["text/html", "application/json"];
        let json_html = vec!["application/json", "text/html"];
        let cases: &[(Option<&str>, Vec<&str>)] = &[
            (None, vec![]),
            (Some(""), vec![]),
            (Some("*/*"), html_json.clone()),
            (Some("application/json"), vec!["application/json"]),
            (Some("text/*"), vec!["text/html"]),
            (Some("application/*"), vec!["application/json"]),
            (Some("text/plain"), vec![]),
            (Some("image/png"), vec![]),
            (Some("text/html;q=0.5, application/json"), json_html.clone()),
            (
                Some("application/json;q=0.5, text/html;q=0.5"),
                html_json.clone(),
            ),
            (Some("application/json, text/html"), html_json.clone()),
            (Some("application/json;q=0, */*"), vec!["text/html"]),
            (
                Some("*/*;q=0.1, application/json;q=0.05"),
                html_json.clone(),
            ),
            (Some("application/json; charset=utf-8"), vec![]),
            (Some("text/html;level=1"), vec![]),
            (Some("garbage;;"), html_json.clone()),
            (Some("application/json;q=abc"), html_json.clone()),
            (Some("APPLICATION/JSON"), vec!["application/json"]),
            (Some("*/*, application/json;q=0"), vec!["text/html"]),
            (Some("application/vnd.openstack.images-v2"), vec![]),
            (Some("application/json;q=0.001"), vec!["application/json"]),
            (Some("application/json;q=1.0001"), html_json.clone()),
            (Some(", application/json"), html_json.clone()),
            (Some("application/json,"), vec!["application/json"]),
            (Some(", , application/json"), vec!["application/json"]),
            (Some("a/b, c/d"), vec![]),
            (
                Some("text/html ; q=0.5 ; ext=1, application/json;q=0.6"),
                json_html.clone(),
            ),
            (
                Some(r#"application/json;q=0.5;ext="x y""#),
                vec!["application/json"],
            ),
            (
                Some(r#"text/html;a="b\"c", application/json;q=0.9"#),
                vec!["application/json"],
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(&offers(*header), expected, "Accept: {header:?}");
        }
    }

    #[test]
    fn normalised_form_is_what_version_negotiation_sees() {
        let n = |h: &str| Accept::parse(Some(h.as_bytes())).normalized();
        let vnd = "application/vnd.openstack.images-v2";
        assert_eq!(n(vnd), vnd);
        assert_eq!(n("application/vnd.openstack.images-v2 ;q=1"), vnd);
        assert_eq!(n("application/vnd.openstack.images-v2;Q=1.0"), vnd);
        assert_eq!(n("application/vnd.openstack.images-v2,"), vnd);
        assert_eq!(
            n(",application/vnd.openstack.images-v2"),
            "<invalid header value>"
        );
        assert_eq!(
            n("application/vnd.openstack.images-v2;;"),
            "<invalid header value>"
        );
        assert_eq!(
            n("application/vnd.openstack.images-v2;q=0.5"),
            format!("{vnd};q=0.5")
        );
        assert_eq!(n("a/b, c/d"), "a/b, c/d");
        assert_eq!(
            n("text/html ; q=0.5 ; ext=1, application/json;q=0.6"),
            "text/html;q=0.5;ext=1, application/json;q=0.6"
        );
        assert_eq!(Accept::parse(None).normalized(), "<no header in request>");
    }
}
