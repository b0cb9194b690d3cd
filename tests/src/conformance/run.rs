//! Replaying a scenario against a server.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::Regex;
use sha2::{Digest, Sha512};

use super::compare::{Step, Transcript};
use super::http::{Response, Target};
use super::json::{OrderedJson, py_eq};
use super::normalise::{Normaliser, describe_body};
use super::scenario::{Data, RequestBody, Scenario, ScenarioStep};
use super::{Error, IDENTITIES, KEPT_HEADERS};

static VAR_RE: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"\{(\w+)\}").expect("a valid regular expression")
});

/// How often a `wait` step repeats its request.
const POLL: Duration = Duration::from_millis(500);

/// `size` deterministic bytes: the SHA-512 digests of `"{seed}:{block}"` for
/// block 0, 1, 2, ... concatenated and cut to `size`.
pub fn det_bytes(seed: i64, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 64);
    let mut block: u64 = 0;
    while out.len() < size {
        out.extend_from_slice(&Sha512::digest(format!("{seed}:{block}").as_bytes()));
        block += 1;
    }
    out.truncate(size);
    out
}

/// Variables saved by earlier steps.
type Env = HashMap<String, OrderedJson>;

/// Replaces every `{var}` in `s` by Python's `str()` of the saved value.
fn fill(s: &str, env: &Env) -> Result<String, Error> {
    for c in VAR_RE.captures_iter(s) {
        if !env.contains_key(&c[1]) {
            return Err(Error::Scenario(format!(
                "variable {:?} is not set (in {s:?})",
                &c[1]
            )));
        }
    }
    Ok(VAR_RE
        .replace_all(s, |c: &regex::Captures<'_>| {
            env.get(&c[1]).map(OrderedJson::py_str).unwrap_or_default()
        })
        .into_owned())
}

/// `fill` applied to every string (and object key) in a JSON value.
fn fill_any(v: &OrderedJson, env: &Env) -> Result<OrderedJson, Error> {
    Ok(match v {
        OrderedJson::String(s) => OrderedJson::String(fill(s, env)?),
        OrderedJson::Array(items) => OrderedJson::Array(
            items
                .iter()
                .map(|x| fill_any(x, env))
                .collect::<Result<_, _>>()?,
        ),
        OrderedJson::Object(entries) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, x) in entries {
                let k = fill(k, env)?;
                let x = fill_any(x, env)?;
                OrderedJson::insert(&mut out, k, x);
            }
            OrderedJson::Object(out)
        }
        other => other.clone(),
    })
}

/// Follows a dotted path (`a.0.b`) into a value; list indices as Python's
/// `int()` reads them (negative ones count from the end).
fn dig(obj: &OrderedJson, dotted: &str) -> Option<OrderedJson> {
    let mut cur = obj;
    for part in dotted.split('.') {
        cur = match cur {
            OrderedJson::Array(items) => {
                let i = py_int(part)?;
                let len = i64::try_from(items.len()).ok()?;
                let i = if i < 0 { i + len } else { i };
                items.get(usize::try_from(i).ok()?)?
            }
            OrderedJson::Object(_) => cur.get(part)?,
            _ => return None,
        };
    }
    Some(cur.clone())
}

/// Python's `int(str)` for plain decimal text.
fn py_int(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c: char| c.is_whitespace());
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

/// Python's `urllib.parse.quote_plus`.
fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A header map with Python `dict` semantics: exact (case-sensitive) keys,
/// a replaced key keeps its position.
fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    if let Some(slot) = headers.iter_mut().find(|(k, _)| k == name) {
        slot.1 = value;
    } else {
        headers.push((name.to_owned(), value));
    }
}

/// Python's `in` for `value in until`.
fn is_in(value: &OrderedJson, until: &OrderedJson) -> bool {
    match (value, until) {
        (_, OrderedJson::Array(items)) => {
            let v = serde_json::Value::from(value);
            items.iter().any(|x| py_eq(&v, &serde_json::Value::from(x)))
        }
        (OrderedJson::String(v), OrderedJson::String(u)) => u.contains(v.as_str()),
        (OrderedJson::String(v), OrderedJson::Object(entries)) => {
            entries.iter().any(|(k, _)| k == v)
        }
        _ => false,
    }
}

