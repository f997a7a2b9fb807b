use serde_json::{json, Value};
use sim_core::scenario::*;

fn base() -> Value {
    serde_json::from_str(include_str!("../../scenarios/healthy-baseline.json")).unwrap()
}
fn show(name: &str, v: &Value) {
    let r = parse(&v.to_string(), &no_files);
    match r {
        Ok(_) => println!("{name}: OK"),
        Err(e) => {
            for x in e.0 {
                println!("{name}: [{}] {}", x.path(), x)
            }
        }
    }
}
#[test]
fn scratch() {
    let mut v = base();
    v["foo"] = json!(1);
    show("top unknown", &v);
    let mut v = base();
    v["cluster"]["quorum"]["x"] = json!(1);
    show("nested unknown", &v);
    let mut v = base();
    v["network"]["bogus"] = json!(1);
    show("network unknown", &v);
    let mut v = base();
    v["network"]["loss"] = json!(1.5);
    show("loss", &v);
    let mut v = base();
    v["network"]["loss"] = json!("abc");
    show("loss abc", &v);
    let mut v = base();
    v["network"]["loss"] = json!(true);
    show("loss bool", &v);
    let mut v = base();
    v["network"]["links"] = json!([{"between": ["n0","n1"], "bogus": 1}]);
    show("links unknown", &v);
    let mut v = base();
    v["duration_s"] = json!("ten");
    show("ten", &v);
    let mut v = base();
    v["network"]["latency"] = json!({"constant": {"ms": -1}});
    show("neg", &v);
    let mut v = base();
    v["network"]["latency"] = json!({"constant": {"ms": "x"}});
    show("neg str", &v);
    let mut v = base();
    v["cluster"]["nodes"] = json!("x");
    show("nodes str", &v);

    show("trunc", &Value::Null);
    let t = base().to_string();
    let r = parse(&t[..t.len() / 2], &no_files);
    println!("{:?}", r.err());
    let mut v = base();
    v["workload"]["mix"] = json!({"read": 0});
    show("mix0", &v);
    let mut v = base();
    v["network"]["latency_by_kind"] = json!({"bogus_kind": {"constant": {"ms": 1}}});
    show("kind", &v);
    let mut v = base();
    v["expect"]["x"] = json!({});
    show("expect", &v);
    let mut v = base();
    v["faults"] = json!([{"at_s": 1}]);
    show("noaction", &v);
    let mut v = base();
    v["network"]["latency"] = json!({"mixture": []});
    show("mixture", &v);
    let mut v = base();
    v["network"]["latency"] = json!({"empirical": {"points": [[1, 0.5],[0.5, 0.9]]}});
    show("emp", &v);
    let mut v = base();
    v["cluster"]["nodes"] = json!(600_000_000u64);
    let t = std::time::Instant::now();
    v["cluster"]["nodes"] = json!(5_000_000u64);
    show("bignodes", &v);
    println!("{:?}", t.elapsed());
}
