//! Policies: the building blocks (`replace`, `merge`, `drop_oldest`, `drop_newest`, `capped`,
//! and the kind-filtered `drop_oldest_where` / `capped_where`) in custom policies, the
//! unreliable flavour's rejections and how they are counted, a panicking policy, and `Stats`.
//! The kind-filtered blocks: one message kind never evicts or refuses because of another, and
//! every evicted message is dropped exactly once; the whole-overflow versions are shown losing
//! requests, as the reason why.
#![cfg(not(loom))]

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use conflux::mailbox::{self, policies, Feedback, Policy, UnreliablePolicy};
use conflux::Unreliable;
use proptest::prelude::*;

fn cap(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

#[derive(Debug, PartialEq)]
enum Update {
    State { key: u8, value: u32 },
    Count { key: u8, n: u32 },
}

impl Policy for Update {
    type Overflow = VecDeque<Update>;
    fn handle(overflow: &mut VecDeque<Update>, update: Update) {
        match update {
            Update::State { .. } => policies::replace(
                overflow,
                update,
                |old, new| matches!((old, new), (Update::State { key: a, .. }, Update::State { key: b, .. }) if a == b),
            ),
            Update::Count { .. } => {
                policies::merge(overflow, update, |old, new| match (old, new) {
                    (Update::Count { key: a, n }, Update::Count { key: b, n: more }) if *a == b => {
                        *n += more;
                        None
                    }
                    (_, new) => Some(new),
                })
            }
        }
    }
}

#[test]
fn replace_and_merge_policies_keep_one_message_per_key() {
    let (sender, mut receiver) = mailbox::new::<Update>(cap(1));
    let _ = sender.enqueue(Update::Count { key: 9, n: 0 }); // fills ready
    for value in 1..=3 {
        let _ = sender.enqueue(Update::State { key: 1, value });
        let _ = sender.enqueue(Update::Count { key: 2, n: 10 });
    }
    assert_eq!(receiver.len(), 3);
    let got: Vec<Update> = std::iter::from_fn(|| receiver.try_recv().ok()).collect();
    assert_eq!(
        got,
        [
            Update::Count { key: 9, n: 0 },
            Update::State { key: 1, value: 3 },
            Update::Count { key: 2, n: 30 },
        ]
    );
}

#[test]
fn drop_oldest_and_drop_newest_building_blocks() {
    struct Tick(u32);
    impl Policy for Tick {
        type Overflow = VecDeque<Tick>;
        fn handle(overflow: &mut VecDeque<Tick>, tick: Tick) {
            if tick.0 % 2 == 0 {
                policies::drop_oldest(overflow, tick, 2);
            } else {
                policies::drop_newest(overflow, tick);
            }
        }
    }
    let (sender, mut receiver) = mailbox::new::<Tick>(cap(1));
    for i in [0, 2, 4, 5, 6] {
        let _ = sender.enqueue(Tick(i));
    }
    let got: Vec<u32> = std::iter::from_fn(|| receiver.try_recv().ok().map(|t| t.0)).collect();
    assert_eq!(got, [0, 4, 6]);
}

struct Hint(u32);

impl UnreliablePolicy for Hint {
    type Overflow = VecDeque<Hint>;
    fn handle(overflow: &mut VecDeque<Hint>, hint: Hint) -> bool {
        policies::capped(overflow, hint, 2)
    }
}

#[test]
fn an_unreliable_policy_can_reject_and_is_counted() {
    let (sender, mut receiver) = mailbox::new_unreliable::<Hint>(cap(1));
    assert_eq!(sender.enqueue(Hint(0)), Unreliable::Outcome(Feedback::Ok));
    assert_eq!(
        sender.enqueue(Hint(1)),
        Unreliable::Outcome(Feedback::Backoff)
    );
    assert_eq!(
        sender.enqueue(Hint(2)),
        Unreliable::Outcome(Feedback::Backoff)
    );
    assert_eq!(sender.enqueue(Hint(3)), Unreliable::Rejected);
    let stats = receiver.stats();
    assert_eq!((stats.backoff, stats.rejected), (2, 1));
    let got: Vec<u32> = std::iter::from_fn(|| receiver.try_recv().ok().map(|h| h.0)).collect();
    assert_eq!(got, [0, 1, 2]);
    drop(receiver);
    assert_eq!(
        sender.enqueue(Hint(4)),
        Unreliable::Outcome(Feedback::Closed)
    );
}

/// The actor's messages: requests carry a reply channel and must all be served; ticks are
/// worth keeping only while fresh.
#[derive(Debug)]
enum Msg {
    Request { id: u32, reply: mpsc::Sender<u32> },
    Tick(u32),
}

fn is_tick(m: &Msg) -> bool {
    matches!(m, Msg::Tick(_))
}

/// `Msg` with the kind-filtered policy: ticks keep the newest 2, requests spill.
#[derive(Debug)]
struct Filtered(Msg);

impl Policy for Filtered {
    type Overflow = VecDeque<Filtered>;
    fn handle(overflow: &mut VecDeque<Filtered>, msg: Filtered) {
        match msg.0 {
            Msg::Request { .. } => policies::spill(overflow, msg),
            Msg::Tick(_) => policies::drop_oldest_where(overflow, msg, 2, |m| is_tick(&m.0)),
        }
    }
}

/// The same with the whole-overflow `drop_oldest`: the trap the `_where` versions fix.
#[derive(Debug)]
struct Whole(Msg);

impl Policy for Whole {
    type Overflow = VecDeque<Whole>;
    fn handle(overflow: &mut VecDeque<Whole>, msg: Whole) {
        match msg.0 {
            Msg::Request { .. } => policies::spill(overflow, msg),
            Msg::Tick(_) => policies::drop_oldest(overflow, msg, 2),
        }
    }
}

/// One burst into a mailbox of capacity 4, nobody receiving: 40 requests, each followed by
/// 3 ticks. Returns the reply receivers, in request order, and the ids in tick order.
fn burst(mut enqueue: impl FnMut(Msg) -> Feedback) -> Vec<mpsc::Receiver<u32>> {
    let mut replies = Vec::new();
    for id in 0..40u32 {
        let (reply, answer) = mpsc::channel();
        replies.push(answer);
        assert_ne!(enqueue(Msg::Request { id, reply }), Feedback::Closed);
        for k in 0..3 {
            assert_ne!(enqueue(Msg::Tick(id * 3 + k)), Feedback::Closed);
        }
    }
    replies
}

/// The actor: serves (answers) each request, records the ticks it saw.
fn serve(msgs: impl Iterator<Item = Msg>) -> (Vec<u32>, Vec<u32>) {
    let (mut served, mut ticks) = (Vec::new(), Vec::new());
    for msg in msgs {
        match msg {
            Msg::Request { id, reply } => {
                served.push(id);
                reply.send(id * 10).unwrap();
            }
            Msg::Tick(t) => ticks.push(t),
        }
    }
    (served, ticks)
}

#[test]
fn drop_oldest_where_keeps_every_request_and_at_most_two_ticks() {
    let (sender, mut receiver) = mailbox::new::<Filtered>(cap(4));
    let replies = burst(|m| sender.enqueue(Filtered(m)));

    // ready holds the first 4 messages (request 0, ticks 0..3); overflow retains the other
    // 39 requests and exactly the newest 2 ticks.
    assert_eq!(receiver.len(), 4 + 39 + 2);
    drop(sender);
    let (served, ticks) = serve(std::iter::from_fn(|| receiver.try_recv().ok().map(|m| m.0)));

    assert_eq!(
        served,
        (0..40).collect::<Vec<_>>(),
        "every request, in order"
    );
    for (id, answer) in replies.iter().enumerate() {
        assert_eq!(
            answer.try_recv(),
            Ok(id as u32 * 10),
            "request {id} was answered"
        );
    }
    // The 3 ticks that went straight to ready, then the newest 2 of the overflow.
    assert_eq!(ticks, [0, 1, 2, 118, 119]);
}

#[test]
fn the_whole_overflow_drop_oldest_evicts_requests_which_is_why_where_exists() {
    let (sender, mut receiver) = mailbox::new::<Whole>(cap(4));
    let replies = burst(|m| sender.enqueue(Whole(m)));
    assert_eq!(
        receiver.len(),
        4 + 2,
        "ticks evicted requests: overflow holds just 2"
    );
    drop(sender);
    let (served, _ticks) = serve(std::iter::from_fn(|| receiver.try_recv().ok().map(|m| m.0)));

    assert_eq!(served, [0], "only the request that reached ready survived");
    // Every other request's reply channel was dropped unanswered: the trial's symptom.
    for answer in &replies[1..] {
        assert_eq!(answer.try_recv(), Err(mpsc::TryRecvError::Disconnected));
    }
}

#[test]
fn an_actor_on_a_multi_thread_runtime_gets_every_request_in_order() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (sender, mut receiver) = mailbox::new::<Filtered>(cap(4));
        let actor = tokio::spawn(async move {
            let (mut served, mut ticks) = (Vec::new(), Vec::new());
            while let Some(Filtered(msg)) = receiver.recv().await {
                match msg {
                    Msg::Request { id, reply } => {
                        served.push(id);
                        reply.send(id).unwrap();
                        tokio::time::sleep(Duration::from_micros(20)).await; // slower than the sender
                    }
                    Msg::Tick(t) => ticks.push(t),
                }
            }
            (served, ticks)
        });
        let producer = tokio::spawn(async move {
            let mut replies = Vec::new();
            for id in 0..300u32 {
                let (reply, answer) = mpsc::channel();
                replies.push(answer);
                let _ = sender.enqueue(Filtered(Msg::Request { id, reply }));
                for k in 0..4 {
                    let _ = sender.enqueue(Filtered(Msg::Tick(id * 4 + k)));
                }
                if id % 50 == 49 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            replies
        });
        let replies = producer.await.unwrap();
        let (served, ticks) = actor.await.unwrap();
        assert_eq!(
            served,
            (0..300).collect::<Vec<_>>(),
            "every request, in order"
        );
        for (id, answer) in replies.iter().enumerate() {
            assert_eq!(answer.try_recv(), Ok(id as u32));
        }
        assert!(ticks.windows(2).all(|w| w[0] < w[1]), "ticks in send order");
    });
}

