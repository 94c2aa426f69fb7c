//! The measuring harness: interleaved rounds, medians, ratios, verdicts, the table.
//!
//! **What it measures.** A [`Case`] is a name, a unit and a list of [`Contender`]s (conflux
//! first); a contender is a name and a closure that runs one batch of `iterations` and returns
//! the operations done (and, for [`Contender::timed`], the time of the measured part). Each
//! batch yields one sample, ns per operation. Nothing here knows what a case does, so a new
//! family of cases (`mailbox_cases.rs`) plugs in by returning `Vec<Case>`. What a case reports
//! beyond its timings (extra table rows, notes) and how it must be scheduled travel with it,
//! set by builder methods ([`Case::with_rows`], [`Case::with_note`], [`Case::last_in_round`]).
//!
//! **Why it is fair.** A machine shared with other work drifts (frequency, neighbours, caches):
//! two contenders measured one after the other see different machines. So every round runs one
//! batch of every contender of every case, in an order that rotates from round to round (no
//! contender always runs first, or always right after the same neighbour), and the numbers
//! quoted are medians over rounds, which shrug off the rounds a neighbour stole. Each contender
//! is warmed up (caches, branch predictors, lazily allocated buffers) while its batch size is
//! calibrated, so that every batch of every contender takes about the same wall time and no one
//! is measured over a luckier stretch than another.
//!
//! **When it will not say.** The spread of a contender is its interquartile range over its
//! median. A case gets a verdict (conflux faster, slower, or at parity with its best peer) only
//! when that comparison stands out of the spread; otherwise it is marked noisy (see
//! [`Case::comparison`] for the rule).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::host::Watch;

/// A spread (IQR / median) above this, with overlapping quartiles, makes a case noisy.
pub const WIDE_SPREAD: f64 = 0.25;
/// Medians within this of each other are at parity.
const PARITY: f64 = 0.05;
/// Medians further apart than this, with overlapping quartiles, make a case noisy.
const OVERLAP_LIMIT: f64 = 0.10;

/// One contender in a case: runs `iterations` of the workload and returns how many operations
/// that was (the unit of the case: tokens, notifies, polls, round trips...) and how long the
/// measured part took.
pub struct Contender {
    pub name: &'static str,
    run: Box<dyn FnMut(u64) -> (u64, Duration)>,
    iterations: u64,
    min_iterations: u64,
    samples: Vec<f64>,
    /// The case's extras when this is its first contender (see [`Case`]).
    extras: Extras,
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
            extras: Extras::default(),
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

    /// Grows the iteration count until one batch takes about `target`, and warms caches;
    /// returns how long a batch of the chosen size should take (more than `target` when the
    /// minimum iterations take longer).
    ///
    /// A batch may carry a fixed cost (spawning and joining a thread, which on a loaded box
    /// can take milliseconds): doubling stops only once the batch is long enough *and* doubling
    /// the iterations visibly lengthened it (the per-iteration work, not the fixed cost,
    /// dominates), so a slow spawn cannot leave a batch of a handful of operations.
    fn calibrate(&mut self, target: Duration) -> Duration {
        let mut previous = Duration::ZERO;
        loop {
            let (_, took) = (self.run)(self.iterations);
            let long_enough = took >= target / 2;
            let work_dominates = took.as_secs_f64() >= 1.6 * previous.as_secs_f64();
            if (long_enough && work_dominates) || took >= target * 8 || self.iterations >= 1 << 40 {
                let measured = self.iterations;
                let scale = target.as_secs_f64() / took.as_secs_f64().max(1e-9);
                self.iterations =
                    ((self.iterations as f64 * scale) as u64).max(self.min_iterations);
                return took.mul_f64(self.iterations as f64 / measured as f64);
            }
            previous = took;
            self.iterations *= 2;
        }
    }

    /// The first quartile, the median and the third quartile of the samples.
    pub fn quartiles(&self) -> (f64, f64, f64) {
        let mut sorted = self.samples.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let n = sorted.len();
        if n == 0 {
            return (f64::NAN, f64::NAN, f64::NAN);
        }
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        (sorted[n / 4], median, sorted[(3 * n) / 4])
    }

    /// The median sample (the mean of the two middle ones for an even count).
    pub fn median(&self) -> f64 {
        self.quartiles().1
    }

    /// The spread of the samples: interquartile range / median, to tell a stable number from a
    /// noisy one (the rounds a neighbour stole fall outside the quartiles).
    pub fn spread(&self) -> f64 {
        let (q1, median, q3) = self.quartiles();
        (q3 - q1) / median
    }
}

/// What a case carries besides its contenders.
#[derive(Default)]
struct Extras {
    rows: Vec<Box<dyn Fn() -> String>>,
    notes: Vec<Box<dyn Fn() -> Option<String>>>,
    last_in_round: bool,
}

