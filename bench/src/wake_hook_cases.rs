//! Waking an event loop that sleeps in `mio::Poll`: conflux's wake hook
//! (`event_queue_with_waker` + `Poller::arm`) against the naive way, a plain `event_queue`
//! and `mio::Waker::wake()` after every notify.
//!
//! **The workload.** One producer thread makes `iterations` notifies, cycling over 4096
//! tokens, then drops its notifier. The loop (this thread) drains the queue and, when it finds
//! it empty, sleeps in `mio::Poll::poll` until the `mio::Waker` fires; it ends once the
//! producer is gone and the queue is empty. The wall time of the whole exchange (thread spawn
//! and join included, the same for both) is divided by the notifies made: ns per notify, the
//! producer-side rate, which is what a wake system call on every notify slows down.
//!
//! * **hook**: the loop calls `arm()` before it sleeps (sleeping only on `true`); the hook is
//!   `waker.wake()`. A notify calls it only for the first token after an arm.
//! * **naive**: the producer calls `waker.wake()` after every notify; the loop sleeps
//!   whenever it finds the queue empty.
//!
//! Both count every `mio::Waker::wake` call (one `eventfd` write, a system call, on Linux),
//! the end-of-batch one included, and the loop's sleeps; the case's extra rows
//! ([`wake_table`]) report them per 100 000 notifies next to the timing table. The same `mio::Poll`, the same queue code and
//! the same loop shape serve both; only who decides to wake differs.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use conflux::notify::{event_queue, event_queue_with_waker, Events, Notifier, Poller, Token};
use mio::{Poll, Waker};

use crate::harness::{Case, Contender};

const CAPACITY: usize = 4096;
const WAKE: mio::Token = mio::Token(0);

/// Totals over every batch a contender ran (calibration included): notifies, wake calls,
/// and the loop's sleeps in `mio::Poll`. Relaxed throughout: statistics, read after the
/// batches' threads are joined.
#[derive(Default)]
struct Counts {
    notifies: AtomicU64,
    wakes: AtomicU64,
    sleeps: AtomicU64,
}

/// Which way the loop is woken.
#[derive(Clone, Copy)]
enum Way {
    Hook,
    Naive,
}

fn contender(way: Way, counts: Arc<Counts>) -> Contender {
    let name = match way {
        Way::Hook => "conflux hook",
        Way::Naive => "wake per notify",
    };
    let mut poll = Poll::new().expect("mio::Poll");
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).expect("mio::Waker"));
    let mut mio_events = mio::Events::with_capacity(8);
    Contender::new(name, move |iterations| {
        let wakes = Arc::new(AtomicU64::new(0));
        let (notifier, poller) = match way {
            Way::Hook => {
                let (waker, wakes) = (Arc::clone(&waker), Arc::clone(&wakes));
                event_queue_with_waker(CAPACITY, move || {
                    wakes.fetch_add(1, Ordering::Relaxed);
                    waker.wake().expect("mio::Waker::wake");
                })
            }
            Way::Naive => event_queue(CAPACITY),
        };
        let producer = {
            let (waker, wakes) = (Arc::clone(&waker), Arc::clone(&wakes));
            thread::spawn(move || produce(way, notifier, iterations, &waker, &wakes))
        };
        let sleeps = run_loop(way, &poller, &mut poll, &mut mio_events);
        producer.join().unwrap();
        counts.notifies.fetch_add(iterations, Ordering::Relaxed);
        counts
            .wakes
            .fetch_add(wakes.load(Ordering::Relaxed), Ordering::Relaxed);
        counts.sleeps.fetch_add(sleeps, Ordering::Relaxed);
        iterations
    })
    .min_iterations(1 << 16)
}

fn produce(way: Way, notifier: Notifier, iterations: u64, waker: &Waker, wakes: &AtomicU64) {
    for i in 0..iterations as usize {
        notifier
            .notify(Token::new(black_box(i % CAPACITY)))
            .unwrap();
        if let Way::Naive = way {
            wakes.fetch_add(1, Ordering::Relaxed);
            waker.wake().expect("mio::Waker::wake");
        }
    }
    // The end: the hook's queue wakes an armed loop when the last notifier goes; the naive
    // loop needs one more wake to see it.
    drop(notifier);
    if let Way::Naive = way {
        wakes.fetch_add(1, Ordering::Relaxed);
        waker.wake().expect("mio::Waker::wake");
    }
}

/// Drains the queue, sleeping in `poll` when it is empty, until the producer is gone and the
/// queue is empty; returns how many times it slept.
fn run_loop(way: Way, poller: &Poller, poll: &mut Poll, mio_events: &mut mio::Events) -> u64 {
    let mut events = Events::with_capacity(CAPACITY);
    let mut sleeps = 0;
    loop {
        poller.poll(&mut events);
        if !events.is_empty() {
            black_box(events.iter().map(Token::index).sum::<usize>());
            continue;
        }
        let sleep = match way {
            // Sleep only when armed with nothing pending; a disconnection seen after the arm
            // is final (everything was notified before it), so one more poll ends the batch.
            Way::Hook => poller.arm() && !poller.is_disconnected(),
            Way::Naive => !poller.is_disconnected(),
        };
        if sleep {
            sleeps += 1;
            poll.poll(mio_events, None).expect("mio::Poll::poll");
        } else if poller.is_disconnected() {
            poller.poll(&mut events);
            if events.is_empty() {
                return sleeps;
            }
        }
    }
}

/// The wake system calls and sleeps of each way, per 100 000 notifies, as Markdown rows.
fn wake_table(hook: &Counts, naive: &Counts) -> String {
    let per_100k = |counts: &Counts, of: &AtomicU64| {
        of.load(Ordering::Relaxed) as f64 * 100_000.0
            / counts.notifies.load(Ordering::Relaxed).max(1) as f64
    };
    let hook_wakes = per_100k(hook, &hook.wakes);
    let naive_wakes = per_100k(naive, &naive.wakes);
    format!(
        "| wake system calls per 100 000 notifies | conflux hook {:.1} | wake per notify {:.1} | {:.4} |\n\
         | loop sleeps in mio::Poll per 100 000 notifies | conflux hook {:.1} | wake per notify {:.1} | - |\n",
        hook_wakes,
        naive_wakes,
        hook_wakes / naive_wakes.max(f64::MIN_POSITIVE),
        per_100k(hook, &hook.sleeps),
        per_100k(naive, &naive.sleeps),
    )
}

pub fn cases() -> Vec<Case> {
    let hook = Arc::new(Counts::default());
    let naive = Arc::new(Counts::default());
    let contenders = vec![
        contender(Way::Hook, Arc::clone(&hook)),
        contender(Way::Naive, Arc::clone(&naive)),
    ];
    vec![Case::new(
        "1 producer -> loop sleeping in mio::Poll (wake hook), per notify",
        "notify",
        contenders,
    )
    .with_rows(move || wake_table(&hook, &naive))]
}
