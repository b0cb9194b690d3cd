//! Transcripts and their comparison with the reference.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::KEPT_HEADERS;
use super::json::{dumps_value, py_eq, py_repr_str, repr_value};

/// One step of a normalised transcript (the format of `expected/NAME.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Index of the step in its scenario.
    pub step: usize,
    /// `METHOD /normalised/path` (without the query).
    pub request: String,
    /// The identity the request was sent as.
    #[serde(rename = "as")]
    pub identity: String,
    /// HTTP status.
    pub status: u16,
    /// The kept headers (lowercase names), normalised.
    pub headers: BTreeMap<String, String>,
    /// The described, normalised body: `null`, or an object with `json`,
    /// `unparsable-json`, `error` and `message`, or `bytes` and `sha256`.
    pub body: Value,
}

/// A whole transcript, one entry per step.
pub type Transcript = Vec<Step>;

/// The result of [`compare`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Differences that fail the scenario.
    pub problems: Vec<String>,
    /// Differences in error message text, which fail only in strict mode
    /// (then they are problems instead).
    pub notes: Vec<String>,
}

impl Outcome {
    /// True when there is no problem.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// The report the Python tool prints for scenario `name`: `ok   NAME` or
    /// `FAIL NAME` with one indented line per problem, then `  note: ...`
    /// lines.
    pub fn report(&self, name: &str) -> String {
        let mut out = if self.passed() {
            format!("ok   {name}")
        } else {
            format!("FAIL {name}")
        };
        for p in &self.problems {
            out.push_str("\n  ");
            out.push_str(p);
        }
        for n in &self.notes {
            out.push_str("\n  note: ");
            out.push_str(n);
        }
        out
    }
}

/// Python truthiness of a value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `(body or {}).get(key)`.
fn get<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    body.as_object().and_then(|o| o.get(key))
}

fn repr_opt(v: Option<&Value>) -> String {
    v.map_or_else(|| "None".to_owned(), repr_value)
}

fn opt_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => py_eq(x, y),
        (None, None) => true,
        _ => false,
    }
}

/// Compares an actual transcript with the expected one, with the reference
/// checker's rules:
/// - a different status is a problem (and the step's other fields are skipped);
/// - every expected header must be sent with the same value (the content
///   type of an expected empty body is not checked); a kept header other than
///   `content-length` and `content-type` that the reference did not send is a
///   problem;
/// - an expected JSON error body (`code`, `title`, `message`) needs the same
///   `code` and `title`; an expected HTML or text error body the same title;
///   a different message is a note, or a problem when `strict`;
/// - any other body must be equal (objects regardless of key order), and the
///   problem lists the differing JSON paths;
/// - the number of steps must match.
pub fn compare(expected: &[Step], actual: &[Step], strict: bool) -> Outcome {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for (e, a) in expected.iter().zip(actual) {
        let place = format!("step {} ({} as {})", e.step, e.request, e.identity);
        if e.status != a.status {
            problems.push(format!(
                "{place}: status {}, expected {}",
                a.status, e.status
            ));
            continue;
        }
        for (h, v) in &e.headers {
            if h == "content-type" && e.body.is_null() {
                continue; // no body (a 204): its content type says nothing
            }
            let got = a.headers.get(h);
            if got != Some(v) {
                let got = got.map_or_else(|| "None".to_owned(), |g| py_repr_str(g));
                problems.push(format!(
                    "{place}: header {h} is {got}, expected {}",
                    py_repr_str(v)
                ));
            }
        }
        // In the order the Python tool builds them (KEPT_HEADERS), then any other.
        let mut names: Vec<&str> = KEPT_HEADERS
            .iter()
            .copied()
            .filter(|h| a.headers.contains_key(*h))
            .collect();
        names.extend(
            a.headers
                .keys()
                .map(String::as_str)
                .filter(|h| !KEPT_HEADERS.contains(h)),
        );
        for h in names {
            if !e.headers.contains_key(h) && h != "content-length" && h != "content-type" {
                problems.push(format!("{place}: header {h} is not sent by the reference"));
            }
        }
        let (eb, ab) = (&e.body, &a.body);
        let ej = if truthy(eb) { get(eb, "json") } else { None };
        if let Some(Value::Object(ej)) = ej.filter(|_| e.status >= 400) {
            let keys: BTreeSet<&str> = ej.keys().map(String::as_str).collect();
            if keys == BTreeSet::from(["code", "message", "title"]) {
                let aj = if truthy(ab) { get(ab, "json") } else { None };
                match aj {
                    Some(Value::Object(aj))
                        if opt_eq(aj.get("code"), ej.get("code"))
                            && opt_eq(aj.get("title"), ej.get("title")) =>
                    {
                        if !opt_eq(aj.get("message"), ej.get("message")) {
                            let line = format!(
                                "{place}: message {}, expected {}",
                                repr_opt(aj.get("message")),
                                repr_opt(ej.get("message"))
                            );
                            if strict { &mut problems } else { &mut notes }.push(line);
                        }
                    }
                    _ => problems.push(format!(
                        "{place}: JSON error body {}, expected code {} and title {}",
                        repr_value(ab),
                        repr_opt(ej.get("code")),
                        repr_opt(ej.get("title"))
                    )),
                }
                continue;
            }
        }
        if truthy(eb) && get(eb, "error").is_some() {
            if !truthy(ab) || !opt_eq(get(ab, "error"), get(eb, "error")) {
                problems.push(format!(
                    "{place}: error body {}, expected title {}",
                    repr_value(ab),
                    repr_opt(get(eb, "error"))
                ));
            } else if !opt_eq(get(ab, "message"), get(eb, "message")) {
                let line = format!(
                    "{place}: message {}, expected {}",
                    repr_opt(get(ab, "message")),
                    repr_opt(get(eb, "message"))
                );
                if strict { &mut problems } else { &mut notes }.push(line);
            }
            continue;
        }
        if !py_eq(eb, ab) {
            problems.push(format!(
                "{place}: body differs:\n{}",
                body_diff(eb, ab, "$")
            ));
        }
    }
    if expected.len() != actual.len() {
        problems.push(format!(
            "ran {} steps, expected {}",
            actual.len(),
            expected.len()
        ));
    }
    Outcome { problems, notes }
}