/// Best-effort hints capped per kind; requests spill and never count against the cap.
enum Job {
    Request(u32),
    Hint(u32),
}

impl UnreliablePolicy for Job {
    type Overflow = VecDeque<Job>;
    fn handle(overflow: &mut VecDeque<Job>, job: Job) -> bool {
        match job {
            Job::Request(_) => {
                policies::spill(overflow, job);
                true
            }
            Job::Hint(_) => policies::capped_where(overflow, job, 2, |j| matches!(j, Job::Hint(_))),
        }
    }
}

#[test]
fn capped_where_refuses_by_kind_only_and_rejections_are_counted() {
    let (sender, mut receiver) = mailbox::new_unreliable::<Job>(cap(1));
    let backoff = Unreliable::Outcome(Feedback::Backoff);
    assert_eq!(
        sender.enqueue(Job::Request(0)),
        Unreliable::Outcome(Feedback::Ok)
    );
    for r in 1..=5 {
        assert_eq!(sender.enqueue(Job::Request(r)), backoff); // overflow: 5 requests
    }
    // 5 retained requests do not count against the hints' cap of 2.
    assert_eq!(sender.enqueue(Job::Hint(100)), backoff);
    assert_eq!(sender.enqueue(Job::Request(6)), backoff);
    assert_eq!(sender.enqueue(Job::Hint(101)), backoff);
    assert_eq!(sender.enqueue(Job::Hint(102)), Unreliable::Rejected);
    assert_eq!(sender.enqueue(Job::Hint(103)), Unreliable::Rejected);
    // Requests are never refused, however many hints wait.
    assert_eq!(sender.enqueue(Job::Request(7)), backoff);
    let stats = sender.stats();
    assert_eq!((stats.backoff, stats.rejected), (9, 2));

    let mut got = Vec::new();
    let mut take = |receiver: &mut mailbox::UnreliableReceiver<Job>, n: usize| {
        for _ in 0..n {
            got.push(match receiver.try_recv().unwrap() {
                Job::Request(r) => format!("r{r}"),
                Job::Hint(h) => format!("h{h}"),
            });
        }
    };
    // Take until hint 100 has moved from overflow to ready: then only hint 101 is retained,
    // and a newcomer hint is accepted again.
    take(&mut receiver, 6);
    assert_eq!(sender.enqueue(Job::Hint(104)), backoff);
    assert_eq!(sender.enqueue(Job::Hint(105)), Unreliable::Rejected);
    take(&mut receiver, 5);
    assert!(receiver.try_recv().is_err());
    assert_eq!(
        got,
        ["r0", "r1", "r2", "r3", "r4", "r5", "h100", "r6", "h101", "r7", "h104"]
    );
    assert_eq!(receiver.stats().rejected, 3);
}

