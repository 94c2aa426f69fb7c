//! Long runs that carry the queues' positions across their wrap points, above all on 32-bit
//! targets, where the tail word has only 29 position bits: 2^30 operations wrap them twice.
//!
//! Ignored by default (minutes, not seconds); CI runs them on `i686-unknown-linux-musl` in
//! release mode:
//!
//! ```sh
//! cargo test --release --target i686-unknown-linux-musl --test position_wrap -- --ignored --nocapture
//! ```
//!
//! Every operation is checked (each message comes back, in order; each poll delivers exactly
//! the tokens notified, in order), and each run is guarded by a watchdog: if the operation
//! counter stops moving for `CONFLUX_WRAP_STALL_SECS` (30 s by default), it prints a message
//! naming the operation the run is stuck in and ends the test process with a failure, instead
//! of hanging CI. (It exits rather than failing just that test because a stuck thread cannot
//! be stopped: it would spin on a core for the rest of the run.) `CONFLUX_WRAP_OPS` overrides
//! the operation count (default 2^30) for a quick local run.
#![cfg(not(loom))]

use std::io::Write;
use std::num::NonZeroUsize;
use std::panic;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use conflux::mailbox::{self, policies::Spill, Feedback};
use conflux::notify::{event_queue, Events, Token};

/// Operations per run: 2^30 unless `CONFLUX_WRAP_OPS` says otherwise.
fn ops() -> u64 {
    std::env::var("CONFLUX_WRAP_OPS")
        .ok()
        .map(|v| v.parse().expect("CONFLUX_WRAP_OPS: a number of operations"))
        .unwrap_or(1 << 30)
}

/// What the real runs do on a stall: say so on stderr (past the test harness's output
/// capture) and end the process with a failure, so the stuck thread stops spinning too.
fn exit_on_stall(message: String) -> ! {
    let _ = writeln!(std::io::stderr(), "\nposition_wrap: FAILED: {message}");
    std::process::exit(101)
}

fn stall_limit() -> Duration {
    let secs = std::env::var("CONFLUX_WRAP_STALL_SECS")
        .ok()
        .map(|v| {
            v.parse()
                .expect("CONFLUX_WRAP_STALL_SECS: a number of seconds")
        })
        .unwrap_or(30);
    Duration::from_secs(secs)
}

/// What the worker is doing, for the watchdog's message: the operation index times 2, plus
/// 0 while in the first step of that operation and 1 while in the second.
struct Progress(AtomicU64);

impl Progress {
    fn at(&self, op: u64, step: u64) {
        // Relaxed: only the watchdog reads it, to see whether it moves; nothing is published.
        self.0.store(op << 1 | step, Ordering::Relaxed);
    }
}

/// Runs `work` on its own thread and watches it from this one. If the progress counter does
/// not move for `stall`, `on_stall` gets a message naming the stuck operation (and must not
/// return); a panic in `work` is re-raised here.
fn watched(
    what: &str,
    steps: [&str; 2],
    stall: Duration,
    on_stall: fn(String) -> !,
    work: impl FnOnce(&Progress) + Send + 'static,
) {
    let progress = Arc::new(Progress(AtomicU64::new(0)));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let worker = {
        let progress = Arc::clone(&progress);
        thread::spawn(move || {
            work(&progress);
            drop(done_tx); // also dropped by unwinding: the watchdog then joins and re-raises
        })
    };
    let started = Instant::now();
    let (mut last, mut last_change) = (u64::MAX, Instant::now());
    loop {
        let tick = stall.min(Duration::from_secs(1));
        match done_rx.recv_timeout(tick) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(panic) = worker.join() {
                    panic::resume_unwind(panic);
                }
                println!("{what}: done in {:.1} s", started.elapsed().as_secs_f64());
                return;
            }
        }
        let now = progress.0.load(Ordering::Relaxed);
        if now != last {
            (last, last_change) = (now, Instant::now());
        } else if last_change.elapsed() >= stall {
            on_stall(format!(
                "{what}: no progress for {} s, stuck in {} of operation {} (0-based; \
                 {} operations completed) after {:.1} s: a hang, probably at a position wrap",
                stall.as_secs_f64(),
                steps[(now & 1) as usize],
                now >> 1,
                now >> 1,
                started.elapsed().as_secs_f64(),
            ));
        }
    }
}

/// A ready queue kept full (capacity - 1 messages waiting, then enqueue + try_recv), so every
/// enqueue fills the ring and every receive frees the oldest slot, across the wrap.
fn mailbox_run(capacity: usize) {
    let total = ops();
    watched(
        &format!("mailbox capacity {capacity}, {total} messages"),
        ["enqueue", "try_recv"],
        stall_limit(),
        exit_on_stall,
        move |progress| {
            let (sender, mut receiver) =
                mailbox::new::<Spill<u32>>(NonZeroUsize::new(capacity).unwrap());
            let backlog = capacity as u64 - 1;
            let value = |i: u64| i as u32; // wraps at 2^32 like any counter; order is still checked
            for i in 0..backlog {
                assert_eq!(sender.enqueue(Spill(value(i))), Feedback::Ok);
            }
            for i in backlog..total + backlog {
                let op = i - backlog;
                progress.at(op, 0);
                let answer = sender.enqueue(Spill(value(i)));
                if answer != Feedback::Ok {
                    panic!("message {op}: enqueue answered {answer:?} with room in ready");
                }
                progress.at(op, 1);
                match receiver.try_recv() {
                    Ok(Spill(v)) if v == value(op) => {}
                    other => panic!(
                        "message {op}: try_recv gave {other:?}, expected {}",
                        value(op)
                    ),
                }
            }
            assert_eq!(receiver.len(), backlog as usize);
            assert_eq!(sender.stats().backoff, 0);
        },
    );
}

