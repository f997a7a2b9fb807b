use std::sync::Arc;
fn main() {
    let path = std::env::args().nth(1).expect("file");
    let text = std::fs::read_to_string(&path).expect("read");
    let sc = match sim_core::scenario::parse(&text, &sim_core::scenario::no_files) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2)
        }
    };
    let sim = sim_core::sim::Simulation::new(Arc::new(sc));
    let mut sink: Vec<(sim_core::time::SimTime, sim_core::record::Record)> = Vec::new();
    let t0 = std::time::Instant::now();
    let out = sim.run(&mut sink, None);
    println!(
        "{:?} hash={:016x} events={} wall={:?}",
        out.stop,
        out.trace_hash,
        out.stats.events,
        t0.elapsed()
    );
    let mut ok = 0;
    let mut fail = 0;
    let mut sib = [0u64; 5];
    for (_, r) in &sink {
        if let sim_core::record::Record::OpCompleted {
            result,
            values,
            kind,
            ..
        } = r
        {
            if result.is_ok() {
                ok += 1
            } else {
                fail += 1
            };
            if *kind == sim_core::record::OpKind::Get && result.is_ok() {
                sib[values.len().min(4)] += 1;
            }
        }
    }
    println!(
        "ok={ok} fail={fail} siblings={sib:?} records={}",
        sink.len()
    );
    println!("{:?}", out.stats);
}