/// A message that records its drops in a shared table, one counter per id.
struct Tracked {
    id: usize,
    tick: bool,
    drops: Arc<Vec<AtomicUsize>>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Ordering::Relaxed);
    }
}

impl UnreliablePolicy for Tracked {
    type Overflow = VecDeque<Tracked>;
    fn handle(overflow: &mut VecDeque<Tracked>, msg: Tracked) -> bool {
        // Ticks: newest 3 retained. Others: at most 5 retained, refused beyond.
        if msg.tick {
            policies::drop_oldest_where(overflow, msg, 3, |m| m.tick);
            true
        } else {
            policies::capped_where(overflow, msg, 5, |m| !m.tick)
        }
    }
}

#[test]
fn every_evicted_or_refused_message_is_dropped_exactly_once() {
    const N: usize = 2_000;
    let drops: Arc<Vec<AtomicUsize>> = Arc::new((0..N).map(|_| AtomicUsize::new(0)).collect());
    let is_tick = |id: usize| id % 7 < 4; // a mixed, irregular pattern of kinds
    let (sender, mut receiver) = mailbox::new_unreliable::<Tracked>(cap(2));
    let (mut delivered, mut rejected) = (Vec::new(), Vec::new());
    let mut take = |receiver: &mut mailbox::UnreliableReceiver<Tracked>| {
        let m = receiver.try_recv().ok()?;
        assert_eq!(
            drops[m.id].load(Ordering::Relaxed),
            0,
            "delivered, so not dropped"
        );
        delivered.push(m.id);
        Some(())
    };
    for id in 0..N {
        let msg = Tracked {
            id,
            tick: is_tick(id),
            drops: Arc::clone(&drops),
        };
        match sender.enqueue(msg) {
            Unreliable::Rejected => {
                assert!(!is_tick(id), "ticks are evicted, never refused");
                assert_eq!(
                    drops[id].load(Ordering::Relaxed),
                    1,
                    "refused: dropped at once"
                );
                rejected.push(id);
            }
            Unreliable::Outcome(feedback) => assert!(feedback.accepted()),
        }
        // At no time do ready (2), retained ticks (3) and other retained messages (5) exceed
        // their limits.
        assert!(receiver.len() <= 2 + 3 + 5);
        if id % 13 == 0 {
            // Receive in uneven gulps.
            for _ in 0..3 {
                take(&mut receiver);
            }
        }
    }
    assert_eq!(receiver.stats().rejected, rejected.len() as u64);
    while take(&mut receiver).is_some() {}
    assert!(
        delivered.windows(2).all(|w| w[0] < w[1]),
        "one sender's order is kept"
    );
    // Whatever was not delivered was dropped by a policy, exactly once, before the drain:
    // requests only by refusal, ticks only by eviction.
    let mut evicted = 0;
    for id in 0..N {
        if delivered.binary_search(&id).is_err() {
            assert_eq!(
                drops[id].load(Ordering::Relaxed),
                1,
                "message {id} dropped once"
            );
            if is_tick(id) {
                evicted += 1;
            } else {
                assert!(rejected.contains(&id), "request {id} was never evicted");
            }
        }
    }
    assert!(
        evicted > 0 && !rejected.is_empty(),
        "both policies were exercised"
    );
    drop((sender, receiver));
    for (id, d) in drops.iter().enumerate() {
        assert_eq!(
            d.load(Ordering::Relaxed),
            1,
            "message {id} dropped exactly once"
        );
    }
}