async fn run_step(
    target: &Target,
    scenario: &str,
    step: &ScenarioStep,
    env: &Env,
) -> Result<Response, Error> {
    let mut headers: Vec<(String, String)> = Vec::new();
    if step.accept_json {
        set_header(&mut headers, "Accept", "application/json".into());
    }
    let who = step.identity.as_str();
    if who != "anon" {
        let &(_, roles, project, user) = IDENTITIES
            .iter()
            .find(|(name, ..)| *name == who)
            .ok_or_else(|| Error::Scenario(format!("unknown identity {who:?}")))?;
        set_header(&mut headers, "X-Identity-Status", "Confirmed".into());
        set_header(&mut headers, "X-Roles", roles.into());
        set_header(
            &mut headers,
            "X-Project-Id",
            format!("{scenario}-{project}"),
        );
        set_header(&mut headers, "X-User-Id", format!("{scenario}-{user}"));
        set_header(&mut headers, "X-Auth-Token", format!("token-{who}"));
    }
    // `headers.update(fill_any(step["headers"]))`: the filled dict first (its
    // keys may collide after filling), then the update.
    let mut extra: Vec<(String, String)> = Vec::new();
    for (k, v) in &step.headers {
        set_header(&mut extra, &fill(k, env)?, fill(v, env)?);
    }
    for (k, v) in extra {
        set_header(&mut headers, &k, v);
    }
    let set_default = |headers: &mut Vec<(String, String)>, value: &str| {
        if !headers.iter().any(|(k, _)| k == "Content-Type") {
            headers.push(("Content-Type".into(), value.into()));
        }
    };
    let body = match &step.body {
        None => None,
        Some(RequestBody::Json(j)) => {
            set_default(&mut headers, "application/json");
            Some(fill_any(j, env)?.dumps().into_bytes())
        }
        Some(RequestBody::Patch(p)) => {
            set_default(&mut headers, "application/openstack-images-v2.1-json-patch");
            Some(fill_any(p, env)?.dumps().into_bytes())
        }
        Some(RequestBody::Data(d)) => {
            set_default(&mut headers, "application/octet-stream");
            Some(match d {
                Data::Text(t) => t.clone().into_bytes(),
                Data::Seeded { seed, size } => det_bytes(*seed, *size),
            })
        }
    };
    let mut path = fill(&step.path, env)?;
    if !step.query.is_empty() {
        let pairs: Vec<String> = step
            .query
            .iter()
            .map(|(k, v)| Ok(format!("{}={}", quote_plus(k), quote_plus(&fill(v, env)?))))
            .collect::<Result<_, Error>>()?;
        path.push('?');
        path.push_str(&pairs.join("&"));
    }
    let deadline = Instant::now()
        + Duration::from_secs_f64(step.wait.as_ref().map_or(0.0, |w| w.seconds.max(0.0)));
    loop {
        let response = target
            .request(&step.method, &path, &headers, body.as_deref())
            .await?;
        let Some(wait) = &step.wait else {
            return Ok(response);
        };
        if Instant::now() > deadline {
            return Ok(response);
        }
        let done = OrderedJson::from_slice(&response.body)
            .ok()
            .and_then(|v| dig(&v, &wait.field))
            .is_some_and(|v| is_in(&v, &wait.until));
        if done {
            return Ok(response);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The path of a URL as `urllib.parse.urlsplit(v).path` finds it.
fn url_path(v: &str) -> &str {
    let mut rest = v.trim_matches(|c: char| c <= ' ');
    if let Some(i) = rest.find(':') {
        let scheme = &rest[..i];
        if i > 0
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            rest = &rest[i + 1..];
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        rest = &after[after.find(['/', '?', '#']).unwrap_or(after.len())..];
    }
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    &rest[..end]
}

/// Replays `scenario` (called `name`, which prefixes the project and user
/// ids) against the server at `base_url` and returns its normalised
/// transcript.
///
/// Fails on a connection or protocol error, or when the scenario refers to a
/// variable no earlier step saved (the Python tool stops there too).
pub async fn run_scenario(
    base_url: &str,
    name: &str,
    scenario: &Scenario,
) -> Result<Transcript, Error> {
    let target = Target::new(base_url)?;
    let mut env = Env::new();
    let mut norm = Normaliser::new(name, &target.base);
    let mut out = Vec::with_capacity(scenario.steps.len());
    for (i, step) in scenario.steps.iter().enumerate() {
        let response = run_step(&target, name, step, &env)
            .await
            .map_err(|e| e.context(&format!("{name} step {i} ({} {})", step.method, step.path)))?;
        // `{k.lower(): v}`: the last of repeated headers wins.
        let mut rh: HashMap<String, String> = HashMap::new();
        for (k, v) in &response.headers {
            rh.insert(k.to_lowercase(), v.clone());
        }
        let body = describe_body(
            rh.get("content-type").map_or("", String::as_str),
            &response.body,
        );
        if response.status < 400 {
            for (var, location) in &step.save {
                let value = if let Some(h) = location.strip_prefix("header:") {
                    rh.get(&h.to_lowercase()).cloned().map(OrderedJson::String)
                } else {
                    OrderedJson::from_slice(&response.body)
                        .ok()
                        .and_then(|v| dig(&v, location))
                };
                env.insert(
                    var.clone(),
                    value.unwrap_or_else(|| OrderedJson::String(format!("missing-{var}"))),
                );
            }
        }
        let is_bytes = body.as_ref().is_some_and(|b| b.get("bytes").is_some());
        let mut headers = BTreeMap::new();
        for &h in KEPT_HEADERS {
            let Some(v) = rh.get(h) else { continue };
            let v = match h {
                "content-type" => v.replace("; ", ";").to_lowercase(),
                // A JSON body's length follows its formatting.
                "content-length" if !is_bytes => continue,
                "location" => url_path(v).to_owned(),
                // Glance adds its reserved internal stores after its first image
                // delete; they are not stores a client can use.
                "openstack-image-store-ids" => v
                    .split(',')
                    .filter(|x| !x.starts_with("os_glance_"))
                    .collect::<Vec<_>>()
                    .join(","),
                _ => v.clone(),
            };
            headers.insert(h.to_owned(), norm.text(&v));
        }
        let request = format!("{} {}", step.method, norm.text(&fill(&step.path, &env)?));
        let body = body.map_or(serde_json::Value::Null, |b| {
            serde_json::Value::from(&norm.value(&b))
        });
        out.push(Step {
            step: i,
            request,
            identity: step.identity.clone(),
            status: response.status,
            headers,
            body,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn det_bytes_matches_python() {
        // hashlib.sha256(det_bytes(1, 100)).hexdigest() and the 10-byte one.
        let d = det_bytes(1, 1_048_583);
        assert_eq!(d.len(), 1_048_583);
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&d[..100])),
            "5fbc281871c9a6a114371f34afb60ce95187d68f8a498decd758275f19d18eb6"
        );
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&d)),
            "68318a8a339047be7472de5f435fb537c79b815ab8f08afff625d2cc53be8f7e"
        );
    }

    #[test]
    fn helpers_match_python() {
        assert_eq!(quote_plus("a b&c=d/é~"), "a+b%26c%3Dd%2F%C3%A9~");
        assert_eq!(url_path("http://h:1/v2/images/x?y#z"), "/v2/images/x");
        assert_eq!(url_path("/v2/images/x"), "/v2/images/x");
        let v = OrderedJson::from_slice(br#"{"a": [{"b": 1}, {"b": "x"}]}"#).expect("JSON");
        assert_eq!(dig(&v, "a.-1.b"), Some(OrderedJson::String("x".into())));
        assert_eq!(dig(&v, "a.0.b.c"), None);
        assert_eq!(dig(&v, "a.z"), None);
        let mut env = Env::new();
        env.insert("img".into(), OrderedJson::String("abc".into()));
        env.insert("n".into(), OrderedJson::Null);
        assert_eq!(
            fill("/v2/images/{img}/{n}", &env).expect("set"),
            "/v2/images/abc/None"
        );
        assert!(fill("/{nope}", &env).is_err());
    }
}
