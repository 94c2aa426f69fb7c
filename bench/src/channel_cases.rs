//! Blocking round trips: a ping thread and an echo thread over two channels, each waiting in
//! its receive. conflux's `event_channel` against nexus-notify's, with crossbeam-channel's
//! bounded channel (send/recv of a unit) as the reference every Rust programmer knows.
//!
//! **Why it is fair.** Every contender does the same exchange: the main thread notifies (sends)
//! on channel 1 and blocks in its receive on channel 2; the echo thread blocks on channel 1 and
//! answers on channel 2. Each contender uses its own library's ordinary blocking receive
//! (whatever spin-then-park strategy the library chose is exactly what is being compared), one
//! token / one unit message per hop, and the same thread spawn and join per batch (amortised
//! over a ~15 ms batch). The echo thread of conflux and crossbeam stops on disconnection; the
//! nexus-notify one stops after the known count (its receive does not report disconnection).
//!
//! nexus-notify 1.1's blocking receive can lose a wake-up (seen here: both threads parked for
//! good), so its receives go through `recv_timeout` with a 5 ms guard; every time the guard
//! fires is counted and reported, since each one costs that round trip 5 ms. On a loaded box
//! the guard also fires when the other thread is simply not scheduled for 5 ms, so the count
//! is an upper bound on lost wake-ups.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use crate::harness::{Case, Contender};

/// Times nexus-notify's 5 ms receive guard fired during this run (lost wake-ups, or threads
/// descheduled that long on a loaded box).
/// Batches are never shorter than this many round trips (see `Contender::min_iterations`).
const MIN_ROUND_TRIPS: u64 = 256;

pub static NEXUS_LOST_WAKEUPS: AtomicU64 = AtomicU64::new(0);

/// A contender that runs `round_trips(iterations)` per batch.
fn round_trip(name: &'static str, round_trips: fn(u64)) -> Contender {
    Contender::new(name, move |iterations| {
        round_trips(iterations);
        iterations
    })
    .min_iterations(MIN_ROUND_TRIPS)
}

/// One batch of conflux round trips; `CONFLUX_WAIT=park|spin20|spinonly` picks a fixed
/// [`conflux::WaitStrategy`] instead of the adaptive default (strategy comparisons).
pub(crate) fn conflux_round_trips(iterations: u64) {
    use conflux::notify::{event_channel, Events, Token};
    let (ping, ping_rx) = event_channel(1);
    let (pong, mut pong_rx) = event_channel(1);
    let strategy = match std::env::var("CONFLUX_WAIT").as_deref() {
        Ok("park") => conflux::WaitStrategy::Park,
        Ok("spin20") => conflux::WaitStrategy::Spin(Duration::from_micros(20)),
        Ok("spinonly") => conflux::WaitStrategy::SpinOnly,
        _ => conflux::WaitStrategy::Adaptive,
    };
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
pub(crate) fn nexus_round_trips(iterations: u64) {
    use nexus_notify::{event_channel, Events, Token};
    let (ping, ping_rx) = event_channel(1);
    let (pong, pong_rx) = event_channel(1);
    let echo = thread::spawn(move || {
        let mut events = Events::with_capacity(1);
        for _ in 0..iterations {
            nexus_recv(&ping_rx, &mut events);
            pong.notify(Token::new(0)).unwrap();
        }
    });
    let mut events = Events::with_capacity(1);
    for _ in 0..iterations {
        ping.notify(Token::new(0)).unwrap();
        nexus_recv(&pong_rx, &mut events);
        black_box(events.len());
    }
    echo.join().unwrap();
}

/// One batch of crossbeam-channel round trips.
pub(crate) fn crossbeam_round_trips(iterations: u64) {
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

pub(crate) fn nexus_recv(receiver: &nexus_notify::Receiver, events: &mut nexus_notify::Events) {
    while !receiver.recv_timeout(events, Duration::from_millis(5)) {
        NEXUS_LOST_WAKEUPS.fetch_add(1, Ordering::Relaxed);
    }
}

pub fn cases() -> Vec<Case> {
    vec![Case {
        name: "blocking round trip over two channels".to_string(),
        unit: "round trip",
        contenders: vec![
            round_trip("conflux", conflux_round_trips),
            round_trip("nexus-notify", nexus_round_trips),
            round_trip("crossbeam-channel", crossbeam_round_trips),
        ],
    }]
}