/// A workload and everyone who runs it. The first contender is conflux.
///
/// Build one with [`Case::new`] or as a struct literal; the builder methods add what the case
/// reports beyond its timings. (They keep it on the first contender, so that a struct literal
/// of the three public fields stays a complete `Case`.)
pub struct Case {
    pub name: String,
    pub unit: &'static str,
    pub contenders: Vec<Contender>,
}

/// How conflux compares with the best peer of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// conflux's interquartile range lies below the best peer's, medians over 5 % apart.
    Faster,
    /// conflux's interquartile range lies above the best peer's, medians over 5 % apart.
    Slower,
    /// Medians within 5 %, or overlapping quartiles with moderate spread and medians within
    /// 10 %.
    Parity,
    /// The spread is too wide to tell: no verdict.
    Noisy,
    /// No peer to compare with.
    Alone,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::Parity => "parity",
            Verdict::Noisy => "NOISY: no verdict",
            Verdict::Alone => "-",
        }
    }
}

/// conflux against the best (lowest-median) peer of a case.
pub struct Comparison {
    /// conflux's median over the best peer's (below 1: conflux is faster).
    pub ratio: f64,
    /// The wider spread of the two.
    pub spread: f64,
    pub verdict: Verdict,
}

impl Case {
    /// A case of `contenders`, conflux first.
    pub fn new(name: impl Into<String>, unit: &'static str, contenders: Vec<Contender>) -> Case {
        Case {
            name: name.into(),
            unit,
            contenders,
        }
    }

    fn extras(&self) -> Option<&Extras> {
        self.contenders.first().map(|c| &c.extras)
    }

    fn extras_mut(&mut self) -> &mut Extras {
        &mut self
            .contenders
            .first_mut()
            .expect("a case has at least one contender")
            .extras
    }

    /// Adds Markdown table rows that `rows` computes after the run (counters the contenders
    /// kept, say), printed after the timing table.
    pub fn with_rows(mut self, rows: impl Fn() -> String + 'static) -> Case {
        self.extras_mut().rows.push(Box::new(rows));
        self
    }

    /// Adds a note that `note` computes after the run (`None`: nothing worth saying), printed
    /// under the table.
    pub fn with_note(mut self, note: impl Fn() -> Option<String> + 'static) -> Case {
        self.extras_mut().notes.push(Box::new(note));
        self
    }

    /// Runs this case after every case that is not, in each round: for a case that leaves
    /// the machine disturbed for whatever runs next (CPU-bound threads just stopped).
    pub fn last_in_round(mut self) -> Case {
        self.extras_mut().last_in_round = true;
        self
    }

    fn is_last_in_round(&self) -> bool {
        self.extras().is_some_and(|e| e.last_in_round)
    }

    /// The extra rows this case adds to the report.
    pub fn rows(&self) -> String {
        self.extras()
            .map(|e| e.rows.iter().map(|rows| rows()).collect())
            .unwrap_or_default()
    }

    /// The notes this case adds under the table.
    pub fn notes(&self) -> Vec<String> {
        self.extras()
            .map(|e| e.notes.iter().filter_map(|note| note()).collect())
            .unwrap_or_default()
    }

    /// The best (lowest-median) peer, if any: among the other libraries' contenders when the
    /// case has any, so that a second conflux contender (another API of conflux's) is shown
    /// but not what conflux is judged against; among the other conflux contenders otherwise.
    pub fn best_peer(&self) -> Option<&Contender> {
        let others = self.contenders.get(1..)?;
        let foreign = |c: &&Contender| !c.name.starts_with("conflux");
        let pool: Vec<&Contender> = if others.iter().any(|c| foreign(&c)) {
            others.iter().filter(foreign).collect()
        } else {
            others.iter().collect()
        };
        pool.into_iter()
            .min_by(|a, b| a.median().total_cmp(&b.median()))
    }

    /// conflux against its best peer. The case is **noisy** (no verdict) when their
    /// interquartile ranges overlap while the wider spread of the two exceeds [`WIDE_SPREAD`]
    /// or the medians are over 10 % apart: the difference is then within the noise. Otherwise
    /// conflux is **faster** or **slower** when its interquartile range lies wholly below or
    /// above the peer's and the medians are over 5 % apart (the middle halves of the two
    /// distributions do not meet, however wide each is), and at **parity** when they are not.
    pub fn comparison(&self) -> Comparison {
        let ours = &self.contenders[0];
        let Some(peer) = self.best_peer() else {
            return Comparison {
                ratio: f64::NAN,
                spread: ours.spread(),
                verdict: Verdict::Alone,
            };
        };
        let (a1, a, a3) = ours.quartiles();
        let (b1, b, b3) = peer.quartiles();
        let ratio = a / b;
        let spread = ours.spread().max(peer.spread());
        let overlap = a1 <= b3 && b1 <= a3;
        let apart = (ratio - 1.0).abs();
        let verdict =
            if spread.is_nan() || (overlap && (spread > WIDE_SPREAD || apart > OVERLAP_LIMIT)) {
                Verdict::Noisy
            } else if apart <= PARITY || overlap {
                Verdict::Parity
            } else if ratio < 1.0 {
                Verdict::Faster
            } else {
                Verdict::Slower
            };
        Comparison {
            ratio,
            spread,
            verdict,
        }
    }
}

