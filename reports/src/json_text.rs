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

/// A member of a top-level object, written before the object is: its value
/// as [`pretty`] prints it after `"key": ` one level deep. A large member
/// can then wait as text, not as a `serde_json::Value` tree (a map is a
/// B-tree leaf: a document's tree takes about 25 times its text), until
/// [`pretty_with_member`] puts it in its object's text.
#[derive(Clone, Debug)]
pub struct Member(String);

impl Member {
    /// `value`'s text as a member of a top-level object.
    pub fn of<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Member> {
        /// An object whose only member is the value, under the empty key.
        struct Alone<'a, T: ?Sized>(&'a T);
        impl<T: Serialize + ?Sized> Serialize for Alone<'_, T> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("", self.0)?;
                m.end()
            }
        }
        let text = pretty(&Alone(value))?;
        let body = text
            .strip_prefix("{\n  \"\": ")
            .and_then(|t| t.strip_suffix("\n}"))
            .expect("an object of one member is printed over three lines or more");
        Ok(Member(body.to_string()))
    }
}

/// The text [`pretty`] prints for `doc` with its member `key` set to
/// `member`'s value, from `doc` holding null there: the same bytes. Only a
/// member of the top-level object has its key at the start of a line after
/// two spaces (deeper members are indented further, and a JSON string holds
/// no line break), so the null is found by its line.
///
/// # Errors
/// If `doc` is not an object whose member `key` is null.
pub fn pretty_with_member(
    doc: &serde_json::Value,
    key: &str,
    member: &Member,
) -> serde_json::Result<String> {
    use serde::ser::Error;
    if !doc.get(key).is_some_and(serde_json::Value::is_null) {
        return Err(serde_json::Error::custom(format!(
            "the document has no null member {key:?} to fill"
        )));
    }
    let mut text = pretty(doc)?;
    let line = format!("\n  {}: null", serde_json::to_string(key)?);
    let at = text.find(&line).expect("a top-level member starts a line") + line.len() - 4;
    text.replace_range(at..at + 4, &member.0);
    Ok(text)
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

    #[test]
    fn a_member_needs_its_null_placeholder() {
        let m = Member::of(&json!({"a": [1, 2]})).unwrap();
        assert!(pretty_with_member(&json!({"k": 1}), "k", &m).is_err());
        assert!(pretty_with_member(&json!({"j": null}), "k", &m).is_err());
        assert!(pretty_with_member(&json!([null]), "k", &m).is_err());
        // A nested member of the same name is not the top-level one.
        let doc = json!({"a": {"k": null}, "k": null});
        let mut full = doc.clone();
        full["k"] = json!({"a": [1, 2]});
        assert_eq!(
            pretty_with_member(&doc, "k", &m).unwrap(),
            pretty(&full).unwrap()
        );
    }

    proptest::proptest! {
        /// A member written ahead and put in its object's text gives the
        /// bytes of the object printed whole.
        #[test]
        fn a_member_written_ahead_gives_the_same_text(
            v in json(),
            rest in proptest::collection::btree_map("[a-z\"\\n]{0,3}", json(), 0..4),
            key in "[a-z\"\\n]{0,3}",
        ) {
            let mut doc: serde_json::Map<String, Value> = rest.into_iter().collect();
            doc.insert(key.clone(), Value::Null);
            let doc = Value::Object(doc);
            let mut full = doc.clone();
            full[&key] = v.clone();
            let spliced = pretty_with_member(&doc, &key, &Member::of(&v).unwrap()).unwrap();
            proptest::prop_assert_eq!(spliced, pretty(&full).unwrap());
        }

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
