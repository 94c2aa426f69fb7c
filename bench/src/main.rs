//! The comparison runner: conflux and its peers through the same workloads, interleaved in one
//! process, medians, ratios and verdicts in one table.
//!
//! ```text
//! cargo run --release -p conflux-bench                  # the default run (see --help for time)
//! cargo run --release -p conflux-bench -- --quick       # a smoke run for CI (seconds)
//! cargo run --release -p conflux-bench -- --filter poll # only cases whose name has "poll"
//! cargo run --release -p conflux-bench -- --filter "quiet|mailbox consumer" # either text
//! cargo run --release -p conflux-bench -- --rounds 41   # more rounds, tighter medians
//! ```
//!
//! The table is printed and written with an SVG chart (one bar group per case, conflux beside
//! each peer) under cargo's target directory, found from this binary's own path
//! (`<target>/release/conflux-bench` writes to `<target>/conflux-bench/`), so that
//! `CARGO_TARGET_DIR` and `--target-dir` are honoured; `--out DIR` writes elsewhere. A full run
//! writes `report.md` and `chart.svg`; `--quick` and `--filter` runs write their own files
//! (`report-quick.md`, `report-filtered.md`, `report-quick-filtered.md`), so they never
//! overwrite a full run's.
//!
//! This file only parses the flags, gathers the cases of each family (`notify_cases`,
//! `channel_cases`, `mailbox_cases`, `wait_cases`, `wake_hook_cases`, `batch_cases`: each
//! returns `Vec<harness::Case>`), hands them to the harness, watches the box (`host`), and
//! measures memory exactly with a counting global allocator (the heap bytes a 4096-token queue
//! owns, the same accounting for both crates). What makes the comparison fair is documented in
//! `harness.rs` (interleaving, warm-up, medians, verdicts) and in each case file.

mod batch_cases;
mod channel_cases;
mod chart;
mod harness;
mod host;
mod mailbox_cases;
mod mailbox_fanin_cases;
mod notify_cases;
mod notify_fanin_cases;
mod wait_cases;
mod wake_hook_cases;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

/// Counts live heap bytes, so memory per token is measured, not estimated.
struct CountingAllocator;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call forwards to the system allocator with the caller's arguments unchanged;
// the counter is a side effect that allocation does not depend on.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; `ptr` came from `alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Heap bytes that `make` leaves allocated (what its result owns).
fn heap_bytes_of<T>(make: impl FnOnce() -> T) -> (T, isize) {
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let value = make();
    (value, LIVE_BYTES.load(Ordering::Relaxed) - before)
}

fn memory_table() -> String {
    const TOKENS: usize = 4096;
    let (ours, ours_bytes) = heap_bytes_of(|| conflux::notify::event_queue(TOKENS));
    let (theirs, their_bytes) = heap_bytes_of(|| nexus_notify::event_queue(TOKENS));
    drop((ours, theirs));
    format!(
        "| memory at {TOKENS} tokens | bytes/token | {:.2} | nexus-notify {:.2} | {:.2} | exact |\n",
        ours_bytes as f64 / TOKENS as f64,
        their_bytes as f64 / TOKENS as f64,
        ours_bytes as f64 / their_bytes as f64
    )
}

const USAGE: &str = "usage: conflux-bench [--quick] [--filter TEXT[|TEXT...]] [--rounds N] [--out DIR] [--conflux-wait adaptive|park|spin20|spinonly]";

const HELP: &str = concat!(
    "  --quick               5 rounds of ~2 ms batches (CI smoke run; writes report-quick.md)\n",
    "  --filter TEXT|TEXT    only the cases whose name contains one of the texts\n",
    "                        (writes report-filtered.md)\n",
    "  --rounds N            rounds to run (default 21, 5 with --quick)\n",
    "  --out DIR             write the report and chart to DIR instead of\n",
    "                        <cargo target dir>/conflux-bench\n",
    "  --conflux-wait S      conflux's receivers in the round-trip cases wait with a fixed\n",
    "                        strategy: park, spin20 (spin 20 us, then park), spinonly, or\n",
    "                        adaptive (the default)",
);

struct Options {
    quick: bool,
    filter: Option<String>,
    rounds: Option<usize>,
    out: Option<PathBuf>,
    wait: conflux::WaitStrategy,
}

/// Exits with the usage line after a bad command line.
fn bad_usage(problem: &str) -> ! {
    eprintln!("conflux-bench: {problem}\n{USAGE}\n(--help for more)");
    std::process::exit(2);
}

fn parse_options() -> Options {
    let mut options = Options {
        quick: false,
        filter: None,
        rounds: None,
        out: None,
        wait: conflux::WaitStrategy::Adaptive,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| bad_usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--filter" => options.filter = Some(value()),
            "--rounds" => {
                let text = value();
                match text.parse::<usize>() {
                    Ok(n) if n > 0 => options.rounds = Some(n),
                    _ => bad_usage(&format!(
                        "--rounds takes a whole number above 0, not {text:?}"
                    )),
                }
            }
            "--out" => options.out = Some(PathBuf::from(value())),
            "--conflux-wait" => {
                let text = value();
                options.wait = match text.as_str() {
                    "adaptive" => conflux::WaitStrategy::Adaptive,
                    "park" => conflux::WaitStrategy::Park,
                    "spin20" => conflux::WaitStrategy::Spin(Duration::from_micros(20)),
                    "spinonly" => conflux::WaitStrategy::SpinOnly,
                    _ => bad_usage(&format!(
                        "--conflux-wait takes adaptive, park, spin20 or spinonly, not {text:?}"
                    )),
                };
            }
            "--help" | "-h" => {
                println!("{USAGE}\n\n{HELP}");
                std::process::exit(0);
            }
            other => bad_usage(&format!("unknown argument {other:?}")),
        }
    }
    options
}