/// All `capacity` tokens notified in a changing order each round (then a conflated repeat of
/// the first), then one poll that must deliver exactly that order. One operation = one token
/// made pending, so one ring position claimed.
fn notify_run(capacity: usize) {
    let total = ops();
    watched(
        &format!("notify capacity {capacity}, {total} notifies"),
        ["notify", "poll"],
        stall_limit(),
        exit_on_stall,
        move |progress| {
            let (notifier, poller) = event_queue(capacity);
            let mut events = Events::with_capacity(capacity);
            let mut expected = Vec::with_capacity(capacity);
            let mut op = 0u64;
            let mut round = 0usize;
            while op < total {
                expected.clear();
                // Each round a permutation of all tokens: rotated by the round, and reversed
                // every other lap of rotations.
                let start = round % capacity;
                let reverse = round / capacity % 2 == 1;
                for k in 0..capacity {
                    if op == total {
                        break;
                    }
                    let j = if reverse { capacity - 1 - k } else { k };
                    let token = Token::new((start + j) % capacity);
                    progress.at(op, 0);
                    notifier.notify(token).unwrap();
                    expected.push(token);
                    op += 1;
                }
                // Pending already: conflated, changes nothing.
                notifier.notify(expected[0]).unwrap();
                progress.at(op - 1, 1);
                poller.poll(&mut events);
                if events.as_slice() != expected.as_slice() {
                    panic!(
                        "round {round} (operation {op}): poll delivered {:?}, expected {expected:?}",
                        events.as_slice()
                    );
                }
                round += 1;
            }
            poller.poll(&mut events);
            assert!(events.is_empty(), "nothing pending after the last poll");
        },
    );
}

#[test]
#[ignore = "2^30 operations: run with --release --ignored (CI runs it on i686)"]
fn mailbox_capacity_1_survives_the_position_wrap() {
    mailbox_run(1);
}

#[test]
#[ignore = "2^30 operations: run with --release --ignored (CI runs it on i686)"]
fn mailbox_capacity_3_survives_the_position_wrap() {
    mailbox_run(3);
}

#[test]
#[ignore = "2^30 operations: run with --release --ignored (CI runs it on i686)"]
fn mailbox_capacity_64_survives_the_position_wrap() {
    mailbox_run(64);
}

#[test]
#[ignore = "2^30 operations: run with --release --ignored (CI runs it on i686)"]
fn notify_capacity_1_survives_the_position_wrap() {
    notify_run(1);
}

#[test]
#[ignore = "2^30 operations: run with --release --ignored (CI runs it on i686)"]
fn notify_capacity_2_survives_the_position_wrap() {
    notify_run(2);
}

#[test]
#[ignore = "2^30 operations: run with --release --ignored (CI runs it on i686)"]
fn notify_capacity_3_survives_the_position_wrap() {
    notify_run(3);
}

#[test]
#[ignore = "2^30 operations: run with --release --ignored (CI runs it on i686)"]
fn notify_capacity_4_survives_the_position_wrap() {
    notify_run(4);
}

/// The watchdog itself: a worker that stops making progress fails the run with a message
/// naming where it stopped, instead of hanging. Not ignored: it takes a fraction of a second.
#[test]
fn the_watchdog_turns_a_stall_into_a_failure_naming_the_operation() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let result = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        watched(
            "a stalling worker",
            ["enqueue", "try_recv"],
            Duration::from_millis(300),
            |message| panic!("{message}"),
            move |progress| {
                for op in 0..1000 {
                    progress.at(op, 0);
                }
                progress.at(1000, 1);
                let _ = release_rx.recv(); // "hangs" until the test releases it
            },
        )
    }));
    let _ = release_tx.send(());
    let message = result
        .expect_err("the watchdog must fail a stalled run")
        .downcast::<String>()
        .expect("a formatted message");
    assert!(
        message.starts_with("a stalling worker: no progress for 0.3 s, stuck in try_recv of operation 1000 (0-based; 1000 operations completed)"),
        "{message}"
    );

    // And a worker that finishes passes; one that panics re-raises its own panic.
    watched(
        "a quick worker",
        ["a", "b"],
        Duration::from_secs(5),
        exit_on_stall,
        |progress| progress.at(1, 0),
    );
    let result = panic::catch_unwind(|| {
        watched(
            "a failing worker",
            ["a", "b"],
            Duration::from_secs(5),
            exit_on_stall,
            |_| panic!("the worker's own failure"),
        )
    });
    let message = result.expect_err("re-raised").downcast::<&str>().unwrap();
    assert_eq!(*message, "the worker's own failure");
}
