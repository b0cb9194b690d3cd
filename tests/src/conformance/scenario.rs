//! Scenario files: `{"description": ..., "steps": [STEP, ...]}`.

use std::path::Path;

use super::Error;
use super::json::OrderedJson;

/// One scenario: a sequence of HTTP requests replayed in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// What the scenario exercises (free text).
    pub description: Option<String>,
    /// The requests, in order.
    pub steps: Vec<ScenarioStep>,
}

/// One request of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioStep {
    /// Identity name (`as`): one of [`super::IDENTITIES`] or `anon`; `alice`
    /// when absent.
    pub identity: String,
    /// HTTP method.
    pub method: String,
    /// Path; may hold `{var}` placeholders filled from earlier `save`s.
    pub path: String,
    /// Query pairs appended to the path (values may hold `{var}`).
    pub query: Vec<(String, String)>,
    /// Extra request headers in file order (names and values may hold `{var}`).
    pub headers: Vec<(String, String)>,
    /// Whether to send `Accept: application/json` (`accept_json`).
    pub accept_json: bool,
    /// The request body, if any.
    pub body: Option<RequestBody>,
    /// Variables to save from a response below 400: name to a dotted path
    /// into the response JSON, or `header:Name`.
    pub save: Vec<(String, String)>,
    /// Repeat the request until a field takes one of the values.
    pub wait: Option<Wait>,
    /// Free text.
    pub note: Option<String>,
}

/// A request body.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    /// `json`: sent as `json.dumps` text, `Content-Type: application/json`
    /// unless the step's headers set `Content-Type`.
    Json(OrderedJson),
    /// `patch`: like `json`, with `Content-Type:
    /// application/openstack-images-v2.1-json-patch` by default.
    Patch(OrderedJson),
    /// `data`: raw bytes, `Content-Type: application/octet-stream` by default.
    Data(Data),
}

/// The bytes of a `data` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    /// `{"text": "..."}`: the UTF-8 text.
    Text(String),
    /// `{"seed": N, "size": BYTES}`: [`super::det_bytes`]`(seed, size)`.
    Seeded {
        /// Seed of the byte stream.
        seed: i64,
        /// Number of bytes.
        size: usize,
    },
}

/// A `wait` clause: `{"field": "status", "until": [...], "seconds": 60}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// Dotted path into the response JSON.
    pub field: String,
    /// The values that end the wait (a list; membership as Python's `in`).
    pub until: OrderedJson,
    /// How long to keep polling, in seconds (0 when absent).
    pub seconds: f64,
}

impl Scenario {
    /// Parses a scenario file's bytes.
    pub fn from_slice(data: &[u8]) -> Result<Self, Error> {
        let json = OrderedJson::from_slice(data).map_err(|e| Error::Json("scenario".into(), e))?;
        Self::from_json(&json)
    }

    /// Builds a scenario from its JSON (key order is kept, so bodies are sent
    /// exactly as the Python tool sends them).
    pub fn from_json(json: &OrderedJson) -> Result<Self, Error> {
        let description = match json.get("description") {
            None | Some(OrderedJson::Null) => None,
            Some(v) => Some(v.py_str()),
        };
        let Some(OrderedJson::Array(steps)) = json.get("steps") else {
            return Err(Error::Scenario("a scenario needs a \"steps\" list".into()));
        };
        let steps = steps
            .iter()
            .enumerate()
            .map(|(i, s)| parse_step(s).map_err(|e| Error::Scenario(format!("step {i}: {e}"))))
            .collect::<Result<_, _>>()?;
        Ok(Scenario { description, steps })
    }

    /// Reads and parses one scenario file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let data = std::fs::read(path).map_err(|e| Error::Io(path.display().to_string(), e))?;
        Self::from_slice(&data).map_err(|e| e.context(&path.display().to_string()))
    }
}

fn string(v: &OrderedJson, what: &str) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{what} must be a string"))
}

