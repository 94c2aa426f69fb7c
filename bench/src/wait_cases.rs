//! How blocking receives wait: the same request/reply exchange measured three ways
//! (wall time on a quiet box, process CPU time burned, wall time with one CPU-bound thread per
//! core competing), and a producer thread feeding a blocking mailbox consumer. conflux (its
//! default, adaptive wait) against nexus-notify and crossbeam-channel, kanal and crossfire,
//! and flume for the mailbox.
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
//! The runner's `--conflux-wait park|spin20|spinonly` runs conflux's round trips (these and the
//! plain one in `channel_cases.rs`, which share one body) with that fixed
//! [`conflux::WaitStrategy`] instead of the adaptive default (`Park`, `Spin(20 us)` — the
//! fixed spin conflux had before, `SpinOnly`), to compare strategies on a host.
//!
//! The mailbox case is `mailbox_cases`' producer -> blocking consumer workload (capacity 1024,
//! the channels' producers in their blocking send), repeated here so that `--filter wait`
//! shows all four. Here conflux's message is refused while `ready` is full
//! (`ConfluxRefusing`): its `enqueue` producer retries (spinning, yielding every 64 tries)
//! until `ready` has room, and the row measures the hand-off and the wait; conflux's
//! `send_blocking` (which waits for room and never calls the policy) runs beside it. The
//! mailbox row keeps `Spill`, whose `enqueue` producer is never refused and spills instead.
//! Other work on the box shows in every row: quote ranges over runs and the load.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use crate::channel_cases::{lost_wakeups_note, round_trippers, RoundTrips};
use crate::harness::{Case, Contender};
use crate::host::process_cpu_time;
use crate::mailbox_cases::{
    producer_to_waiting_consumer, ConfluxRefusing, ConfluxSendBlocking, Crossbeam, Crossfire,
    Flume, Kanal,
};

/// Batches are never shorter than this many round trips (see `Contender::min_iterations`).
const MIN_ROUND_TRIPS: u64 = 256;

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
fn metered(name: &'static str, meter: Meter, mut run: RoundTrips) -> Contender {
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

fn round_trip_case(
    name: &str,
    unit: &'static str,
    meter: Meter,
    strategy: conflux::WaitStrategy,
) -> Case {
    let lost = Arc::new(AtomicU64::new(0));
    let contenders = round_trippers(strategy, &lost)
        .into_iter()
        .map(|(contender, run)| metered(contender, meter, run))
        .collect();
    Case::new(name, unit, contenders).with_note(lost_wakeups_note(name, lost))
}

/// `strategy`: how conflux's receivers wait in the round trips (the adaptive default unless
/// `--conflux-wait`).
pub fn cases(strategy: conflux::WaitStrategy) -> Vec<Case> {
    vec![
        round_trip_case(
            "wait: blocking round trip, quiet, wall",
            "round trip",
            Meter::Wall,
            strategy,
        ),
        round_trip_case(
            "wait: blocking round trip, quiet, CPU time (all threads)",
            "round trip (CPU ns)",
            Meter::Cpu,
            strategy,
        ),
        Case::new(
            "wait: 1 producer thread -> blocking mailbox consumer",
            "message",
            vec![
                producer_to_waiting_consumer::<ConfluxRefusing>(),
                producer_to_waiting_consumer::<ConfluxSendBlocking>(),
                producer_to_waiting_consumer::<Crossbeam>(),
                producer_to_waiting_consumer::<Flume>(),
                producer_to_waiting_consumer::<Kanal>(),
                producer_to_waiting_consumer::<Crossfire>(),
            ],
        ),
        // Last in every round: right after its CPU-bound threads stop, the scheduler often
        // puts the next case's new producer thread on its consumer's CPU (for that case's
        // whole batch, whatever pause follows), and a case that starts threads would then
        // measure that placement instead of its own workload (the mailbox row went from
        // 17-19 to 26-45 ns when it ran next). What follows it is the next round's
        // single-thread notify cases.
        round_trip_case(
            "wait: blocking round trip, 1 CPU-bound thread per core, wall",
            "round trip",
            Meter::Loaded,
            strategy,
        )
        .last_in_round(),
    ]
}
