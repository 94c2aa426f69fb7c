//! `conflux::notify` against nexus-notify: the same workloads through one small adapter trait,
//! so both run literally the same code around their calls.
//!
//! Every delivered batch is consumed the same way (the token indices are summed into
//! `black_box`), as an event loop would at least look at what it got.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use crate::measure::{Case, Contender};

/// What a conflating FIFO notify queue offers; implemented by each contender.
pub trait NotifyQueue: 'static {
    const NAME: &'static str;
    type Notifier: Clone + Send + 'static;
    type Poller: Send + 'static;
    type Events: 'static;
    fn new(capacity: usize) -> (Self::Notifier, Self::Poller);
    fn events(capacity: usize) -> Self::Events;
    fn notify(notifier: &Self::Notifier, index: usize);
    /// Polls with a budget and returns the sum of the delivered indices plus their count
    /// (the count in the low bits keeps empty and non-empty polls distinguishable).
    fn poll(poller: &Self::Poller, events: &mut Self::Events, limit: usize) -> usize;
}

pub struct Conflux;
pub struct Nexus;

impl NotifyQueue for Conflux {
    const NAME: &'static str = "conflux";
    type Notifier = conflux::notify::Notifier;
    type Poller = conflux::notify::Poller;
    type Events = conflux::notify::Events;
    fn new(capacity: usize) -> (Self::Notifier, Self::Poller) {
        conflux::notify::event_queue(capacity)
    }
    fn events(capacity: usize) -> Self::Events {
        conflux::notify::Events::with_capacity(capacity)
    }
    #[inline]
    fn notify(notifier: &Self::Notifier, index: usize) {
        notifier.notify(conflux::notify::Token::new(index)).unwrap();
    }
    #[inline]
    fn poll(poller: &Self::Poller, events: &mut Self::Events, limit: usize) -> usize {
        poller.poll_limit(events, limit);
        events.iter().map(|t| t.index()).sum::<usize>() << 16 | events.len()
    }
}

impl NotifyQueue for Nexus {
    const NAME: &'static str = "nexus-notify";
    type Notifier = nexus_notify::Notifier;
    type Poller = nexus_notify::Poller;
    type Events = nexus_notify::Events;
    fn new(capacity: usize) -> (Self::Notifier, Self::Poller) {
        nexus_notify::event_queue(capacity)
    }
    fn events(capacity: usize) -> Self::Events {
        nexus_notify::Events::with_capacity(capacity)
    }
    #[inline]
    fn notify(notifier: &Self::Notifier, index: usize) {
        notifier.notify(nexus_notify::Token::new(index)).unwrap();
    }
    #[inline]
    fn poll(poller: &Self::Poller, events: &mut Self::Events, limit: usize) -> usize {
        poller.poll_limit(events, limit);
        events.iter().map(|t| t.index()).sum::<usize>() << 16 | events.len()
    }
}

const CAPACITY: usize = 4096;

/// Notify `tokens` (none pending), then one poll delivers them all: ns per token.
fn notify_new_then_poll<Q: NotifyQueue>(tokens: Vec<usize>) -> Contender {
    let (notifier, poller) = Q::new(CAPACITY);
    let mut events = Q::events(CAPACITY);
    Contender::new(Q::NAME, move |iterations| {
        for _ in 0..iterations {
            for &index in &tokens {
                Q::notify(&notifier, black_box(index));
            }
            black_box(Q::poll(&poller, &mut events, usize::MAX));
        }
        iterations * tokens.len() as u64
    })
}

/// Notify a token that is already pending: ns per notify.
fn notify_conflated<Q: NotifyQueue>() -> Contender {
    let (notifier, poller) = Q::new(CAPACITY);
    Q::notify(&notifier, 7);
    Contender::new(Q::NAME, move |iterations| {
        let _keep_open = &poller;
        for _ in 0..iterations {
            Q::notify(&notifier, black_box(7));
        }
        iterations
    })
}