/// Where the report goes: `--out`, or `conflux-bench/` in the cargo target directory this
/// binary was built into (`<target>/<profile>/conflux-bench`, or
/// `<target>/<triple>/<profile>/conflux-bench` when cross-compiling: the directory above the
/// profile's), or `./conflux-bench-report` when the binary's path says nothing.
fn out_dir(options: &Options) -> PathBuf {
    if let Some(dir) = &options.out {
        return dir.clone();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let profile_dir = exe.parent()?;
            let target = profile_dir.parent()?;
            Some(target.join("conflux-bench"))
        })
        .unwrap_or_else(|| PathBuf::from("conflux-bench-report"))
}

/// Writes the report and the chart; returns their absolute paths.
fn write_files(dir: &Path, stem: &str, report: &str, chart: &str) -> std::io::Result<[PathBuf; 2]> {
    std::fs::create_dir_all(dir)?;
    let dir = std::fs::canonicalize(dir)?;
    let report_path = dir.join(format!("report{stem}.md"));
    let chart_path = dir.join(format!("chart{stem}.svg"));
    std::fs::write(&report_path, report)?;
    std::fs::write(&chart_path, chart)?;
    Ok([report_path, chart_path])
}

fn main() {
    let options = parse_options();
    // crossfire's documented start-up call: it tunes the spin of its waits to the machine (a
    // single-CPU or virtual machine spins less).
    crossfire::detect_backoff_cfg();
    let settings = harness::Settings {
        rounds: options.rounds.unwrap_or(if options.quick { 5 } else { 21 }),
        batch: if options.quick {
            Duration::from_millis(2)
        } else {
            Duration::from_millis(15)
        },
    };
    let matches = |name: &str| {
        options
            .filter
            .as_ref()
            .is_none_or(|f| f.split('|').any(|part| name.contains(part)))
    };
    let mut cases: Vec<harness::Case> = notify_cases::cases()
        .into_iter()
        .chain(channel_cases::cases(options.wait))
        .chain(mailbox_cases::cases())
        .chain(wait_cases::cases(options.wait))
        .chain(wake_hook_cases::cases())
        .chain(batch_cases::cases())
        .chain(mailbox_fanin_cases::cases())
        .chain(notify_fanin_cases::cases())
        .filter(|case| matches(&case.name))
        .collect();
    let with_memory = matches("memory at 4096 tokens");
    if cases.is_empty() && !with_memory {
        bad_usage("no case matches the filter");
    }

    let host = host::describe();
    eprintln!("host: {host}");
    let started = Instant::now();
    let mut watch = host::Watch::start(Duration::from_millis(300));
    let (before, busy_before) = watch.before();
    eprintln!("{before}");
    if busy_before {
        eprintln!("the box is busy before the run: expect noisy rows");
    }
    let timing = harness::run(&mut cases, &settings, &mut watch);
    let (during, busy_during) = watch.during();

    let busy = busy_before || busy_during;
    let mut report = harness::table(&cases, busy);
    if with_memory {
        report.push_str(&memory_table());
    }
    for case in &cases {
        report.push_str(&case.rows());
    }
    let mut notes = format!(
        "\n{} rounds, batches of ~{:?}, medians over rounds; ratio below 1.00 means conflux is faster.\n\
         IQR/median: the wider interquartile range over median of conflux and its best peer.\n\
         verdict: faster/slower when conflux's interquartile range lies wholly below/above the best peer's (medians over 5 % apart), parity otherwise;\n\
         NOISY (no verdict) when the two interquartile ranges overlap and either spreads over {:.0} % or the medians differ by over 10 %.\n",
        settings.rounds,
        settings.batch,
        harness::WIDE_SPREAD * 100.0,
    );
    #[cfg(not(feature = "commonware"))]
    notes.push_str(
        "built without the `commonware` feature: commonware-actor's mailbox, the seed peer of conflux::mailbox, is left out.\n",
    );
    for case in &cases {
        for note in case.notes() {
            notes.push_str(&note);
            notes.push('\n');
        }
    }
    let noisy = cases
        .iter()
        .filter(|c| c.comparison().verdict == harness::Verdict::Noisy)
        .count();
    notes.push_str(&format!(
        "\nhost: {host}; {noisy} of {} cases noisy; warm-up {}, rounds {}, whole run {}.\n{before}\n{during}\n",
        cases.len(),
        harness::human(timing.warm_up),
        harness::human(timing.rounds),
        harness::human(started.elapsed()),
    ));
    if busy {
        notes.push_str(&host::busy_warning());
        notes.push('\n');
    }
    println!("{report}{notes}");

    let (stem, kind) = match (options.quick, options.filter.is_some()) {
        (false, false) => ("", "full run"),
        (true, false) => ("-quick", "--quick run"),
        (false, true) => ("-filtered", "filtered run"),
        (true, true) => ("-quick-filtered", "filtered --quick run"),
    };
    let subtitle = format!(
        "{kind}, {} rounds; {host}; {noisy} of {} cases noisy{}",
        settings.rounds,
        cases.len(),
        if busy {
            "; the box was BUSY: verdicts are this run's only"
        } else {
            ""
        }
    );
    let dir = out_dir(&options);
    match write_files(
        &dir,
        stem,
        &format!("{report}{notes}"),
        &chart::svg(&cases, &subtitle, busy),
    ) {
        Ok([report_path, chart_path]) => eprintln!(
            "report: {}\nchart:  {}",
            report_path.display(),
            chart_path.display()
        ),
        Err(err) => {
            eprintln!("could not write the report to {}: {err}", dir.display());
            std::process::exit(1);
        }
    }
    if busy {
        eprintln!("{}", host::busy_warning());
    }
}