/// A header value as `http.client` accepts it: a string, or an integer sent as
/// its digits.
fn header_value(v: &OrderedJson, what: &str) -> Result<String, String> {
    match v {
        OrderedJson::String(s) => Ok(s.clone()),
        OrderedJson::Number(n) if !n.is_f64() => Ok(n.to_string()),
        OrderedJson::Bool(b) => Ok(if *b { "True" } else { "False" }.into()),
        _ => Err(format!("{what} must be a string or an integer")),
    }
}

fn parse_step(step: &OrderedJson) -> Result<ScenarioStep, String> {
    let OrderedJson::Object(_) = step else {
        return Err("a step must be an object".into());
    };
    let identity = match step.get("as") {
        None => "alice".to_owned(),
        Some(v) => string(v, "\"as\"")?,
    };
    let method = string(
        step.get("method").ok_or("\"method\" is missing")?,
        "\"method\"",
    )?;
    let path = string(step.get("path").ok_or("\"path\" is missing")?, "\"path\"")?;
    let mut query = Vec::new();
    if let Some(q) = step.get("query").filter(|q| q.truthy()) {
        let OrderedJson::Array(pairs) = q else {
            return Err("\"query\" must be a list of [key, value] pairs".into());
        };
        for pair in pairs {
            match pair {
                OrderedJson::Array(kv) if kv.len() == 2 => {
                    query.push((kv[0].py_str(), string(&kv[1], "a query value")?));
                }
                _ => return Err("\"query\" must be a list of [key, value] pairs".into()),
            }
        }
    }
    let mut headers = Vec::new();
    match step.get("headers") {
        None => {}
        Some(OrderedJson::Object(entries)) => {
            for (k, v) in entries {
                headers.push((k.clone(), header_value(v, "a header value")?));
            }
        }
        Some(_) => return Err("\"headers\" must be an object".into()),
    }
    let accept_json = step.get("accept_json").is_some_and(OrderedJson::truthy);
    let body = if let Some(j) = step.get("json") {
        Some(RequestBody::Json(j.clone()))
    } else if let Some(p) = step.get("patch") {
        Some(RequestBody::Patch(p.clone()))
    } else if let Some(d) = step.get("data") {
        Some(RequestBody::Data(parse_data(d)?))
    } else {
        None
    };
    let mut save = Vec::new();
    match step.get("save") {
        None => {}
        Some(OrderedJson::Object(entries)) => {
            for (k, v) in entries {
                save.push((k.clone(), string(v, "a \"save\" location")?));
            }
        }
        Some(_) => return Err("\"save\" must be an object".into()),
    }
    let wait = match step.get("wait") {
        Some(w) if w.truthy() => {
            let field = string(
                w.get("field").ok_or("\"wait\" needs \"field\"")?,
                "\"wait.field\"",
            )?;
            let until = w.get("until").ok_or("\"wait\" needs \"until\"")?.clone();
            let seconds = match w.get("seconds") {
                None => 0.0,
                Some(OrderedJson::Number(n)) => n.as_f64().unwrap_or(0.0),
                Some(_) => return Err("\"wait.seconds\" must be a number".into()),
            };
            Some(Wait {
                field,
                until,
                seconds,
            })
        }
        _ => None,
    };
    let note = step.get("note").map(OrderedJson::py_str);
    Ok(ScenarioStep {
        identity,
        method,
        path,
        query,
        headers,
        accept_json,
        body,
        save,
        wait,
        note,
    })
}

fn parse_data(d: &OrderedJson) -> Result<Data, String> {
    if let Some(t) = d.get("text") {
        return Ok(Data::Text(string(t, "\"data.text\"")?));
    }
    let int = |key: &str| -> Result<i64, String> {
        match d.get(key) {
            Some(OrderedJson::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .ok_or_else(|| format!("\"data.{key}\" must be an integer")),
            Some(OrderedJson::Bool(b)) => Ok(i64::from(*b)),
            _ => Err(format!(
                "\"data\" needs \"text\", or \"seed\" and \"size\" (\"{key}\")"
            )),
        }
    };
    let seed = int("seed")?;
    let size = usize::try_from(int("size")?)
        .map_err(|_| "\"data.size\" must not be negative".to_owned())?;
    Ok(Data::Seeded { seed, size })
}
