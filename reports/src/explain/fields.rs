//! Structured fields for the JSONL trace: a record's Rust `Debug` text
//! (`OpCompleted { op: OpId { client: ClientId(2), seq: 1 }, key: Key(15),
//! result: Ok(()), coordinator: Some(NodeId(1)) }`) read back into JSON
//! (`{"op": {"client": "c2", "seq": 1}, "key": 15, "result": {"Ok": null},
//! "coordinator": "n1"}`), so scripts need not parse Rust syntax.
//!
//! The rules: a struct is an object of its fields; a one-field tuple
//! struct is its field (`Key(15)` is `15`, `SimTime(6586)` is `6586`
//! microseconds), except `NodeId` and `ClientId`, which become the
//! scenario's names, and `Ok`/`Err`, kept as `{"Ok": ...}`/`{"Err": ...}`;
//! `Some(x)` is `x` and `None` is `null`; a bare name (`Get`, `Timeout`)
//! is a string; lists and tuples are arrays. Text that does not parse
//! gives no fields (the `details` text is always there).

use serde_json::{json, Map, Value as Json};

use super::Names;
use sim_core::dynamo::protocol::Endpoint;
use sim_core::engine::ids::{ClientId, NodeId};

/// The fields of a record's `Debug` text, `None` when it does not parse.
pub fn record_fields(debug: &str, names: &Names) -> Option<Json> {
    let mut p = Parser {
        s: debug.as_bytes(),
        i: 0,
        names,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return None;
    }
    Some(match v {
        Json::Object(_) => v,
        Json::String(_) => json!({}), // a unit record (`ReplicasConverged`)
        other => json!({ "value": other }),
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    names: &'a Names,
}

const MAX_DEPTH: usize = 32;

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// `open` items separated by commas up to `close`.
    fn items(&mut self, close: u8, depth: usize) -> Option<Vec<Json>> {
        let mut out = Vec::new();
        if self.eat(close) {
            return Some(out);
        }
        loop {
            out.push(self.value(depth + 1)?);
            if self.eat(close) {
                return Some(out);
            }
            if !self.eat(b',') {
                return None;
            }
            if self.eat(close) {
                return Some(out);
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<Json> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'[' => {
                self.i += 1;
                Some(Json::Array(self.items(b']', depth)?))
            }
            b'{' => {
                // A set `{a, b}` (not produced by records today).
                self.i += 1;
                Some(Json::Array(self.items(b'}', depth)?))
            }
            b'(' => {
                self.i += 1;
                let items = self.items(b')', depth)?;
                Some(if items.is_empty() {
                    Json::Null
                } else {
                    Json::Array(items)
                })
            }
            b'"' => self.string(),
            c if c == b'-' || c.is_ascii_digit() => self.number(),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let name = self.ident()?;
                match self.peek() {
                    Some(b'{') => {
                        self.i += 1;
                        let mut map = Map::new();
                        if !self.eat(b'}') {
                            loop {
                                let field = self.ident()?;
                                if !self.eat(b':') {
                                    return None;
                                }
                                map.insert(field, self.value(depth + 1)?);
                                if self.eat(b'}') {
                                    break;
                                }
                                if !self.eat(b',') {
                                    return None;
                                }
                                if self.eat(b'}') {
                                    break;
                                }
                            }
                        }
                        Some(Json::Object(map))
                    }
                    Some(b'(') => {
                        self.i += 1;
                        let mut items = self.items(b')', depth)?;
                        let inner = if items.len() == 1 {
                            items.pop()?
                        } else if items.is_empty() {
                            Json::Null
                        } else {
                            Json::Array(items)
                        };
                        Some(match (name.as_str(), &inner) {
                            ("NodeId", Json::Number(n)) => {
                                json!(self.names.name(Endpoint::Node(NodeId(n.as_u64()? as u32))))
                            }
                            ("ClientId", Json::Number(n)) => json!(self
                                .names
                                .name(Endpoint::Client(ClientId(n.as_u64()? as u32)))),
                            ("Ok" | "Err", _) => json!({ name: inner }),
                            _ => inner,
                        })
                    }
                    _ => Some(match name.as_str() {
                        "None" => Json::Null,
                        "true" => Json::Bool(true),
                        "false" => Json::Bool(false),
                        _ => Json::String(name),
                    }),
                }
            }
            _ => None,
        }
    }

    fn string(&mut self) -> Option<Json> {
        // Debug strings escape like JSON for the characters records use.
        let start = self.i;
        self.i += 1;
        while self.i < self.s.len() {
            match self.s[self.i] {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                    return Some(
                        serde_json::from_str(text)
                            .unwrap_or_else(|_| Json::String(text[1..text.len() - 1].to_string())),
                    );
                }
                _ => self.i += 1,
            }
        }
        None
    }

    fn number(&mut self) -> Option<Json> {
        let start = self.i;
        self.i += 1;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric()
                || matches!(self.s[self.i], b'.' | b'-' | b'+'))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if let Ok(n) = text.parse::<i64>() {
            return Some(json!(n));
        }
        if let Ok(n) = text.parse::<u64>() {
            return Some(json!(n));
        }
        text.parse::<f64>().ok().map(|x| json!(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            nodes: vec!["a".into(), "b".into()],
            clients: vec!["web".into()],
        }
    }

    #[test]
    fn records_read_back_as_json() {
        let f = record_fields(
            "OpCompleted { op: OpId { client: ClientId(0), seq: 1 }, kind: Get, key: Key(15), invoked: SimTime(6586), result: Ok(()), values: [], bytes: 0, coordinator: Some(NodeId(1)) }",
            &names(),
        )
        .expect("parses");
        assert_eq!(
            f,
            json!({"op": {"client": "web", "seq": 1}, "kind": "Get", "key": 15, "invoked": 6586,
                   "result": {"Ok": null}, "values": [], "bytes": 0, "coordinator": "b"})
        );
        let f = record_fields(
            "X { r: Err(Timeout), v: [(1, -2.5), \"q\\\"\"], n: None }",
            &names(),
        )
        .expect("parses");
        assert_eq!(
            f,
            json!({"r": {"Err": "Timeout"}, "v": [[1, -2.5], "q\""], "n": null})
        );
        assert_eq!(
            record_fields("ReplicasConverged", &names()),
            Some(json!({}))
        );
        assert_eq!(record_fields("X { a: ", &names()), None);
        assert_eq!(record_fields(&"[".repeat(100), &names()), None);
    }
}
