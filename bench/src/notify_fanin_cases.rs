//! Notify fan-in: P producer threads (1, 4, 16) notify one consumer, conflux against
//! nexus-notify 1.1, on queues of 1024 tokens. This is the shape `notify` exists for: several
//! I/O threads mark connections ready, one event loop drains them.
//!
//! **The workload.** Producer `p` of `P` cycles through its own share of the tokens; the shares
//! are disjoint. Three token patterns:
//! * **sequential**: producer `p` owns the contiguous block `p * 1024/P ..`, in order;
//! * **scattered**: the same blocks pushed through the permutation `i -> i * 997 mod 1024`,
//!   so a producer's tokens (and their order) are spread over the whole range and every
//!   producer's tokens sit next to every other's;
//! * **hot**: only 16 tokens (`0, 64, 128, ..`) split between the producers, re-notified over
//!   and over, so nearly every notify conflates into a delivery already pending.
//!
//! Two consumers: a **busy-polling** one (`Poller::poll_limit` in a loop, a `spin_loop` hint
//! between empty polls, never yields: an event loop that owns its core), and a **blocking**
//! one (`event_channel`'s `Receiver::recv`, with each library's own spin-then-park strategy).
//!
//! **Units.** The same exchange is reported twice: the wall time of a batch (thread spawns
//! and joins included, amortised over ~15 ms, the same for both) divided by the notifies the
//! producers made ("per notify", the producers' rate) and by the tokens the consumer received
//! ("per delivery"). They differ by how much conflated: a consumer that falls behind conflates
//! more, which flatters its per-notify number and is charged in its per-delivery one.
//!
//! **Why it is fair.** Both contenders run through the adapter traits (`NotifyQueue` from
//! `notify_cases.rs` for the busy poll, [`FanInChannel`] here for the blocking receive), so
//! the code around the calls is one generic function per contender. The end of a batch is
//! signalled the same way for both: each producer counts itself finished after its last
//! notify, and the last one to finish notifies one more token (not counted) so that a parked
//! consumer wakes up and sees the count; the consumer then drains what is left. nexus-notify
//! 1.1's blocking receive can lose a wake-up (see `channel_cases.rs`), so its receives are
//! guarded by a 5 ms timeout, counted into the same report line.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::harness::{Case, Contender};
use crate::notify_cases::{Conflux, Nexus, NotifyQueue};

/// Tokens in every fan-in queue.
const TOKENS: usize = 1024;
/// Tokens of the hot pattern.
const HOT: usize = 16;
/// How long nexus-notify's blocking receive may wait before the guard counts a lost wake-up.
const NEXUS_GUARD: Duration = Duration::from_millis(5);
/// How often that guard fired in the blocking fan-in rows (reported in a note).
static NEXUS_LOST_WAKEUPS: AtomicU64 = AtomicU64::new(0);

/// Which tokens a producer cycles through.
#[derive(Clone, Copy)]
enum Pattern {
    Sequential,
    Scattered,
    Hot,
}

impl Pattern {
    fn name(self) -> &'static str {
        match self {
            Pattern::Sequential => "sequential",
            Pattern::Scattered => "scattered",
            Pattern::Hot => "hot 16",
        }
    }

    /// Producer `p`'s tokens, in the order it notifies them.
    fn share(self, producers: usize, p: usize) -> Vec<usize> {
        match self {
            Pattern::Sequential => {
                let n = TOKENS / producers;
                (p * n..(p + 1) * n).collect()
            }
            Pattern::Scattered => {
                let n = TOKENS / producers;
                (p * n..(p + 1) * n).map(|i| (i * 997) % TOKENS).collect()
            }
            Pattern::Hot => {
                let n = HOT / producers;
                (p * n..(p + 1) * n).map(|i| i * (TOKENS / HOT)).collect()
            }
        }
    }
}

