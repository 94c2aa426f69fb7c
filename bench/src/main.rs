//! The comparison runner: conflux and its peers through the same workloads, interleaved in one
//! process, medians and ratios in one table.
//!
//! ```text
//! cargo run --release -p conflux-bench                  # the default run (well under a minute)
//! cargo run --release -p conflux-bench -- --quick       # a smoke run for CI (seconds)
//! cargo run --release -p conflux-bench -- --filter poll # only cases whose name has "poll"
//! cargo run --release -p conflux-bench -- --filter "quiet|mailbox consumer" # either text
//! cargo run --release -p conflux-bench -- --rounds 41   # more rounds, tighter medians
//! ```
//!
//! The table is printed and written to `target/conflux-bench/report.md`, with an SVG chart
//! (one bar group per case, conflux beside each peer) in `target/conflux-bench/chart.svg`.
//!
//! This file only parses the flags, gathers the cases of each family (`notify_cases`,
//! `channel_cases`, `mailbox_cases`, `wait_cases`, `wake_hook_cases`, `batch_cases`: each
//! returns `Vec<harness::Case>`), hands them to the harness, and measures memory exactly with a
//! counting global allocator (the heap bytes a 4096-token queue owns, the same accounting for
//! both crates). What makes the comparison fair is documented in `harness.rs` (interleaving,
//! warm-up, medians) and in each case file.

mod batch_cases;
mod channel_cases;
mod chart;
mod harness;
mod mailbox_cases;
mod notify_cases;
mod wake_hook_cases;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

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

struct Options {
    quick: bool,
    filter: Option<String>,
    rounds: Option<usize>,
}

fn parse_options() -> Options {
    let mut options = Options {
        quick: false,
        filter: None,
        rounds: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--filter" => options.filter = args.next(),
            "--rounds" => options.rounds = args.next().and_then(|r| r.parse().ok()),
            "--help" | "-h" => {
                println!("usage: conflux-bench [--quick] [--filter TEXT[|TEXT...]] [--rounds N]");
                std::process::exit(0);
            }
            other => {
                eprintln!("unknown argument {other:?}; try --help");
                std::process::exit(2);
            }
        }
    }
    options
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

fn main() {
    let options = parse_options();
    let settings = harness::Settings {
        rounds: options.rounds.unwrap_or(if options.quick { 3 } else { 21 }),
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
        .chain(channel_cases::cases())
        .chain(mailbox_cases::cases())
        .chain(wait_cases::cases())
        .chain(wake_hook_cases::cases())
        .chain(batch_cases::cases())
        .chain(notify_fanin_cases::cases())
        // Last in every round: see `wait_cases::loaded_case`.
        .chain([wait_cases::loaded_case()])
        .filter(|case| matches(&case.name))
        .collect();
    let with_memory = matches("memory at 4096 tokens");
    if cases.is_empty() && !with_memory {
        eprintln!("no case matches the filter");
        std::process::exit(2);
    }
    harness::run(&mut cases, &settings);

    let mut report = harness::table(&cases);
    if with_memory {
        report.push_str(&memory_table());
    }
    if wake_hook_cases::ran() {
        report.push_str(&wake_hook_cases::wake_table());
    }
    let lost = channel_cases::NEXUS_LOST_WAKEUPS.load(Ordering::Relaxed);
    let mut notes = format!(
        "\n{} rounds, batches of ~{:?}, medians over rounds; ratio below 1.00 means conflux is faster;\nIQR/median: the noisiest contender's interquartile range over its median.\n",
        settings.rounds, settings.batch
    );
    if lost > 0 {
        notes.push_str(&format!(
            "nexus-notify's 5 ms receive guard fired {lost} times in this run (a lost wake-up, or on a loaded box a thread descheduled for 5 ms; each costs its round trip 5 ms).\n"
        ));
    }
    println!("{report}{notes}");

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/conflux-bench");
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("report.md"), format!("{report}{notes}")))
        .and_then(|()| std::fs::write(dir.join("chart.svg"), chart::svg(&cases)));
    match written {
        Ok(()) => eprintln!(
            "report written to target/conflux-bench/report.md and target/conflux-bench/chart.svg"
        ),
        Err(err) => eprintln!("could not write the report: {err}"),
    }
}

// Issue 10's wait cases (kept at the end of the file: other branches edit the list above).
mod notify_fanin_cases;
mod wait_cases;