#[test]
fn drop_oldest_where_edge_cases() {
    let even = |m: &i32| m % 2 == 0;
    // max == 0: no message of the kind is kept, the newcomer included.
    let mut overflow = VecDeque::from([1, 2, 3, 4]);
    policies::drop_oldest_where(&mut overflow, 6, 0, even);
    assert_eq!(overflow, [1, 3]);
    // A newcomer not of the kind is kept like a spill and evicts nothing.
    let mut overflow = VecDeque::from([2, 4]);
    policies::drop_oldest_where(&mut overflow, 5, 2, even);
    assert_eq!(overflow, [2, 4, 5]);
    // Retained messages of the kind beyond `max` (spilled earlier) are trimmed, oldest first.
    let mut overflow = VecDeque::from([2, 1, 4, 6, 3]);
    policies::drop_oldest_where(&mut overflow, 8, 2, even);
    assert_eq!(overflow, [1, 6, 3, 8]);
    // Empty overflow.
    let mut overflow = VecDeque::new();
    policies::drop_oldest_where(&mut overflow, 2, 1, even);
    assert_eq!(overflow, [2]);
}

#[test]
fn capped_where_edge_cases() {
    let even = |m: &i32| m % 2 == 0;
    // max == 0 refuses every newcomer of the kind, even into an empty overflow.
    let mut overflow = VecDeque::new();
    assert!(!policies::capped_where(&mut overflow, 2, 0, even));
    assert!(overflow.is_empty());
    // A newcomer not of the kind is not subject to the cap.
    let mut overflow = VecDeque::from([2, 4]);
    assert!(policies::capped_where(&mut overflow, 5, 2, even));
    assert!(!policies::capped_where(&mut overflow, 6, 2, even));
    assert_eq!(overflow, [2, 4, 5]);
    // The whole-overflow `capped` would have refused the odd newcomer: the difference.
    let mut overflow = VecDeque::from([2, 4]);
    assert!(!policies::capped(&mut overflow, 5, 2));
}

