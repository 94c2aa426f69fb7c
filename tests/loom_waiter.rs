//! loom models of the wait/wake protocol behind `event_channel` (see `src/core/waiter.rs`):
//! sleep announcements in the tail word, parking, wakers, disconnection.
//! Run with `bash scripts/loom.sh`.
#![cfg(loom)]

mod loom_common;

use std::time::Duration;

use conflux::notify::{event_channel, Events, RecvError, RecvTimeoutError, Token};
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom_common::model_with_bound(3, f);
}

fn indices(events: &Events) -> Vec<usize> {
    events.iter().map(Token::index).collect()
}

/// A blocking receive racing a notify from another thread always wakes with the token.
#[test]
fn blocking_recv_never_loses_a_wakeup() {
    model(|| {
        let (sender, receiver) = event_channel(2);
        let producer = thread::spawn(move || {
            sender.notify(Token::new(1)).unwrap();
            sender
        });
        let mut events = Events::with_capacity(2);
        receiver.recv(&mut events).unwrap();
        assert_eq!(indices(&events), [1]);
        drop(producer.join().unwrap());
    });
}

/// The last sender notifies and drops while the receiver goes to sleep (a receiver that saw
/// "empty", then "disconnected", must look once more).
/// The token is delivered first, then disconnection is reported.
#[test]
fn notify_then_last_drop_racing_sleep_delivers_then_disconnects() {
    model(|| {
        let (sender, receiver) = event_channel(2);
        let producer = thread::spawn(move || {
            sender.notify(Token::new(0)).unwrap();
        });
        let mut events = Events::with_capacity(2);
        assert_eq!(receiver.recv(&mut events), Ok(()));
        assert_eq!(indices(&events), [0]);
        assert_eq!(receiver.recv(&mut events), Err(RecvError));
        producer.join().unwrap();
    });
}

/// Dropping the last sender wakes a receiver blocked on an empty channel.
#[test]
fn last_sender_drop_wakes_a_blocked_receiver() {
    model(|| {
        let (sender, receiver) = event_channel(1);
        let dropper = thread::spawn(move || drop(sender));
        let mut events = Events::with_capacity(1);
        assert_eq!(receiver.recv(&mut events), Err(RecvError));
        dropper.join().unwrap();
    });
}

/// Two senders, two tokens: the receiver's announce/withdraw cycles never strand a notify
/// (a wake consumed by one withdraw cannot hide the other sender's token).
#[test]
fn two_senders_never_strand_a_token() {
    model(|| {
        let (sender, receiver) = event_channel(2);
        let producers: Vec<_> = (0..2)
            .map(|id| {
                let sender = sender.clone();
                thread::spawn(move || sender.notify(Token::new(id)).unwrap())
            })
            .collect();
        drop(sender);
        let mut events = Events::with_capacity(2);
        let mut seen = Vec::new();
        while receiver.recv(&mut events).is_ok() {
            seen.extend(indices(&events));
        }
        seen.sort_unstable();
        assert_eq!(seen, [0, 1]);
        for producer in producers {
            producer.join().unwrap();
        }
    });
}

/// A timed receive (a timed park is a spurious wake-up under loom) returns the token when it
/// arrives, and never returns Ok without one.
#[test]
fn recv_timeout_returns_the_token_or_times_out_never_empty_handed() {
    model(|| {
        let (sender, receiver) = event_channel(1);
        let producer = thread::spawn(move || {
            sender.notify(Token::new(0)).unwrap();
            sender
        });
        let mut events = Events::with_capacity(1);
        match receiver.recv_timeout(&mut events, Duration::from_secs(3600)) {
            Ok(()) => assert_eq!(indices(&events), [0]),
            Err(RecvTimeoutError::Timeout) => unreachable!("an hour cannot pass under loom"),
            Err(RecvTimeoutError::Disconnected) => unreachable!("the sender is alive"),
        }
        drop(producer.join().unwrap());
    });
}

/// Async receive: register the waker, announce, re-check, Pending; a notify from another
/// thread always wakes the task.
#[test]
fn async_recv_waker_registration_never_misses_a_notify() {
    model(|| {
        let (sender, mut receiver) = event_channel(2);
        let producer = thread::spawn(move || {
            sender.notify(Token::new(1)).unwrap();
            sender
        });
        let mut events = Events::with_capacity(2);
        loom::future::block_on(receiver.recv_async(&mut events, 2)).unwrap();
        assert_eq!(indices(&events), [1]);
        drop(producer.join().unwrap());
    });
}

/// Async receive and disconnection: the last sender's drop wakes an awaiting task, which
/// then reports disconnection.
#[test]
fn async_recv_is_woken_by_disconnection() {
    model(|| {
        let (sender, mut receiver) = event_channel(1);
        let dropper = thread::spawn(move || drop(sender));
        let mut events = Events::with_capacity(1);
        let result = loom::future::block_on(receiver.recv_async(&mut events, 1));
        assert_eq!(result, Err(RecvError));
        dropper.join().unwrap();
    });
}

/// Dropping the receiver makes later notifies Closed while a notify racing it may succeed.
#[test]
fn receiver_drop_closes_the_channel() {
    model(|| {
        let (sender, receiver) = event_channel(1);
        let racer = {
            let sender = sender.clone();
            thread::spawn(move || {
                let _ = sender.notify(Token::new(0));
            })
        };
        drop(receiver);
        assert!(sender.is_closed());
        assert!(sender.notify(Token::new(0)).is_err());
        racer.join().unwrap();
    });
}

/// `WaitStrategy::SpinOnly` never announces or parks: its spin alone must see the notify, then
/// the disconnection (the spin's polls are loom yields, so every interleaving is explored).
#[test]
fn spin_only_recv_sees_the_notify_then_disconnection() {
    model(|| {
        let (sender, mut receiver) = event_channel(2);
        receiver.set_wait_strategy(conflux::WaitStrategy::SpinOnly);
        let producer = thread::spawn(move || {
            sender.notify(Token::new(1)).unwrap();
        });
        let mut events = Events::with_capacity(2);
        assert_eq!(receiver.recv(&mut events), Ok(()));
        assert_eq!(indices(&events), [1]);
        assert_eq!(receiver.recv(&mut events), Err(RecvError));
        producer.join().unwrap();
    });
}

/// `WaitStrategy::Park` goes straight from the first poll to announce/park; a notify racing
/// it is never lost.
#[test]
fn park_at_once_never_loses_a_wakeup() {
    model(|| {
        let (sender, mut receiver) = event_channel(2);
        receiver.set_wait_strategy(conflux::WaitStrategy::Park);
        let producer = thread::spawn(move || {
            sender.notify(Token::new(0)).unwrap();
            sender
        });
        let mut events = Events::with_capacity(2);
        receiver.recv(&mut events).unwrap();
        assert_eq!(indices(&events), [0]);
        drop(producer.join().unwrap());
    });
}
