//! Stress: real threads, checked invariants. Producers write the latest value into per-token,
//! per-producer slots with Relaxed stores and notify; the consumer must never see a token twice
//! in one delivery, never see a slot go backwards, and must end having seen every slot's final
//! value. That last check is the publication guarantee (a delivery shows what the producer wrote
//! before notifying, conflated notifies included)
//! and its no-loss rule at once: the consumer only reads slots of delivered tokens.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use conflux::notify::{event_channel, event_queue, Events, Token};

const TOKENS: usize = 64;
const PRODUCERS: usize = 3;
const WRITES_PER_PRODUCER: u64 = 200_000;

struct Slots(Vec<[AtomicU64; PRODUCERS]>);

impl Slots {
    fn new() -> Arc<Slots> {
        Arc::new(Slots(
            (0..TOKENS)
                .map(|_| std::array::from_fn(|_| AtomicU64::new(0)))
                .collect(),
        ))
    }
}

/// Writes `1..=WRITES_PER_PRODUCER` into this producer's slot of pseudo-randomly chosen tokens,
/// notifying after each write; returns the final value of each of its slots.
fn produce(id: usize, slots: &Slots, mut notify: impl FnMut(Token)) -> Vec<u64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (id as u64 + 1);
    let mut finals = vec![0; TOKENS];
    for value in 1..=WRITES_PER_PRODUCER {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Bias towards a few hot tokens so conflation happens a lot.
        let token = if state % 4 == 0 {
            (state >> 8) as usize % 4
        } else {
            (state >> 8) as usize % TOKENS
        };
        slots.0[token][id].store(value, Ordering::Relaxed);
        finals[token] = value;
        notify(Token::new(token));
    }
    finals
}

/// Checks one delivery and folds it into what the consumer has seen.
fn consume(events: &Events, slots: &Slots, seen: &mut [[u64; PRODUCERS]]) {
    let mut in_this_poll = [false; TOKENS];
    for token in events {
        let index = token.index();
        assert!(
            !in_this_poll[index],
            "token {index} delivered twice in one poll"
        );
        in_this_poll[index] = true;
        for (producer, slot) in slots.0[index].iter().enumerate() {
            let value = slot.load(Ordering::Relaxed);
            let last = &mut seen[index][producer];
            assert!(
                value >= *last,
                "slot went backwards: token {index}, producer {producer}"
            );
            *last = value;
        }
    }
}

fn assert_saw_every_final_value(finals: Vec<Vec<u64>>, seen: &[[u64; PRODUCERS]]) {
    for (producer, finals) in finals.iter().enumerate() {
        for (token, &last) in finals.iter().enumerate() {
            assert_eq!(
                seen[token][producer], last,
                "token {token}: producer {producer}'s last write was never observed"
            );
        }
    }
}

#[test]
fn polling_consumer_sees_every_final_value_and_no_token_twice_per_poll() {
    let (notifier, poller) = event_queue(TOKENS);
    let slots = Slots::new();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            let (notifier, slots) = (notifier.clone(), Arc::clone(&slots));
            thread::spawn(move || produce(id, &slots, |t| notifier.notify(t).unwrap()))
        })
        .collect();
    drop(notifier);

    let mut events = Events::with_capacity(TOKENS);
    let mut seen = vec![[0u64; PRODUCERS]; TOKENS];
    let mut budget = 1;
    loop {
        // Disconnection is read before the poll: if it was seen, that poll saw everything.
        let disconnected = poller.is_disconnected();
        poller.poll_limit(&mut events, budget);
        budget = budget % 7 + 1;
        consume(&events, &slots, &mut seen);
        if disconnected && events.is_empty() {
            break;
        }
    }
    let finals = producers.into_iter().map(|p| p.join().unwrap()).collect();
    assert_saw_every_final_value(finals, &seen);
}

#[test]
fn blocking_receiver_sees_every_final_value_then_disconnects() {
    let (sender, receiver) = event_channel(TOKENS);
    let slots = Slots::new();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|id| {
            let (sender, slots) = (sender.clone(), Arc::clone(&slots));
            thread::spawn(move || {
                produce(id, &slots, |t| {
                    sender.notify(t).unwrap();
                    if t.index() == 0 {
                        // Let the receiver catch up and fall asleep now and then.
                        thread::yield_now();
                    }
                })
            })
        })
        .collect();
    drop(sender);

    let mut events = Events::with_capacity(TOKENS);
    let mut seen = vec![[0u64; PRODUCERS]; TOKENS];
    while receiver.recv_limit(&mut events, 5).is_ok() {
        assert!(!events.is_empty() && events.len() <= 5);
        consume(&events, &slots, &mut seen);
    }
    let finals = producers.into_iter().map(|p| p.join().unwrap()).collect();
    assert_saw_every_final_value(finals, &seen);
}

#[test]
fn each_producer_threads_order_is_kept_exactly() {
    // Every token is notified once, so nothing conflates: each producer's tokens must come out
    // exactly in its notify order, none lost, none twice, however the two interleave.
    const PER_PRODUCER: usize = 100_000;
    let (notifier, poller) = event_queue(2 * PER_PRODUCER);
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let notifier = notifier.clone();
            thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    notifier.notify(Token::new(p * PER_PRODUCER + i)).unwrap();
                }
            })
        })
        .collect();
    drop(notifier);
    let mut events = Events::with_capacity(64);
    let mut next = [0usize; 2];
    loop {
        let disconnected = poller.is_disconnected();
        poller.poll_limit(&mut events, 64);
        for token in &events {
            let (p, i) = (token.index() / PER_PRODUCER, token.index() % PER_PRODUCER);
            assert_eq!(i, next[p], "producer {p}'s order broken");
            next[p] += 1;
        }
        if disconnected && events.is_empty() {
            break;
        }
    }
    assert_eq!(next, [PER_PRODUCER; 2]);
    producers.into_iter().for_each(|p| p.join().unwrap());
}