/// Poll an empty queue: ns per poll.
fn poll_empty<Q: NotifyQueue>() -> Contender {
    let (_notifier, poller) = Q::new(CAPACITY);
    let mut events = Q::events(CAPACITY);
    Contender::new(Q::NAME, move |iterations| {
        for _ in 0..iterations {
            black_box(Q::poll(&poller, black_box(&mut events), 32));
        }
        iterations
    })
}

/// All 4096 tokens pending; `poll_limit(32)` then re-notify the 32 delivered (they go to the
/// back of the queue): ns per delivered token.
fn poll_limit_of_many<Q: NotifyQueue>() -> Contender {
    let (notifier, poller) = Q::new(CAPACITY);
    let mut events = Q::events(CAPACITY);
    for index in 0..CAPACITY {
        Q::notify(&notifier, index);
    }
    let mut next = 0;
    Contender::new(Q::NAME, move |iterations| {
        for _ in 0..iterations {
            black_box(Q::poll(&poller, &mut events, 32));
            // The 32 delivered are the oldest: re-arm exactly those, in order.
            for k in 0..32 {
                Q::notify(&notifier, (next + k) % CAPACITY);
            }
            next = (next + 32) % CAPACITY;
        }
        iterations * 32
    })
}

/// One producer thread notifies `iterations` times, cycling over all tokens, while this
/// thread polls until it has seen the producer finish and the queue drain: ns per notify
/// (wall time of the whole exchange divided by the notifies made).
fn cross_thread<Q: NotifyQueue>() -> Contender {
    Contender::new(Q::NAME, move |iterations| {
        let (notifier, poller) = Q::new(CAPACITY);
        let mut events = Q::events(CAPACITY);
        let done = Arc::new(AtomicBool::new(false));
        let producer = {
            let done = Arc::clone(&done);
            thread::spawn(move || {
                for i in 0..iterations as usize {
                    Q::notify(&notifier, i % CAPACITY);
                }
                done.store(true, Ordering::Release);
            })
        };
        loop {
            let finished = done.load(Ordering::Acquire);
            let got = Q::poll(&poller, &mut events, usize::MAX);
            black_box(got);
            if finished && got & 0xffff == 0 {
                break;
            }
        }
        producer.join().unwrap();
        iterations
    })
}

fn scattered_tokens() -> Vec<usize> {
    // 256 distinct tokens spread over the whole range (997 is coprime with 4096).
    (0..256).map(|i| (i * 997) % CAPACITY).collect()
}

fn both(
    name: &str,
    unit: &'static str,
    make: fn() -> Contender,
    make_peer: fn() -> Contender,
) -> Case {
    Case {
        name: name.to_string(),
        unit,
        contenders: vec![make(), make_peer()],
    }
}

pub fn cases() -> Vec<Case> {
    vec![
        both(
            "notify new + poll, 256 sequential of 4096",
            "token",
            || notify_new_then_poll::<Conflux>((0..256).collect()),
            || notify_new_then_poll::<Nexus>((0..256).collect()),
        ),
        both(
            "notify new + poll, 256 scattered of 4096",
            "token",
            || notify_new_then_poll::<Conflux>(scattered_tokens()),
            || notify_new_then_poll::<Nexus>(scattered_tokens()),
        ),
        both(
            "notify already pending (conflated)",
            "notify",
            notify_conflated::<Conflux>,
            notify_conflated::<Nexus>,
        ),
        both(
            "poll empty",
            "poll",
            poll_empty::<Conflux>,
            poll_empty::<Nexus>,
        ),
        both(
            "poll_limit(32) of 4096 pending, re-notify",
            "token",
            poll_limit_of_many::<Conflux>,
            poll_limit_of_many::<Nexus>,
        ),
        both(
            "1 producer thread -> polling consumer",
            "notify",
            cross_thread::<Conflux>,
            cross_thread::<Nexus>,
        ),
    ]
}