proptest! {
    /// Against a model written from the definition: after `drop_oldest_where`, the messages
    /// not of the kind are exactly the ones before (same order), and those of the kind are the
    /// newest `max` of (retained of the kind + newcomer); `capped_where` changes nothing but
    /// appending the newcomer, which it does exactly when fewer than `max` of its kind (or it
    /// is not of the kind).
    #[test]
    fn the_where_blocks_match_their_definition(
        ops in proptest::collection::vec((0u8..3, any::<bool>(), 0usize..4), 0..60)
    ) {
        let mut overflow: VecDeque<(u8, usize)> = VecDeque::new();
        for (step, (kind, evict, max)) in ops.into_iter().enumerate() {
            let newcomer = (kind, step);
            let of_kind = |m: &(u8, usize)| m.0 == kind;
            let before: Vec<_> = overflow.iter().copied().collect();
            let others: Vec<_> = before.iter().copied().filter(|m| !of_kind(m)).collect();
            let mut same: Vec<_> = before.iter().copied().filter(of_kind).collect();
            if evict {
                policies::drop_oldest_where(&mut overflow, newcomer, max, of_kind);
                same.push(newcomer);
                let keep_from = same.len().saturating_sub(max);
                let after: Vec<_> = overflow.iter().copied().collect();
                let after_others: Vec<_> = after.iter().copied().filter(|m| !of_kind(m)).collect();
                let after_same: Vec<_> = after.iter().copied().filter(of_kind).collect();
                prop_assert_eq!(after_others, others);
                prop_assert_eq!(after_same, same[keep_from..].to_vec());
                // Relative order of everything kept is the order it arrived in.
                prop_assert!(after.windows(2).all(|w| w[0].1 < w[1].1));
            } else {
                let accepted = policies::capped_where(&mut overflow, newcomer, max, of_kind);
                prop_assert_eq!(accepted, same.len() < max);
                let mut expected = before.clone();
                if accepted {
                    expected.push(newcomer);
                }
                prop_assert_eq!(overflow.iter().copied().collect::<Vec<_>>(), expected);
            }
        }
    }
}

