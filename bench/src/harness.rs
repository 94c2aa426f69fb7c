//! The measuring harness: interleaved rounds, medians, ratios, the table.
//!
//! **What it measures.** A [`Case`] is a name, a unit and a list of [`Contender`]s (conflux
//! first); a contender is a name and a closure that runs one batch of `iterations` and returns
//! the operations done (and, for [`Contender::timed`], the time of the measured part). Each
//! batch yields one sample, ns per operation. Nothing here knows what a case does, so a new
//! family of cases (`mailbox_cases.rs`) plugs in by returning `Vec<Case>`.
//!
//! **Why it is fair.** A machine shared with other work drifts (frequency, neighbours, caches):
//! two contenders measured one after the other see different machines. So every round runs one
//! batch of every contender of every case, in an order that rotates from round to round (no
//! contender always runs first, or always right after the same neighbour), and the numbers
//! quoted are medians over rounds, which shrug off the rounds a neighbour stole. Each contender
//! is warmed up (caches, branch predictors, lazily allocated buffers) while its batch size is
//! calibrated, so that every batch of every contender takes about the same wall time and no one
//! is measured over a luckier stretch than another.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One contender in a case: runs `iterations` of the workload and returns how many operations
/// that was (the unit of the case: tokens, notifies, polls, round trips...) and how long the
/// measured part took.
pub struct Contender {
    pub name: &'static str,
    run: Box<dyn FnMut(u64) -> (u64, Duration)>,
    iterations: u64,
    min_iterations: u64,
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
            min_iterations: 1,
            samples: Vec::new(),
        }
    }

    /// Never runs a batch of fewer than `n` iterations (calibration starts there). For
    /// cross-thread cases: on a loaded box one scheduling hiccup can make a tiny batch look
    /// long enough, and a batch of a handful of operations measures the scheduler.
    pub fn min_iterations(mut self, n: u64) -> Contender {
        self.min_iterations = n.max(1);
        self.iterations = self.min_iterations;
        self
    }

    fn batch(&mut self) -> f64 {
        let (ops, took) = (self.run)(self.iterations);
        took.as_nanos() as f64 / ops.max(1) as f64
    }

    /// Grows the iteration count until one batch takes about `target`, and warms caches.
    ///
    /// A batch may carry a fixed cost (spawning and joining a thread, which on a loaded box
    /// can take milliseconds): doubling stops only once the batch is long enough *and* doubling
    /// the iterations visibly lengthened it (the per-iteration work, not the fixed cost,
    /// dominates), so a slow spawn cannot leave a batch of a handful of operations.
    fn calibrate(&mut self, target: Duration) {
        let mut previous = Duration::ZERO;
        loop {
            let (_, took) = (self.run)(self.iterations);
            let long_enough = took >= target / 2;
            let work_dominates = took.as_secs_f64() >= 1.6 * previous.as_secs_f64();
            if (long_enough && work_dominates) || took >= target * 8 || self.iterations >= 1 << 40 {
                let scale = target.as_secs_f64() / took.as_secs_f64().max(1e-9);
                self.iterations =
                    ((self.iterations as f64 * scale) as u64).max(self.min_iterations);
                return;
            }
            previous = took;
            self.iterations *= 2;
        }
    }

    /// The median sample (the mean of the two middle ones for an even count).
    pub fn median(&self) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let n = sorted.len();
        if n == 0 {
            f64::NAN
        } else if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        }
    }

    /// The spread of the samples: interquartile range / median, to tell a stable number from a
    /// noisy one (the rounds a neighbour stole fall outside the quartiles).
    pub fn spread(&self) -> f64 {
        let mut sorted = self.samples.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let n = sorted.len();
        if n == 0 {
            return f64::NAN;
        }
        (sorted[(3 * n) / 4] - sorted[n / 4]) / self.median()
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

/// The results as a Markdown table: per case, each contender's median ns per operation, each
/// peer with conflux's ratio to it in parentheses, and conflux's ratio to the best peer
/// (below 1.00: conflux is faster).
pub fn table(cases: &[Case]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| case | unit | conflux | peers: median ns/op (conflux / peer) | conflux / best peer | IQR/median |"
    );
    let _ = writeln!(out, "|---|---|---:|---|---:|---:|");
    for case in cases {
        let ours = case.contenders[0].median();
        let peers: Vec<(&str, f64)> = case.contenders[1..]
            .iter()
            .map(|c| (c.name, c.median()))
            .collect();
        let best = peers.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let listed: Vec<String> = peers
            .iter()
            .map(|(name, ns)| format!("{name} {} ({:.2})", fmt_ns(*ns), ours / ns))
            .collect();
        let ratio = if best.is_finite() {
            format!("{:.2}", ours / best)
        } else {
            "-".to_string()
        };
        // The noisiest contender's interquartile range over its median.
        let spread = case
            .contenders
            .iter()
            .map(Contender::spread)
            .fold(0.0, f64::max);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.0}% |",
            case.name,
            case.unit,
            fmt_ns(ours),
            listed.join(", "),
            ratio,
            spread * 100.0
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
