//! `conflux::notify` against nexus-notify 1.1: notify, conflate, poll, poll with a budget, and a
//! producer thread feeding a polling consumer, all on queues of 4096 tokens.
//!
//! **Why it is fair.** Both contenders run through one small adapter trait ([`NotifyQueue`]),
//! so the code around their calls is literally the same generic function, monomorphised once
//! per contender. Every delivered batch is consumed the same way (its token indices are summed
//! and counted into `black_box`), as an event loop would at least look at what it got, and the
//! count is checked where a workload depends on it, so a contender cannot win by doing less.
//! Token patterns matter to conflux (it clears pending bits a 64-bit word at a time), so the
//! notify + poll case runs both sequential and scattered tokens.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use crate::harness::{Case, Contender};

/// What a conflating FIFO notify queue offers; implemented by each contender.
pub trait NotifyQueue: 'static {
    const NAME: &'static str;
    type Notifier: Clone + Send + 'static;
    type Poller: Send + 'static;
    type Events: 'static;
    /// Tokens prepared for [`notify_batch`](Self::notify_batch), built outside the timed part.
    type Batch: 'static;
    fn new(capacity: usize) -> (Self::Notifier, Self::Poller);
    fn events(capacity: usize) -> Self::Events;
    fn notify(notifier: &Self::Notifier, index: usize);
    fn batch(indices: &[usize]) -> Self::Batch;
    /// Notifies every token of `batch`: conflux's `notify_many` (one tail claim for the run);
    /// a loop of single notifies for a peer without a batch call.
    fn notify_batch(notifier: &Self::Notifier, batch: &Self::Batch);
    /// Polls with a budget and returns (tokens delivered, sum of their indices).
    fn poll(poller: &Self::Poller, events: &mut Self::Events, limit: usize) -> (usize, usize);
}

pub struct Conflux;
pub struct Nexus;

impl NotifyQueue for Conflux {
    const NAME: &'static str = "conflux";
    type Notifier = conflux::notify::Notifier;
    type Poller = conflux::notify::Poller;
    type Events = conflux::notify::Events;
    type Batch = Vec<conflux::notify::Token>;
    fn new(capacity: usize) -> (Self::Notifier, Self::Poller) {
        conflux::notify::event_queue(capacity)
    }
    fn batch(indices: &[usize]) -> Self::Batch {
        indices
            .iter()
            .map(|&i| conflux::notify::Token::new(i))
            .collect()
    }
    #[inline]
    fn notify_batch(notifier: &Self::Notifier, batch: &Self::Batch) {
        notifier.notify_many(batch).unwrap();
    }
    fn events(capacity: usize) -> Self::Events {
        conflux::notify::Events::with_capacity(capacity)
    }
    #[inline]
    fn notify(notifier: &Self::Notifier, index: usize) {
        notifier.notify(conflux::notify::Token::new(index)).unwrap();
    }
    #[inline]
    fn poll(poller: &Self::Poller, events: &mut Self::Events, limit: usize) -> (usize, usize) {
        poller.poll_limit(events, limit);
        (events.len(), events.iter().map(|t| t.index()).sum())
    }
}