pub struct Settings {
    pub rounds: usize,
    pub batch: Duration,
}

/// Wall times of a run.
pub struct Timing {
    pub warm_up: Duration,
    pub rounds: Duration,
}

/// A duration as a person plans with it: "0.4 s", "12 s", "2 min 05 s".
pub fn human(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 10.0 {
        format!("{secs:.1} s")
    } else if secs < 120.0 {
        format!("{secs:.0} s")
    } else {
        let whole = secs.round() as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

/// Runs every case's contenders round-robin, `rounds` times, printing progress (with an
/// estimate of the time left) on stderr and marking each round in `watch`.
pub fn run(cases: &mut [Case], settings: &Settings, watch: &mut Watch) -> Timing {
    let total = cases.len();
    let contenders: usize = cases.iter().map(|c| c.contenders.len()).sum();
    eprintln!(
        "{total} cases, {contenders} contenders: a warm-up, then {} rounds",
        settings.rounds
    );
    // The cases that must not be followed by another run after all the others, in the
    // warm-up as in every round.
    let order: Vec<usize> = (0..total)
        .filter(|&i| !cases[i].is_last_in_round())
        .chain((0..total).filter(|&i| cases[i].is_last_in_round()))
        .collect();
    let started = Instant::now();
    // What the calibrated batches should add up to: the first round's estimate (the later
    // ones come from the rounds measured so far).
    let mut round_guess = Duration::ZERO;
    for (done, &i) in order.iter().enumerate() {
        let case = &mut cases[i];
        eprint!(
            "\rwarming up {:>2}/{total} ({}): {:<60.60}",
            done + 1,
            human(started.elapsed()),
            case.name
        );
        for contender in &mut case.contenders {
            round_guess += contender.calibrate(settings.batch);
        }
    }
    let warm_up = started.elapsed();
    eprintln!(
        "\rwarm-up done in {}; {} rounds of about {} each: about {} to go{:<30}",
        human(warm_up),
        settings.rounds,
        human(round_guess),
        human(round_guess.mul_f64(settings.rounds as f64)),
        ""
    );
    watch.restart();
    let started = Instant::now();
    for round in 0..settings.rounds {
        let elapsed = started.elapsed();
        let left = if round == 0 {
            round_guess.mul_f64(settings.rounds as f64)
        } else {
            elapsed.mul_f64((settings.rounds - round) as f64 / round as f64)
        };
        eprint!(
            "\rround {:>3}/{}: {} so far, about {} left      ",
            round + 1,
            settings.rounds,
            human(elapsed),
            human(left)
        );
        for &i in &order {
            let case = &mut cases[i];
            let n = case.contenders.len();
            for k in 0..n {
                let contender = &mut case.contenders[(k + round) % n];
                let sample = contender.batch();
                contender.samples.push(sample);
            }
        }
        watch.mark();
    }
    let rounds = started.elapsed();
    eprintln!(
        "\rdone: {} rounds in {} (warm-up {}){:<30}",
        settings.rounds,
        human(rounds),
        human(warm_up),
        ""
    );
    Timing { warm_up, rounds }
}

/// The results as a Markdown table: per case, each contender's median ns per operation, each
/// peer with conflux's ratio to it in parentheses, conflux's ratio to the best peer (below
/// 1.00: conflux is faster), the verdict, and the spread the verdict rests on. On a `busy`
/// box every verdict says so.
pub fn table(cases: &[Case], busy: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| case | unit | conflux | peers: median ns/op (conflux / peer) | conflux / best peer | verdict | IQR/median |"
    );
    let _ = writeln!(out, "|---|---|---:|---|---:|---|---:|");
    for case in cases {
        let ours = case.contenders[0].median();
        let listed: Vec<String> = case.contenders[1..]
            .iter()
            .map(|c| {
                format!(
                    "{} {} ({:.2})",
                    c.name,
                    fmt_ns(c.median()),
                    ours / c.median()
                )
            })
            .collect();
        let comparison = case.comparison();
        let ratio = if comparison.ratio.is_finite() {
            format!("{:.2}", comparison.ratio)
        } else {
            "-".to_string()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {:.0}% |",
            case.name,
            case.unit,
            fmt_ns(ours),
            listed.join(", "),
            ratio,
            match comparison.verdict {
                Verdict::Faster | Verdict::Slower | Verdict::Parity if busy => {
                    format!("{} (busy box)", comparison.verdict.label())
                }
                verdict => verdict.label().to_string(),
            },
            comparison.spread * 100.0
        );
    }
    out
}

/// A median for the table and the chart: two decimals below 100 ns, whole numbers above.
pub fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 {
        format!("{ns:.0}")
    } else {
        format!("{ns:.2}")
    }
}
