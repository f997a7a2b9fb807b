//! The text of the JSON files a run writes (`summary.json`, `sweep.json`,
//! ...): indented like `serde_json::to_string_pretty`, except that an array
//! inside an array, and everything inside that, stays on one line.
//!
//! A summary's series are arrays of small arrays (the scatter's points,
//! `[t_s, latency_ms, ok, kind]`; CDF points; a sweep's grids): printed one
//! number a line, the baseline's 17,778 scatter points were 1.5 MB of
//! mostly indentation, and writing them was a fifth of a short run's
//! instructions. One point a line reads better and is half the bytes.
//! Objects keep one member a line at any depth outside such an array.
//!
//! This module only formats: the value, and so what any JSON reader gets
//! back, is exactly what `serde_json` would print.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// `value` as indented JSON text (two spaces), with arrays in arrays on one
/// line (see the module docs).
pub fn pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(4096);
    let mut ser = Serializer::with_formatter(&mut out, Layout::default());
    value.serialize(&mut ser)?;
    // The serializer writes UTF-8 only (strings are copied or escaped).
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// A container being written: an array or not (an object), and whether it
/// is on one line.
#[derive(Clone, Copy)]
struct Open {
    array: bool,
    inline: bool,
}

/// The formatter behind [`pretty`].
#[derive(Default)]
struct Layout {
    open: Vec<Open>,
    /// The innermost multi-line container has a member.
    has_value: bool,
}

impl Layout {
    /// Opens a container: on one line when it is an array inside an array,
    /// or inside a container already on one line.
    fn begin<W: ?Sized + Write>(&mut self, w: &mut W, array: bool) -> io::Result<()> {
        let inline = self
            .open
            .last()
            .is_some_and(|o| o.inline || (o.array && array));
        self.open.push(Open { array, inline });
        if !inline {
            self.has_value = false;
        }
        w.write_all(if array { b"[" } else { b"{" })
    }

    fn end<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let o = self.open.pop().expect("a container is open");
        if !o.inline && self.has_value {
            self.newline(w)?;
        }
        // The enclosing multi-line container has this one as a member.
        self.has_value = true;
        w.write_all(if o.array { b"]" } else { b"}" })
    }

    /// Before a member: a separator, then a new line in a multi-line
    /// container.
    fn member<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if self.open.last().is_some_and(|o| o.inline) {
            return if first { Ok(()) } else { w.write_all(b", ") };
        }
        if !first {
            w.write_all(b",")?;
        }
        self.newline(w)
    }

    /// A new line, indented by the open containers written over several
    /// lines (those on one line add nothing).
    fn newline<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in self.open.iter().filter(|o| !o.inline) {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Formatter for Layout {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, true)
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.member(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.begin(w, false)
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.end(w)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.member(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn arrays_in_arrays_take_one_line_and_the_rest_is_indented_as_before() {
        let v = json!({
            "a": 1,
            "points": [[0.5, 2, true, "get"], [1.5, {"k": [1, 2]}, false, "put"]],
            "list": [1, 2],
            "rows": [{"x": [[1, 2]], "y": {}}, []],
            "empty": [],
            "obj": {}
        });
        let text = pretty(&v).unwrap();
        let expected = r#"{
  "a": 1,
  "empty": [],
  "list": [
    1,
    2
  ],
  "obj": {},
  "points": [
    [0.5, 2, true, "get"],
    [1.5, {"k": [1, 2]}, false, "put"]
  ],
  "rows": [
    {
      "x": [
        [1, 2]
      ],
      "y": {}
    },
    []
  ]
}"#;
        assert_eq!(text, expected);
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn without_arrays_in_arrays_it_prints_what_serde_json_prints() {
        let v = json!({"b": {"c": [1, {"d": null}], "e": "x\n"}, "f": [], "g": {}, "h": [{}]});
        assert_eq!(
            pretty(&v).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
        assert_eq!(pretty(&json!(3)).unwrap(), "3");
        assert_eq!(pretty(&json!([])).unwrap(), "[]");
    }

    fn json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1e9f64..1e9).prop_map(Value::from),
            "[a-z\\n\"]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map("[a-c]{1,2}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// True when some array holds an array (at any depth).
    fn nests_arrays(v: &Value) -> bool {
        match v {
            Value::Array(items) => items.iter().any(|i| i.is_array() || nests_arrays(i)),
            Value::Object(m) => m.values().any(nests_arrays),
            _ => false,
        }
    }

    proptest::proptest! {
        /// Any value reads back as itself, and without arrays in arrays
        /// the text is `serde_json`'s own.
        #[test]
        fn the_text_reads_back_as_the_value(v in json()) {
            let text = pretty(&v).unwrap();
            let back: Value = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(&back, &v);
            if !nests_arrays(&v) {
                proptest::prop_assert_eq!(text, serde_json::to_string_pretty(&v).unwrap());
            }
        }
    }
}
