//! How blocking receives wait (issue 10): the same request/reply exchange measured three ways
//! (wall time on a quiet box, process CPU time burned, wall time with one CPU-bound thread per
//! core competing), and a producer thread feeding a blocking mailbox consumer. conflux (its
//! default, adaptive wait) against nexus-notify and crossbeam-channel, and flume for the
//! mailbox.
//!
//! **Why it is fair.** The round trip is the one in `channel_cases.rs` (a ping thread and an
//! echo thread, one token / one unit message per hop, each library's ordinary blocking
//! receive, the same spawn and join per batch), run here under three meters:
//!
//! * **wall**: ns of wall time per round trip, nothing else running in this process;
//! * **CPU**: ns of process CPU time (`clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`, every thread
//!   of the process, user + system) per round trip: spinning shows up here, parking does not;
//! * **loaded**: wall ns per round trip while `available_parallelism()` threads of this process
//!   burn CPU (started before the timed part, stopped after it), so there are more runnable
//!   threads than cores and a waiter that spins holds a core its partner needs.
//!
//! `CONFLUX_WAIT=park|spin20|spinonly` runs conflux's round trips (these and the plain one in
//! `channel_cases.rs`, which share one body) with that fixed
//! [`conflux::WaitStrategy`] instead of the adaptive default (`Park`, `Spin(20 us)` — the
//! fixed spin conflux had before, `SpinOnly`), to compare strategies on a host.
//!
//! The mailbox case is `mailbox_cases`' producer -> blocking consumer workload (capacity 1024,
//! the producer retries when full), repeated here so that `--filter wait` shows all four. Here
//! conflux's message is refused while `ready` is full (`ConfluxRefusing`), so its producer
//! retries exactly as the channels' do, and the row measures the hand-off and the wait; the
//! mailbox row keeps `Spill`, whose producer is never refused and spills instead.
//! Other work on the box shows in every row: quote ranges over runs and the load.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::channel_cases::{conflux_round_trips, crossbeam_round_trips, nexus_round_trips};
use crate::harness::{Case, Contender};
use crate::mailbox_cases::{producer_to_waiting_consumer, ConfluxRefusing, Crossbeam, Flume};

/// Batches are never shorter than this many round trips (see `Contender::min_iterations`).
const MIN_ROUND_TRIPS: u64 = 256;

/// The process's CPU time so far, every thread, user + system.
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[derive(Clone, Copy)]
enum Meter {
    Wall,
    Cpu,
    Loaded,
}

/// CPU-bound threads, one per core, until dropped.
struct Competitors {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Competitors {
    fn start() -> Competitors {
        let stop = Arc::new(AtomicBool::new(false));
        let cores = thread::available_parallelism().map_or(2, |n| n.get());
        let threads = (0..cores)
            .map(|_| {
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    let mut x = 1u64;
                    // Relaxed: a stop flag; nothing is published through it.
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..1000 {
                            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                        }
                    }
                })
            })
            .collect();
        Competitors { stop, threads }
    }
}

impl Drop for Competitors {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            thread.join().unwrap();
        }
    }
}

/// Wraps a batch of round trips (`run(iterations)`) in the meter.
fn metered(name: &'static str, meter: Meter, run: fn(u64)) -> Contender {
    Contender::timed(name, move |iterations| {
        let took = match meter {
            Meter::Wall => {
                let start = Instant::now();
                run(iterations);
                start.elapsed()
            }
            Meter::Cpu => {
                let start = process_cpu_time();
                run(iterations);
                process_cpu_time().saturating_sub(start)
            }
            Meter::Loaded => {
                let competitors = Competitors::start();
                let start = Instant::now();
                run(iterations);
                let took = start.elapsed();
                drop(competitors);
                took
            }
        };
        (iterations, took)
    })
    .min_iterations(MIN_ROUND_TRIPS)
}

fn round_trip_case(name: &str, unit: &'static str, meter: Meter) -> Case {
    Case {
        name: name.to_string(),
        unit,
        contenders: vec![
            metered("conflux", meter, conflux_round_trips),
            metered("nexus-notify", meter, nexus_round_trips),
            metered("crossbeam-channel", meter, crossbeam_round_trips),
        ],
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        round_trip_case(
            "wait: blocking round trip, quiet, wall",
            "round trip",
            Meter::Wall,
        ),
        round_trip_case(
            "wait: blocking round trip, quiet, CPU time (all threads)",
            "round trip (CPU ns)",
            Meter::Cpu,
        ),
        Case {
            name: "wait: 1 producer thread -> blocking mailbox consumer".to_string(),
            unit: "message",
            contenders: vec![
                producer_to_waiting_consumer::<ConfluxRefusing>(),
                producer_to_waiting_consumer::<Crossbeam>(),
                producer_to_waiting_consumer::<Flume>(),
            ],
        },
    ]
}

/// The round trip with one CPU-bound thread per core. The runner runs it last in each round:
/// right after its CPU-bound threads stop, the scheduler often puts the next case's new
/// producer thread on its consumer's CPU (for that case's whole batch, whatever pause follows),
/// and a case that starts threads would then measure that placement instead of its own
/// workload (BENCHMARKS.md, "Waiting": the mailbox row went 17-19 -> 26-45 ns when it ran
/// next). What follows it is the next round's single-thread notify cases.
pub fn loaded_case() -> Case {
    round_trip_case(
        "wait: blocking round trip, 1 CPU-bound thread per core, wall",
        "round trip",
        Meter::Loaded,
    )
}