/// The first `n` characters of `json.dumps(v)` (which is ASCII).
fn dumps_cut(v: &Value, n: usize) -> String {
    let mut s = dumps_value(v);
    s.truncate(n.min(s.len()));
    s
}

/// Where two bodies differ, one line per differing JSON path (`$.a.b[2]`).
pub fn body_diff(e: &Value, a: &Value, path: &str) -> String {
    match (e, a) {
        (Value::Object(eo), Value::Object(ao)) => {
            let keys: BTreeSet<&String> = eo.keys().chain(ao.keys()).collect();
            let mut lines = Vec::new();
            for k in keys {
                match (eo.get(k), ao.get(k)) {
                    (Some(x), None) => lines.push(format!(
                        "    {path}.{k} missing (expected {})",
                        dumps_cut(x, 120)
                    )),
                    (None, Some(y)) => {
                        lines.push(format!("    {path}.{k} unexpected ({})", dumps_cut(y, 120)))
                    }
                    (Some(x), Some(y)) if !py_eq(x, y) => {
                        lines.push(body_diff(x, y, &format!("{path}.{k}")))
                    }
                    _ => {}
                }
            }
            lines.join("\n")
        }
        (Value::Array(ea), Value::Array(aa)) if ea.len() == aa.len() => ea
            .iter()
            .zip(aa)
            .enumerate()
            .filter(|(_, (x, y))| !py_eq(x, y))
            .map(|(i, (x, y))| body_diff(x, y, &format!("{path}[{i}]")))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => format!(
            "    {path} is {}, expected {}",
            dumps_cut(a, 200),
            dumps_cut(e, 200)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(status: u16, body: Value) -> Step {
        Step {
            step: 0,
            request: "GET /x".into(),
            identity: "alice".into(),
            status,
            headers: BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())]),
            body,
        }
    }

    #[test]
    fn rules() {
        let e = step(200, json!({"json": {"a": 1, "b": [1, 2]}}));
        let one = std::slice::from_ref(&e);
        assert!(compare(one, one, true).passed());
        let a = step(200, json!({"json": {"a": 1.0, "b": [1, 3], "c": null}}));
        let out = compare(one, &[a], false);
        assert_eq!(
            out.problems,
            vec![
                "step 0 (GET /x as alice): body differs:\n    $.json.b[1] is 3, expected 2\n    $.json.c unexpected (null)"
            ]
        );
        let err = step(
            404,
            json!({"json": {"code": "404 Not Found", "title": "Not Found", "message": "m"}}),
        );
        let other = step(
            404,
            json!({"json": {"code": "404 Not Found", "title": "Not Found", "message": "n"}}),
        );
        let out = compare(
            std::slice::from_ref(&err),
            std::slice::from_ref(&other),
            false,
        );
        assert!(out.passed());
        assert_eq!(
            out.notes,
            vec!["step 0 (GET /x as alice): message 'n', expected 'm'"]
        );
        assert!(!compare(&[err], &[other], true).passed());
        assert_eq!(
            compare(&[e.clone(), e.clone()], &[e], false).problems,
            vec!["ran 1 steps, expected 2"]
        );
    }
}
