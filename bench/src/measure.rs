//! The measuring harness: interleaved rounds, medians, ratios, the table.
//!
//! A machine shared with other work drifts (frequency, neighbours, caches): two contenders
//! measured one after the other see different machines. So every round runs one batch of every
//! contender of every case, in an order that rotates from round to round, and the numbers
//! quoted are medians over rounds. Each batch is sized during warm-up to take about the same
//! wall time, so no contender is measured over a luckier stretch than another.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One contender in a case: runs `iterations` of the workload and returns how many operations
/// that was (the unit of the case: tokens, notifies, polls, round trips...) and how long the
/// measured part took.
pub struct Contender {
    pub name: &'static str,
    run: Box<dyn FnMut(u64) -> (u64, Duration)>,
    iterations: u64,
    samples: Vec<f64>,
}

impl Contender {
    /// A contender whose whole batch is measured.
    pub fn new(name: &'static str, mut run: impl FnMut(u64) -> u64 + 'static) -> Contender {
        Contender::timed(name, move |iterations| {
            let start = Instant::now();
            let ops = run(iterations);
            (ops, start.elapsed())
        })
    }

    /// A contender that times only part of its batch itself (set-up and clean-up excluded),
    /// e.g. "sends into an empty queue", which must drain the queue between iterations.
    pub fn timed(
        name: &'static str,
        run: impl FnMut(u64) -> (u64, Duration) + 'static,
    ) -> Contender {
        Contender {
            name,
            run: Box::new(run),
            iterations: 1,
            samples: Vec::new(),
        }
    }

    fn batch(&mut self) -> f64 {
        let (ops, took) = (self.run)(self.iterations);
        took.as_nanos() as f64 / ops.max(1) as f64
    }

    /// Grows the iteration count until one batch takes about `target`, and warms caches.
    fn calibrate(&mut self, target: Duration) {
        loop {
            let (_, took) = (self.run)(self.iterations);
            if took >= target / 2 || self.iterations >= 1 << 40 {
                let scale = target.as_secs_f64() / took.as_secs_f64().max(1e-9);
                self.iterations = ((self.iterations as f64 * scale) as u64).max(1);
                return;
            }
            self.iterations *= 2;
        }
    }

    pub fn median(&self) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        sorted[sorted.len() / 2]
    }
}

/// A workload and everyone who runs it. The first contender is conflux.
pub struct Case {
    pub name: String,
    pub unit: &'static str,
    pub contenders: Vec<Contender>,
}

pub struct Settings {
    pub rounds: usize,
    pub batch: Duration,
}

/// Runs every case's contenders round-robin, `rounds` times, printing progress on stderr.
pub fn run(cases: &mut [Case], settings: &Settings) {
    let total = cases.len();
    for (i, case) in cases.iter_mut().enumerate() {
        eprint!("\rwarming up {:>2}/{total}: {:<48}", i + 1, case.name);
        for contender in &mut case.contenders {
            contender.calibrate(settings.batch);
        }
    }
    eprintln!();
    let started = Instant::now();
    for round in 0..settings.rounds {
        eprint!(
            "\rround {:>3}/{} ({:.0?} so far)          ",
            round + 1,
            settings.rounds,
            started.elapsed()
        );
        for case in cases.iter_mut() {
            let n = case.contenders.len();
            for k in 0..n {
                let contender = &mut case.contenders[(k + round) % n];
                let sample = contender.batch();
                contender.samples.push(sample);
            }
        }
    }
    eprintln!(
        "\rdone: {} rounds in {:.1?}                ",
        settings.rounds,
        started.elapsed()
    );
}

/// The results as a Markdown table: per case, each contender's median ns per operation, and
/// conflux's ratio to the best peer (below 1.00: conflux is faster).
pub fn table(cases: &[Case]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| case | unit | conflux | peers (median ns/op) | conflux / best peer |"
    );
    let _ = writeln!(out, "|---|---|---:|---|---:|");
    for case in cases {
        let ours = case.contenders[0].median();
        let peers: Vec<(&str, f64)> = case.contenders[1..]
            .iter()
            .map(|c| (c.name, c.median()))
            .collect();
        let best = peers.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let listed: Vec<String> = peers
            .iter()
            .map(|(name, ns)| format!("{name} {}", fmt_ns(*ns)))
            .collect();
        let ratio = if best.is_finite() {
            format!("{:.2}", ours / best)
        } else {
            "-".to_string()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            case.name,
            case.unit,
            fmt_ns(ours),
            listed.join(", "),
            ratio
        );
    }
    out
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 {
        format!("{ns:.0}")
    } else {
        format!("{ns:.2}")
    }
}
