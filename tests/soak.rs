//! Soak tests: long runs with every invariant checked, ignored by default.
//! Run with `bash scripts/soak.sh` (release build; prints what went through).
//!
//! * notify: 2 producers push 10^8 notifications (per-token, per-producer slots written with
//!   Relaxed stores first) with random pauses; a blocking receiver must never see a token
//!   twice in one delivery or a slot go backwards, and must end with every final value.
//! * mailbox: 2 producers push 10^7 counted messages through a capacity-64 mailbox that
//!   spills, with random pauses; every message arrives exactly once, in its sender's order,
//!   and is dropped exactly once.
#![cfg(not(loom))]

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use conflux::mailbox::{self, policies, Feedback, Policy};
use conflux::notify::{event_channel, Events, Token};

const PRODUCERS: usize = 2;

fn scale() -> u64 {
    // SOAK_SCALE=10 runs a tenth of the volume, for a quick check of the soak itself.
    let divisor: u64 = std::env::var("SOAK_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    divisor.max(1)
}

/// xorshift: cheap per-producer randomness for tokens and pauses.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Now and then (about once per `mask + 1` calls) pause for up to 200 us, so the
    /// consumer catches up and both the fast and the slow paths get their share.
    fn maybe_pause(&mut self, mask: u64) {
        if self.next() & mask == 0 {
            thread::sleep(Duration::from_micros(self.next() % 200));
        }
    }
}

#[test]
#[ignore = "soak: run with scripts/soak.sh"]
fn soak_notify_hundred_million() {
    const TOKENS: usize = 1024;
    let per_producer = 50_000_000 / scale();
    let slots: Arc<Vec<[AtomicU64; PRODUCERS]>> = Arc::new(
        (0..TOKENS)
            .map(|_| std::array::from_fn(|_| AtomicU64::new(0)))
            .collect(),
    );
    let (sender, receiver) = event_channel(TOKENS);
    let start = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            let (sender, slots) = (sender.clone(), Arc::clone(&slots));
            thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (id as u64 + 1));
                let mut finals = vec![0u64; TOKENS];
                for value in 1..=per_producer {
                    let token = rng.next() as usize % TOKENS;
                    slots[token][id].store(value, Ordering::Relaxed);
                    finals[token] = value;
                    sender.notify(Token::new(token)).unwrap();
                    rng.maybe_pause(0x1_ffff);
                }
                finals
            })
        })
        .collect();
    drop(sender);
    let mut events = Events::with_capacity(TOKENS);
    let mut seen = vec![[0u64; PRODUCERS]; TOKENS];
    let mut deliveries = 0u64;
    let mut budget = 1;
    while receiver.recv_limit(&mut events, budget).is_ok() {
        budget = budget % 97 + 1;
        let mut in_delivery = vec![false; TOKENS];
        for token in &events {
            let index = token.index();
            assert!(!in_delivery[index], "token {index} twice in one delivery");
            in_delivery[index] = true;
            for (producer, slot) in slots[index].iter().enumerate() {
                let value = slot.load(Ordering::Relaxed);
                assert!(value >= seen[index][producer], "slot went backwards");
                seen[index][producer] = value;
            }
        }
        deliveries += events.len() as u64;
    }
    for (id, producer) in producers.into_iter().enumerate() {
        for (token, last) in producer.join().unwrap().into_iter().enumerate() {
            assert_eq!(
                seen[token][id], last,
                "token {token}: a final value was lost"
            );
        }
    }
    let total = per_producer * PRODUCERS as u64;
    println!(
        "soak notify: {total} notifications, {deliveries} deliveries ({:.1}x conflation) in {:.1?}, all invariants held",
        total as f64 / deliveries as f64,
        start.elapsed()
    );
}

struct Counted {
    sender: u32,
    sequence: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

impl Policy for Counted {
    type Overflow = VecDeque<Counted>;
    fn handle(overflow: &mut VecDeque<Counted>, message: Counted) {
        policies::spill(overflow, message);
    }
}

#[test]
#[ignore = "soak: run with scripts/soak.sh"]
fn soak_mailbox_ten_million() {
    let per_producer = 5_000_000 / scale();
    let drops = Arc::new(AtomicUsize::new(0));
    let (sender, mut receiver) = mailbox::new::<Counted>(NonZeroUsize::new(64).unwrap());
    let start = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS as u32)
        .map(|id| {
            let (sender, drops) = (sender.clone(), Arc::clone(&drops));
            thread::spawn(move || {
                let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (id as u64 + 7));
                let mut backoffs = 0u64;
                for sequence in 0..per_producer {
                    let message = Counted {
                        sender: id,
                        sequence,
                        drops: Arc::clone(&drops),
                    };
                    match sender.enqueue(message) {
                        Feedback::Ok => {}
                        Feedback::Backoff => backoffs += 1,
                        Feedback::Closed => panic!("receiver gone"),
                    }
                    rng.maybe_pause(0x3ff);
                }
                backoffs
            })
        })
        .collect();
    drop(sender);
    let mut next = [0u64; PRODUCERS];
    while let Some(message) = receiver.recv_blocking() {
        let sender = message.sender as usize;
        assert_eq!(
            message.sequence, next[sender],
            "sender {sender} out of order"
        );
        next[sender] += 1;
    }
    let backoffs: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
    assert_eq!(next, [per_producer; PRODUCERS], "messages lost");
    assert_eq!(receiver.stats().backoff, backoffs);
    drop(receiver);
    let total = per_producer * PRODUCERS as u64;
    assert_eq!(
        drops.load(Ordering::Relaxed) as u64,
        total,
        "not dropped exactly once"
    );
    println!(
        "soak mailbox: {total} messages ({backoffs} spilled) in {:.1?}, all delivered once in order, all dropped once",
        start.elapsed()
    );
}