/// The blocking side of each library: a cloneable sender and a receive that waits.
pub trait FanInChannel: 'static {
    const NAME: &'static str;
    type Sender: Clone + Send + 'static;
    type Receiver: 'static;
    type Events: 'static;
    fn new(capacity: usize) -> (Self::Sender, Self::Receiver);
    fn events(capacity: usize) -> Self::Events;
    fn notify(sender: &Self::Sender, index: usize);
    /// Waits for tokens; returns (tokens received, sum of their indices), or `None` once the
    /// channel is disconnected and empty.
    fn recv(receiver: &Self::Receiver, events: &mut Self::Events) -> Option<(usize, usize)>;
    /// Takes what is pending without waiting.
    fn try_recv(receiver: &Self::Receiver, events: &mut Self::Events) -> (usize, usize);
}

pub struct ConfluxChannel;
pub struct NexusChannel;

impl FanInChannel for ConfluxChannel {
    const NAME: &'static str = "conflux";
    type Sender = conflux::notify::Sender;
    type Receiver = conflux::notify::Receiver;
    type Events = conflux::notify::Events;
    fn new(capacity: usize) -> (Self::Sender, Self::Receiver) {
        conflux::notify::event_channel(capacity)
    }
    fn events(capacity: usize) -> Self::Events {
        conflux::notify::Events::with_capacity(capacity)
    }
    #[inline]
    fn notify(sender: &Self::Sender, index: usize) {
        sender.notify(conflux::notify::Token::new(index)).unwrap();
    }
    #[inline]
    fn recv(receiver: &Self::Receiver, events: &mut Self::Events) -> Option<(usize, usize)> {
        receiver.recv(events).ok()?;
        Some((events.len(), events.iter().map(|t| t.index()).sum()))
    }
    #[inline]
    fn try_recv(receiver: &Self::Receiver, events: &mut Self::Events) -> (usize, usize) {
        let _ = receiver.try_recv(events);
        (events.len(), events.iter().map(|t| t.index()).sum())
    }
}

impl FanInChannel for NexusChannel {
    const NAME: &'static str = "nexus-notify";
    type Sender = nexus_notify::Sender;
    type Receiver = nexus_notify::Receiver;
    type Events = nexus_notify::Events;
    fn new(capacity: usize) -> (Self::Sender, Self::Receiver) {
        nexus_notify::event_channel(capacity)
    }
    fn events(capacity: usize) -> Self::Events {
        nexus_notify::Events::with_capacity(capacity)
    }
    #[inline]
    fn notify(sender: &Self::Sender, index: usize) {
        sender.notify(nexus_notify::Token::new(index)).unwrap();
    }
    #[inline]
    fn recv(receiver: &Self::Receiver, events: &mut Self::Events) -> Option<(usize, usize)> {
        if !receiver.recv_timeout(events, NEXUS_GUARD) {
            NEXUS_LOST_WAKEUPS.fetch_add(1, Ordering::Relaxed);
        }
        Some((events.len(), events.iter().map(|t| t.index()).sum()))
    }
    #[inline]
    fn try_recv(receiver: &Self::Receiver, events: &mut Self::Events) -> (usize, usize) {
        receiver.try_recv(events);
        (events.len(), events.iter().map(|t| t.index()).sum())
    }
}

/// What one batch counts as an operation.
#[derive(Clone, Copy)]
enum PerOp {
    Notify,
    Delivery,
}

/// Spawns `producers` threads, each making `notifies` notifies over its share of `pattern`.
/// The last one to finish notifies its first token once more (uncounted), after the count
/// says all are finished, so a parked consumer wakes and sees it.
fn spawn_producers<S: Clone + Send + 'static, F: Fn(&S, usize) + Copy + Send + 'static>(
    sender: S,
    notify: F,
    pattern: Pattern,
    producers: usize,
    notifies: u64,
    finished: &Arc<AtomicUsize>,
) -> Vec<thread::JoinHandle<()>> {
    (0..producers)
        .map(|p| {
            let sender = sender.clone();
            let finished = Arc::clone(finished);
            let share = pattern.share(producers, p);
            thread::spawn(move || {
                let mut k = 0;
                for _ in 0..notifies {
                    notify(&sender, share[k]);
                    k += 1;
                    if k == share.len() {
                        k = 0;
                    }
                }
                // Release: the consumer that reads the full count sees every notify above.
                if finished.fetch_add(1, Ordering::Release) + 1 == producers {
                    notify(&sender, share[0]);
                }
            })
        })
        .collect()
}

