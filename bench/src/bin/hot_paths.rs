//! A fixed, single-threaded walk over the library's hot paths, for instruction counts:
//!
//! ```text
//! cargo build --release -p conflux-bench --bin hot_paths
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/hot_paths mailbox
//! ```
//!
//! callgrind counts instructions, not seconds, so the same binary and input give the same
//! total on a busy box as on a quiet one: a change that adds work to a hot path shows up as a
//! different total, whatever the machine is doing. Each path runs a fixed number of times;
//! the totals include the program's start-up (the same for every build).

use std::hint::black_box;
use std::num::NonZeroUsize;

use conflux::mailbox::{self, policies::Spill};
use conflux::notify::{event_channel, event_queue, Events, Token};

const ROUNDS: usize = 200;

/// Enqueue into an empty `ready` until full, then receive everything (the fast paths).
fn mailbox() {
    let (sender, mut receiver) = mailbox::new::<Spill<u64>>(NonZeroUsize::new(1024).unwrap());
    for _ in 0..ROUNDS {
        for i in 0..1024 {
            let _ = black_box(sender.enqueue(Spill(i)));
        }
        for _ in 0..1024 {
            black_box(receiver.try_recv().ok());
        }
    }
}

/// As `mailbox`, through `try_send` and the blocking receive's first attempt.
fn mailbox_send() {
    let (sender, mut receiver) = mailbox::new::<Spill<u64>>(NonZeroUsize::new(1024).unwrap());
    for _ in 0..ROUNDS {
        for i in 0..1024 {
            let _ = black_box(sender.try_send(Spill(i)));
        }
        for _ in 0..1024 {
            black_box(receiver.recv_blocking());
        }
    }
}

/// 1024 enqueues into a `ready` of 64 (960 spill into overflow), then receive everything.
fn mailbox_spill() {
    let (sender, mut receiver) = mailbox::new::<Spill<u64>>(NonZeroUsize::new(64).unwrap());
    for _ in 0..ROUNDS {
        for i in 0..1024 {
            let _ = black_box(sender.enqueue(Spill(i)));
        }
        for _ in 0..1024 {
            black_box(receiver.try_recv().ok());
        }
    }
}

/// Notify 4096 new tokens, then poll them all.
fn notify() {
    let (notifier, poller) = event_queue(4096);
    let mut events = Events::with_capacity(4096);
    for _ in 0..ROUNDS {
        for i in 0..4096 {
            let _ = black_box(notifier.notify(Token::new(i)));
        }
        poller.poll(&mut events);
        black_box(events.len());
    }
}

/// As `notify`, through the event channel's blocking receive (its first attempt).
fn notify_channel() {
    let (sender, receiver) = event_channel(4096);
    let mut events = Events::with_capacity(4096);
    for _ in 0..ROUNDS {
        for i in 0..4096 {
            let _ = black_box(sender.notify(Token::new(i)));
        }
        let _ = black_box(receiver.recv(&mut events));
    }
}

fn main() {
    let paths: [(&str, fn()); 5] = [
        ("mailbox", mailbox),
        ("mailbox_send", mailbox_send),
        ("mailbox_spill", mailbox_spill),
        ("notify", notify),
        ("notify_channel", notify_channel),
    ];
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let mut ran = 0;
    for (name, path) in paths {
        if wanted.is_empty() || wanted.iter().any(|w| w == name) {
            path();
            ran += 1;
        }
    }
    if ran == 0 {
        let names: Vec<&str> = paths.iter().map(|(name, _)| *name).collect();
        eprintln!("usage: hot_paths [{}]...", names.join("|"));
        std::process::exit(2);
    }
}
