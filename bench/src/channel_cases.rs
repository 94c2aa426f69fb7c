//! Blocking round trips: a ping thread and an echo thread over two channels, each waiting in
//! its receive. conflux's `event_channel` against nexus-notify's, with the bounded channels
//! people reach for (crossbeam-channel, kanal, crossfire: send/recv of a unit, capacity 1) as
//! the references.
//!
//! **Why it is fair.** Every contender does the same exchange: the main thread notifies (sends)
//! on channel 1 and blocks in its receive on channel 2; the echo thread blocks on channel 1 and
//! answers on channel 2. Each contender uses its own library's ordinary blocking receive
//! (whatever spin-then-park strategy the library chose is exactly what is being compared), one
//! token / one unit message per hop, and the same thread spawn and join per batch (amortised
//! over a ~15 ms batch). The echo thread of conflux and the channels stops on disconnection;
//! the nexus-notify one stops after the known count (its receive does not report
//! disconnection).
//!
//! nexus-notify 1.1's blocking receive can lose a wake-up (seen here: both threads parked for
//! good), so its receives go through `recv_timeout` with a 5 ms guard; every time the guard
//! fires is counted and reported in a note of the case, since each one costs that round trip
//! 5 ms. On a loaded box the guard also fires when the other thread is simply not scheduled
//! for 5 ms, so the count is an upper bound on lost wake-ups.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::harness::{Case, Contender};

/// Batches are never shorter than this many round trips (see `Contender::min_iterations`).
const MIN_ROUND_TRIPS: u64 = 256;

/// A batch of round trips: runs `iterations` of them.
pub(crate) type RoundTrips = Box<dyn FnMut(u64)>;

/// The round-trip contenders every round-trip case runs, conflux first, each a name and a
/// batch; nexus-notify's lost wake-ups go to `lost`.
pub(crate) fn round_trippers(
    strategy: conflux::WaitStrategy,
    lost: &Arc<AtomicU64>,
) -> Vec<(&'static str, RoundTrips)> {
    let lost = Arc::clone(lost);
    vec![
        (
            "conflux",
            Box::new(move |n| conflux_round_trips(n, strategy)),
        ),
        (
            "nexus-notify",
            Box::new(move |n| nexus_round_trips(n, &lost)),
        ),
        ("crossbeam-channel", Box::new(crossbeam_round_trips)),
        ("kanal", Box::new(kanal_round_trips)),
        ("crossfire", Box::new(crossfire_round_trips)),
    ]
}

/// The note a round-trip case adds when nexus-notify's guard fired.
pub(crate) fn lost_wakeups_note(case: &str, lost: Arc<AtomicU64>) -> impl Fn() -> Option<String> {
    let case = case.to_string();
    move || {
        let fired = lost.load(Ordering::Relaxed);
        (fired > 0).then(|| {
            format!(
                "{case}: nexus-notify's 5 ms receive guard fired {fired} times (a lost wake-up, or on a loaded box a thread descheduled for 5 ms; each costs its round trip 5 ms)."
            )
        })
    }
}

/// One batch of conflux round trips, both receivers waiting with `strategy`.
fn conflux_round_trips(iterations: u64, strategy: conflux::WaitStrategy) {
    use conflux::notify::{event_channel, Events, Token};
    let (ping, ping_rx) = event_channel(1);
    let (pong, mut pong_rx) = event_channel(1);
    pong_rx.set_wait_strategy(strategy);
    let echo = thread::spawn(move || {
        let mut ping_rx = ping_rx;
        ping_rx.set_wait_strategy(strategy);
        let mut events = Events::with_capacity(1);
        while ping_rx.recv(&mut events).is_ok() {
            pong.notify(Token::new(0)).unwrap();
        }
    });
    let mut events = Events::with_capacity(1);
    for _ in 0..iterations {
        ping.notify(Token::new(0)).unwrap();
        pong_rx.recv(&mut events).unwrap();
        black_box(events.len());
    }
    drop(ping);
    echo.join().unwrap();
}

/// One batch of nexus-notify round trips.
fn nexus_round_trips(iterations: u64, lost: &Arc<AtomicU64>) {
    use nexus_notify::{event_channel, Events, Token};
    let (ping, ping_rx) = event_channel(1);
    let (pong, pong_rx) = event_channel(1);
    let echo_lost = Arc::clone(lost);
    let echo = thread::spawn(move || {
        let mut events = Events::with_capacity(1);
        for _ in 0..iterations {
            nexus_recv(&ping_rx, &mut events, &echo_lost);
            pong.notify(Token::new(0)).unwrap();
        }
    });
    let mut events = Events::with_capacity(1);
    for _ in 0..iterations {
        ping.notify(Token::new(0)).unwrap();
        nexus_recv(&pong_rx, &mut events, lost);
        black_box(events.len());
    }
    echo.join().unwrap();
}

fn nexus_recv(
    receiver: &nexus_notify::Receiver,
    events: &mut nexus_notify::Events,
    lost: &AtomicU64,
) {
    while !receiver.recv_timeout(events, Duration::from_millis(5)) {
        // Relaxed: a statistic read after the threads are joined.
        lost.fetch_add(1, Ordering::Relaxed);
    }
}

/// One batch of crossbeam-channel round trips.
fn crossbeam_round_trips(iterations: u64) {
    let (ping, ping_rx) = crossbeam_channel::bounded::<()>(1);
    let (pong, pong_rx) = crossbeam_channel::bounded::<()>(1);
    let echo = thread::spawn(move || {
        while ping_rx.recv().is_ok() {
            pong.send(()).unwrap();
        }
    });
    for _ in 0..iterations {
        ping.send(()).unwrap();
        pong_rx.recv().unwrap();
    }
    drop(ping);
    echo.join().unwrap();
}

/// One batch of kanal round trips.
fn kanal_round_trips(iterations: u64) {
    let (ping, ping_rx) = kanal::bounded::<()>(1);
    let (pong, pong_rx) = kanal::bounded::<()>(1);
    let echo = thread::spawn(move || {
        while ping_rx.recv().is_ok() {
            pong.send(()).unwrap();
        }
    });
    for _ in 0..iterations {
        ping.send(()).unwrap();
        pong_rx.recv().unwrap();
    }
    drop(ping);
    echo.join().unwrap();
}

/// One batch of crossfire round trips (its multi-producer channel, as for the mailboxes).
fn crossfire_round_trips(iterations: u64) {
    let (ping, ping_rx) = crossfire::mpsc::bounded_blocking::<()>(1);
    let (pong, pong_rx) = crossfire::mpsc::bounded_blocking::<()>(1);
    let echo = thread::spawn(move || {
        while ping_rx.recv().is_ok() {
            pong.send(()).unwrap();
        }
    });
    for _ in 0..iterations {
        ping.send(()).unwrap();
        pong_rx.recv().unwrap();
    }
    drop(ping);
    echo.join().unwrap();
}

/// `strategy`: how conflux's receivers wait (the adaptive default unless `--conflux-wait`).
pub fn cases(strategy: conflux::WaitStrategy) -> Vec<Case> {
    let lost = Arc::new(AtomicU64::new(0));
    let contenders = round_trippers(strategy, &lost)
        .into_iter()
        .map(|(name, mut run)| {
            Contender::new(name, move |iterations| {
                run(iterations);
                iterations
            })
            .min_iterations(MIN_ROUND_TRIPS)
        })
        .collect();
    let name = "blocking round trip over two channels";
    vec![Case::new(name, "round trip", contenders).with_note(lost_wakeups_note(name, lost))]
}