/// `Backoff` hides what the policy did (`drop_newest` at capacity 1 answered
/// `Backoff`, `accepted()` true, `Stats {backoff: 1, rejected: 0}`, and the message was gone).
/// `Stats::dropped` counts what the ready-made building blocks discarded; a refusal the policy
/// returns as its rejection is counted once, in `rejected`; drops outside a mailbox, or by a
/// hand-written policy, are not attributed to it.
#[test]
fn stats_count_what_the_ready_made_policies_dropped() {
    /// Which building block handles the message is chosen by its first field; the second
    /// only tells messages apart.
    #[allow(dead_code)]
    struct Chosen(u8, u32);
    impl Policy for Chosen {
        type Overflow = VecDeque<Chosen>;
        fn handle(overflow: &mut VecDeque<Chosen>, message: Chosen) {
            match message.0 {
                0 => policies::drop_newest(overflow, message),
                1 => policies::drop_oldest(overflow, message, 2),
                2 => policies::drop_oldest_where(overflow, message, 1, |m| m.0 == 2),
                3 => {
                    let _ = policies::capped(overflow, message, 3); // refusal ignored
                }
                _ => {
                    let _dropped_by_hand = message; // not seen
                }
            }
        }
    }
    impl UnreliablePolicy for Chosen {
        type Overflow = VecDeque<Chosen>;
        fn handle(overflow: &mut VecDeque<Chosen>, message: Chosen) -> bool {
            match message.0 {
                0 => {
                    policies::drop_newest(overflow, message);
                    true
                }
                _ => policies::capped_where(overflow, message, 1, |m| m.0 == 3),
            }
        }
    }

    let (sender, mut receiver) = mailbox::new::<Chosen>(cap(1));
    assert_eq!(sender.enqueue(Chosen(0, 0)), Feedback::Ok);
    assert_eq!(sender.enqueue(Chosen(0, 1)), Feedback::Backoff); // dropped
    let stats = sender.stats();
    assert_eq!((stats.backoff, stats.rejected, stats.dropped), (1, 0, 1));
    for i in 0..4 {
        let _ = sender.enqueue(Chosen(1, i)); // keeps the newest 2: evicts 2
    }
    assert_eq!(sender.stats().dropped, 3);
    for i in 0..3 {
        let _ = sender.enqueue(Chosen(2, i)); // keeps 1 of kind 2: evicts 2
    }
    assert_eq!(sender.stats().dropped, 5);
    let _ = sender.enqueue(Chosen(3, 0)); // 3 retained already: refused, ignored
    assert_eq!(sender.stats().dropped, 6);
    let _ = sender.enqueue(Chosen(9, 0)); // a hand-written drop
    assert_eq!(sender.stats().dropped, 6);
    // Outside a mailbox: counted nowhere, and not by the next enqueue.
    policies::drop_newest(&mut VecDeque::new(), Chosen(0, 0));
    let _ = sender.enqueue(Chosen(1, 9)); // 4 retained, of every kind: evicts 2
    let stats = receiver.stats();
    assert_eq!((stats.backoff, stats.rejected, stats.dropped), (11, 0, 8));
    while receiver.try_recv().is_ok() {}

    let (sender, _receiver) = mailbox::new_unreliable::<Chosen>(cap(1));
    assert_eq!(
        sender.enqueue(Chosen(0, 0)),
        Unreliable::Outcome(Feedback::Ok)
    );
    assert!(sender.enqueue(Chosen(0, 1)).accepted()); // dropped by drop_newest
    assert!(sender.enqueue(Chosen(3, 0)).accepted()); // retained
    assert_eq!(sender.enqueue(Chosen(3, 1)), Unreliable::Rejected); // refused, returned
    let stats = sender.stats();
    assert_eq!((stats.backoff, stats.rejected, stats.dropped), (2, 1, 1));
}

#[test]
fn a_panicking_policy_propagates_and_leaves_the_mailbox_usable() {
    struct Fragile {
        explode: bool,
        drops: Arc<AtomicUsize>,
    }
    impl Drop for Fragile {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }
    impl Policy for Fragile {
        type Overflow = VecDeque<Fragile>;
        fn handle(overflow: &mut VecDeque<Fragile>, message: Fragile) {
            if message.explode {
                panic!("policy refuses");
            }
            overflow.push_back(message);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let make = |explode| Fragile {
        explode,
        drops: Arc::clone(&drops),
    };
    let (sender, mut receiver) = mailbox::new::<Fragile>(cap(1));
    assert_eq!(sender.enqueue(make(false)), Feedback::Ok);
    assert_eq!(sender.enqueue(make(false)), Feedback::Backoff);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = sender.enqueue(make(true));
    }));
    assert!(panicked.is_err(), "the policy's panic reaches the sender");
    assert_eq!(
        drops.load(Ordering::Relaxed),
        1,
        "the panicking message dropped once"
    );
    assert_eq!(
        sender.enqueue(make(false)),
        Feedback::Backoff,
        "still usable"
    );
    assert_eq!(receiver.len(), 3);
    for _ in 0..3 {
        assert!(receiver.try_recv().is_ok());
    }
    assert_eq!(drops.load(Ordering::Relaxed), 4);
    drop((sender, receiver));
    assert_eq!(drops.load(Ordering::Relaxed), 4, "nothing dropped twice");
}