fn checked(name: &str, delivered: u64, notifies: u64, per: PerOp) -> u64 {
    assert!(
        delivered >= 1 && delivered <= notifies + 1,
        "{name}: {delivered} deliveries for {notifies} notifies"
    );
    match per {
        PerOp::Notify => notifies,
        PerOp::Delivery => delivered,
    }
}

/// Busy-polling consumer: polls in a loop (a `spin_loop` hint between empty polls) until the
/// producers are finished and the queue is drained.
fn busy_poll<Q: NotifyQueue>(pattern: Pattern, producers: usize, per: PerOp) -> Contender {
    Contender::new(Q::NAME, move |iterations| {
        let each = iterations.div_ceil(producers as u64);
        let (notifier, poller) = Q::new(TOKENS);
        let mut events = Q::events(TOKENS);
        let finished = Arc::new(AtomicUsize::new(0));
        let threads = spawn_producers(notifier, Q::notify, pattern, producers, each, &finished);
        let mut delivered_total = 0u64;
        loop {
            // Acquire: pairs with the producers' Release count (their notifies are visible).
            let done = finished.load(Ordering::Acquire) == producers;
            let (delivered, sum) = Q::poll(&poller, &mut events, usize::MAX);
            black_box(sum);
            delivered_total += delivered as u64;
            if delivered == 0 {
                if done {
                    break;
                }
                std::hint::spin_loop();
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        checked(Q::NAME, delivered_total, each * producers as u64, per)
    })
    .min_iterations(1 << 16)
}

/// Blocking consumer: receives until the producers are finished, then drains what is left.
fn blocking<C: FanInChannel>(pattern: Pattern, producers: usize, per: PerOp) -> Contender {
    Contender::new(C::NAME, move |iterations| {
        let each = iterations.div_ceil(producers as u64);
        let (sender, receiver) = C::new(TOKENS);
        let mut events = C::events(TOKENS);
        let finished = Arc::new(AtomicUsize::new(0));
        let threads = spawn_producers(sender, C::notify, pattern, producers, each, &finished);
        let mut delivered_total = 0u64;
        while let Some((delivered, sum)) = C::recv(&receiver, &mut events) {
            black_box(sum);
            delivered_total += delivered as u64;
            // Acquire: as in `busy_poll`.
            if finished.load(Ordering::Acquire) == producers {
                loop {
                    let (delivered, sum) = C::try_recv(&receiver, &mut events);
                    black_box(sum);
                    delivered_total += delivered as u64;
                    if delivered == 0 {
                        break;
                    }
                }
                break;
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        checked(C::NAME, delivered_total, each * producers as u64, per)
    })
    .min_iterations(1 << 16)
}

pub fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for producers in [1, 4, 16] {
        for pattern in [Pattern::Sequential, Pattern::Scattered, Pattern::Hot] {
            for (consumer, is_busy) in [("busy-poll", true), ("blocking", false)] {
                for (unit, label, per) in [
                    ("notify", "notification", PerOp::Notify),
                    ("delivery", "delivery", PerOp::Delivery),
                ] {
                    let contenders = if is_busy {
                        vec![
                            busy_poll::<Conflux>(pattern, producers, per),
                            busy_poll::<Nexus>(pattern, producers, per),
                        ]
                    } else {
                        vec![
                            blocking::<ConfluxChannel>(pattern, producers, per),
                            blocking::<NexusChannel>(pattern, producers, per),
                        ]
                    };
                    let plural = if producers == 1 { "" } else { "s" };
                    let name = format!(
                        "notify fan-in: {producers} producer{plural}, {}, {consumer} consumer, per {label}",
                        pattern.name()
                    );
                    cases.push(Case::new(name, unit, contenders));
                }
            }
        }
    }
    if let Some(last) = cases.pop() {
        cases.push(last.with_note(|| {
            let fired = NEXUS_LOST_WAKEUPS.load(Ordering::Relaxed);
            (fired > 0).then(|| {
                format!(
                    "notify fan-in, blocking rows: nexus-notify's 5 ms receive guard fired {fired} times (a lost wake-up, or a thread descheduled for 5 ms on a loaded box)."
                )
            })
        }));
    }
    cases
}
