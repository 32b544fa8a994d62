//! Interleaved A/B timing of simdpool against one peer, for ratios too close to call from two
//! separate criterion runs (cases at the memory limit, where both libraries read the input at the
//! machine's bandwidth and the machine's load moves both by more than their difference).
//!
//! `cargo run --release --manifest-path benches/peers/Cargo.toml --example interleaved -- CASE
//! LAYOUT PEER [ROUNDS]`, e.g. `-- gap_large nchw candle 400`.
//!
//! Each round times a batch of simdpool calls and a batch of peer calls back to back (alternating
//! which goes first), a batch being about a millisecond of work; the ratio of the two batch times
//! is one sample. Both read same-sized inputs from the same allocator, so neither has an alignment
//! advantage. Printed: the median ratio (peer time / simdpool time: above 1, simdpool is faster),
//! its quartiles, and the share of rounds simdpool won.

use simdpool::Isa;
use simdpool_bench::suite::{LAYOUTS, Suite, layout_name};
use simdpool_bench::{Threads, Workload};
use simdpool_peers::prepare;
use std::time::Instant;

fn batch(k: usize, f: &mut dyn FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..k {
        f();
    }
    t.elapsed().as_secs_f64() / k as f64
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [case_name, layout_arg, peer, rest @ ..] = args.as_slice() else {
        return Err("usage: interleaved CASE nchw|nhwc PEER [ROUNDS]".into());
    };
    let rounds: usize = match rest.first() {
        Some(r) => r.parse().map_err(|e| format!("ROUNDS: {e}"))?,
        None => 300,
    };
    let suite = Suite::embedded();
    let case = suite.cases.iter().find(|c| &c.name == case_name).ok_or(format!("no case {case_name}"))?;
    let layout = *LAYOUTS
        .iter()
        .find(|l| layout_name(**l) == layout_arg.as_str())
        .ok_or(format!("layout is nchw or nhwc, not {layout_arg}"))?;
    let mut w = Workload::new(case, layout)?;
    w.run_reference();
    w.prepare(Isa::detected(), Threads::One).map_err(|e| e.to_string())?;
    w.run();
    w.verify()?;
    let mut run = prepare(peer, &w)?;
    let got = (run.output)()?;
    w.check_against_reference::<f32>(&got)?;

    let mut ours = || w.run();
    let theirs = &mut run.run;
    // Warm up, and size a batch to about a millisecond.
    let once = batch(20, &mut ours).max(1e-7);
    batch(20, theirs);
    let k = ((1e-3 / once) as usize).clamp(1, 100_000);
    let mut ratios = Vec::with_capacity(rounds);
    let (mut t_ours, mut t_theirs) = (Vec::new(), Vec::new());
    for r in 0..rounds {
        let (a, b) = if r % 2 == 0 {
            let a = batch(k, &mut ours);
            (a, batch(k, theirs))
        } else {
            let b = batch(k, theirs);
            (batch(k, &mut ours), b)
        };
        ratios.push(b / a);
        t_ours.push(a);
        t_theirs.push(b);
    }
    let q = |v: &mut Vec<f64>, f: f64| {
        v.sort_by(f64::total_cmp);
        v[((v.len() - 1) as f64 * f).round() as usize]
    };
    let won = ratios.iter().filter(|&&r| r > 1.0).count();
    println!(
        "{case_name}/{layout_arg}: {rounds} rounds of {k} calls at {}; simdpool median {:.2} us, {peer} median {:.2} us",
        Isa::detected(),
        q(&mut t_ours, 0.5) * 1e6,
        q(&mut t_theirs, 0.5) * 1e6
    );
    println!(
        "{peer} / simdpool: median {:.3}x (quartiles {:.3} .. {:.3}); simdpool faster in {won} of {rounds} rounds",
        q(&mut ratios, 0.5),
        q(&mut ratios, 0.25),
        q(&mut ratios, 0.75)
    );
    Ok(())
}