impl NotifyQueue for Nexus {
    const NAME: &'static str = "nexus-notify";
    type Notifier = nexus_notify::Notifier;
    type Poller = nexus_notify::Poller;
    type Events = nexus_notify::Events;
    type Batch = Vec<nexus_notify::Token>;
    fn new(capacity: usize) -> (Self::Notifier, Self::Poller) {
        nexus_notify::event_queue(capacity)
    }
    fn batch(indices: &[usize]) -> Self::Batch {
        indices
            .iter()
            .map(|&i| nexus_notify::Token::new(i))
            .collect()
    }
    #[inline]
    fn notify_batch(notifier: &Self::Notifier, batch: &Self::Batch) {
        for &token in batch {
            notifier.notify(token).unwrap();
        }
    }
    fn events(capacity: usize) -> Self::Events {
        nexus_notify::Events::with_capacity(capacity)
    }
    #[inline]
    fn notify(notifier: &Self::Notifier, index: usize) {
        notifier.notify(nexus_notify::Token::new(index)).unwrap();
    }
    #[inline]
    fn poll(poller: &Self::Poller, events: &mut Self::Events, limit: usize) -> (usize, usize) {
        poller.poll_limit(events, limit);
        (events.len(), events.iter().map(|t| t.index()).sum())
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
            let (delivered, sum) = Q::poll(&poller, &mut events, usize::MAX);
            assert_eq!(delivered, tokens.len(), "{} delivered too few", Q::NAME);
            black_box(sum);
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

/// Notify the tokens of `batch` (none pending) in one batch call, then one poll delivers them:
/// ns per token.
fn notify_batch_then_poll<Q: NotifyQueue>(tokens: Vec<usize>) -> Contender {
    let (notifier, poller) = Q::new(CAPACITY);
    let mut events = Q::events(CAPACITY);
    let batch = Q::batch(&tokens);
    Contender::new(Q::NAME, move |iterations| {
        for _ in 0..iterations {
            Q::notify_batch(&notifier, black_box(&batch));
            let (delivered, sum) = Q::poll(&poller, &mut events, usize::MAX);
            assert_eq!(delivered, tokens.len(), "{} delivered too few", Q::NAME);
            black_box(sum);
        }
        iterations * tokens.len() as u64
    })
}

/// All 4096 tokens pending, notified in `order` (a permutation of them); `poll_limit(32)` then
/// re-notify the 32 delivered (they go to the back of the queue): ns per delivered token.
fn poll_limit_of_many<Q: NotifyQueue>(order: Vec<usize>) -> Contender {
    let (notifier, poller) = Q::new(CAPACITY);
    let mut events = Q::events(CAPACITY);
    for &index in &order {
        Q::notify(&notifier, index);
    }
    let mut next = 0;
    Contender::new(Q::NAME, move |iterations| {
        for _ in 0..iterations {
            let (delivered, sum) = Q::poll(&poller, &mut events, 32);
            assert_eq!(delivered, 32, "{} delivered too few", Q::NAME);
            black_box(sum);
            // The 32 delivered are the oldest: re-arm exactly those, in order.
            for k in 0..32 {
                Q::notify(&notifier, order[(next + k) % CAPACITY]);
            }
            next = (next + 32) % CAPACITY;
        }
        iterations * 32
    })
}

/// What the cross-thread workload counts as one operation.
#[derive(Clone, Copy)]
enum PerOp {
    /// A token delivered to the consumer.
    Delivery,
    /// A notify made by the producer (delivered or conflated).
    Notify,
}

/// One producer thread makes `iterations` notifies, cycling over all 4096 tokens, while this
/// thread polls in a loop until it has seen the producer finish and the queue drain. The wall
/// time of the whole exchange (thread spawn and join included, the same for both, amortised
/// over a ~15 ms batch) is divided by the tokens delivered ([`PerOp::Delivery`]) or by the
/// notifies made ([`PerOp::Notify`], the producer-side rate). An idle consumer spins and
/// yields its core every 64 empty polls (the same for both). A notify conflates only if the
/// producer laps the consumer by a whole 4096-token cycle, so the two are usually close; a
/// contender whose consumer polls rarely conflates more and is charged for it per delivery.
fn cross_thread<Q: NotifyQueue>(per: PerOp) -> Contender {
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
        let mut delivered_total = 0u64;
        let mut idle = 0u32;
        loop {
            let finished = done.load(Ordering::Acquire);
            let (delivered, sum) = Q::poll(&poller, &mut events, usize::MAX);
            black_box(sum);
            delivered_total += delivered as u64;
            if finished && delivered == 0 {
                break;
            }
            if delivered == 0 {
                // Spin, but give the core away after a while: on a box with more runnable
                // threads than cores, a pure spin would starve the producer it waits for.
                idle += 1;
                if idle.is_multiple_of(64) {
                    thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            } else {
                idle = 0;
            }
        }
        producer.join().unwrap();
        assert!(
            delivered_total <= iterations && delivered_total >= iterations.min(CAPACITY as u64),
            "{}: {delivered_total} deliveries for {iterations} notifies",
            Q::NAME
        );
        match per {
            PerOp::Delivery => delivered_total,
            PerOp::Notify => iterations,
        }
    })
    .min_iterations(1 << 16)
}

/// `count` distinct tokens spread over the whole range (997 is coprime with 4096, so
/// `scattered(4096)` is a permutation of every token).
fn scattered(count: usize) -> Vec<usize> {
    (0..count).map(|i| (i * 997) % CAPACITY).collect()
}

fn scattered_tokens() -> Vec<usize> {
    scattered(256)
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
            || poll_limit_of_many::<Conflux>((0..CAPACITY).collect()),
            || poll_limit_of_many::<Nexus>((0..CAPACITY).collect()),
        ),
        both(
            "poll_limit(32) of 4096 pending, re-notify, scattered",
            "token",
            || poll_limit_of_many::<Conflux>(scattered(CAPACITY)),
            || poll_limit_of_many::<Nexus>(scattered(CAPACITY)),
        ),
        both(
            "notify_many of 16 scattered new + poll (peer: 16 notifies)",
            "token",
            || notify_batch_then_poll::<Conflux>(scattered(16)),
            || notify_batch_then_poll::<Nexus>(scattered(16)),
        ),
        both(
            "1 producer thread -> polling consumer, per delivery",
            "delivery",
            || cross_thread::<Conflux>(PerOp::Delivery),
            || cross_thread::<Nexus>(PerOp::Delivery),
        ),
        both(
            "1 producer thread -> polling consumer, per notify",
            "notify",
            || cross_thread::<Conflux>(PerOp::Notify),
            || cross_thread::<Nexus>(PerOp::Notify),
        ),
    ]
}
