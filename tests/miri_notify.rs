//! A small-N suite for miri (`bash scripts/miri.sh`): the multi-threaded notify paths with few
//! enough operations that the interpreter finishes in seconds. Also runs in `cargo test`.
#![cfg(not(loom))]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use conflux::notify::{event_channel, event_queue, event_queue_with_waker, Events, Token};

#[test]
fn threads_notify_and_a_poller_sees_every_final_value() {
    const TOKENS: usize = 8;
    let (notifier, poller) = event_queue(TOKENS);
    let slots: Arc<Vec<AtomicU64>> = Arc::new((0..TOKENS).map(|_| AtomicU64::new(0)).collect());
    let producers: Vec<_> = (0..2)
        .map(|p| {
            let (notifier, slots) = (notifier.clone(), Arc::clone(&slots));
            thread::spawn(move || {
                for value in 1..=40u64 {
                    let token = p + 2 * (value as usize % (TOKENS / 2));
                    slots[token].store(value, Ordering::Relaxed);
                    notifier.notify(Token::new(token)).unwrap();
                }
            })
        })
        .collect();
    drop(notifier);
    let mut events = Events::with_capacity(TOKENS);
    let mut seen = [0u64; TOKENS];
    loop {
        let disconnected = poller.is_disconnected();
        poller.poll_limit(&mut events, 3);
        for token in &events {
            seen[token.index()] = slots[token.index()].load(Ordering::Relaxed);
        }
        if disconnected && events.is_empty() {
            break;
        }
        thread::yield_now();
    }
    for producer in producers {
        producer.join().unwrap();
    }
    for (token, slot) in slots.iter().enumerate() {
        assert_eq!(seen[token], slot.load(Ordering::Relaxed));
    }
}

#[test]
fn blocking_channel_delivers_then_disconnects() {
    let (sender, receiver) = event_channel(4);
    let producer = thread::spawn(move || {
        for round in 0..20 {
            sender.notify(Token::new(round % 4)).unwrap();
        }
    });
    let mut events = Events::with_capacity(4);
    let mut deliveries = 0;
    while receiver.recv_limit(&mut events, 2).is_ok() {
        assert!(!events.is_empty() && events.len() <= 2);
        deliveries += events.len();
    }
    assert!((4..=20).contains(&deliveries));
    producer.join().unwrap();
}

#[test]
fn dropping_handles_in_any_order_frees_everything() {
    let (notifier, poller) = event_queue(3);
    notifier.notify(Token::new(2)).unwrap();
    drop(poller);
    assert!(notifier.notify(Token::new(1)).is_err());
    drop(notifier);
    let (sender, receiver) = event_channel(3);
    drop(sender);
    let mut events = Events::with_capacity(3);
    assert!(receiver.recv(&mut events).is_err());
}

#[test]
fn a_loop_armed_and_sleeping_on_a_condvar_gets_every_batch() {
    use std::sync::{Condvar, Mutex};
    const TOKENS: usize = 6;
    let bell = Arc::new((Mutex::new(false), Condvar::new()));
    let ringer = Arc::clone(&bell);
    let (notifier, poller) = event_queue_with_waker(TOKENS, move || {
        *ringer.0.lock().unwrap() = true;
        ringer.1.notify_one();
    });
    let producer = thread::spawn(move || {
        for round in 0..4 {
            let batch: Vec<Token> = (0..3).map(|k| Token::new((round + k) % TOKENS)).collect();
            notifier.notify_many(&batch).unwrap();
            notifier.notify(Token::new(5)).unwrap();
        }
    });
    let mut events = Events::with_capacity(TOKENS);
    let mut seen = [false; TOKENS];
    loop {
        poller.poll(&mut events);
        if !events.is_empty() {
            events.iter().for_each(|t| seen[t.index()] = true);
            continue;
        }
        if poller.arm() {
            if poller.is_disconnected() {
                break;
            }
            let mut rung = bell.0.lock().unwrap();
            while !*rung {
                rung = bell.1.wait(rung).unwrap();
            }
            *rung = false;
        } else {
            thread::yield_now();
        }
    }
    producer.join().unwrap();
    assert_eq!(seen, [true; TOKENS]);
}

/// `Receiver::close` racing a notifying thread and a thread awaiting `Sender::closed()`: every
/// accepted token is delivered before disconnection, the waiter wakes, and the receiver's
/// drop (which drops the token queue's consumer by hand) leaves nothing behind.
#[test]
fn close_racing_a_notifier_and_a_closed_waiter() {
    let (sender, mut receiver) = event_channel(4);
    let watcher = {
        let sender = sender.clone();
        thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            runtime.block_on(sender.closed());
            sender.is_closed()
        })
    };
    let notifier = thread::spawn(move || {
        (0..4)
            .filter(|&i| sender.notify(Token::new(i)).is_ok())
            .collect::<Vec<_>>()
    });
    receiver.close();
    let mut events = Events::with_capacity(4);
    let mut delivered = Vec::new();
    while receiver.recv(&mut events).is_ok() {
        delivered.extend(events.iter().map(Token::index));
    }
    for accepted in notifier.join().unwrap() {
        assert!(delivered.contains(&accepted));
    }
    assert!(watcher.join().unwrap());
    drop(receiver);
}
