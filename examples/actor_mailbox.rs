//! An actor on tokio fed by a mailbox whose message type spills requests, replaces state
//! updates, keeps only the newest ticks and rejects hints, reporting `Feedback` and `Stats`.
//! One message type mixes four policies, so the ones that count or evict (ticks, hints) use
//! the kind-filtered `drop_oldest_where` / `capped_where`: a burst of ticks or hints never
//! evicts or refuses a request.
//!
//! Run: `cargo run --example actor_mailbox`. It checks its own result: every request is
//! served exactly once and in order, the actor ends on the newest state of every key, ticks
//! arrive in order and the newest one always arrives, and the rejected hints are exactly the
//! ones the senders were told were rejected.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::time::Duration;

use conflux::mailbox::{self, policies, Feedback, UnreliablePolicy};
use conflux::Unreliable;

#[derive(Debug)]
enum Msg {
    /// Work that must be done: kept however many pile up.
    Request(u64),
    /// The newest value per key is all that matters: replaces a retained update in place.
    State { key: u8, value: u64 },
    /// Only the newest 2 waiting ticks matter: older retained ticks are evicted.
    Tick(u64),
    /// Best effort: refused once 4 hints wait in overflow (other kinds do not count).
    Hint(u64),
}

fn is_tick(msg: &Msg) -> bool {
    matches!(msg, Msg::Tick(_))
}

fn is_hint(msg: &Msg) -> bool {
    matches!(msg, Msg::Hint(_))
}

impl UnreliablePolicy for Msg {
    type Overflow = VecDeque<Msg>;
    fn handle(overflow: &mut VecDeque<Msg>, msg: Msg) -> bool {
        match msg {
            Msg::Request(_) => {
                policies::spill(overflow, msg);
                true
            }
            Msg::State { .. } => {
                policies::replace(overflow, msg, |old, new| match (old, new) {
                    (Msg::State { key: a, .. }, Msg::State { key: b, .. }) => a == b,
                    _ => false,
                });
                true
            }
            Msg::Tick(_) => {
                policies::drop_oldest_where(overflow, msg, 2, is_tick);
                true
            }
            Msg::Hint(_) => policies::capped_where(overflow, msg, 4, is_hint),
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (sender, mut receiver) = mailbox::new_unreliable::<Msg>(NonZeroUsize::new(8).unwrap());

    // The actor: serves requests, tracks state, takes hints; ends when every sender is gone.
    let actor = tokio::spawn(async move {
        let (mut served, mut state, mut ticks, mut hints) =
            (Vec::new(), [0u64; 4], Vec::new(), 0u64);
        while let Some(msg) = receiver.recv().await {
            match msg {
                Msg::Request(id) => {
                    served.push(id);
                    tokio::time::sleep(Duration::from_micros(50)).await; // slower than senders
                }
                Msg::State { key, value } => state[usize::from(key)] = value,
                Msg::Tick(t) => ticks.push(t),
                Msg::Hint(id) => {
                    assert!(id < 200);
                    hints += 1;
                }
            }
        }
        (served, state, ticks, hints, receiver.stats())
    });

    // A burst from one sender, faster than the actor: the mailbox absorbs it by policy.
    let (mut ok, mut backoff, mut rejected) = (0, 0, 0);
    let mut tally = |answer: Unreliable<Feedback>| match answer {
        Unreliable::Outcome(Feedback::Ok) => ok += 1,
        Unreliable::Outcome(Feedback::Backoff) => backoff += 1,
        Unreliable::Rejected => rejected += 1,
        Unreliable::Outcome(Feedback::Closed) => panic!("the actor stopped early"),
    };
    let mut last_state = [0u64; 4];
    for i in 0..200u64 {
        tally(sender.enqueue(Msg::Request(i)));
        let key = (i % 4) as u8;
        last_state[usize::from(key)] = i;
        tally(sender.enqueue(Msg::State { key, value: i }));
        tally(sender.enqueue(Msg::Tick(i)));
        tally(sender.enqueue(Msg::Hint(i)));
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(1)).await; // bursts, with gaps
        }
    }
    drop(sender);

    let (served, state, ticks, hints, stats) = actor.await.unwrap();
    assert_eq!(
        served,
        (0..200).collect::<Vec<_>>(),
        "every request once, in order"
    );
    assert_eq!(state, last_state, "the newest state of every key");
    assert!(ticks.windows(2).all(|w| w[0] < w[1]), "ticks in order");
    assert_eq!(ticks.last(), Some(&199), "the newest tick is never evicted");
    assert_eq!(
        hints + rejected,
        200,
        "each hint either delivered or reported rejected"
    );
    assert_eq!(stats.backoff, backoff);
    assert_eq!(stats.rejected, rejected);
    println!(
        "800 messages: {ok} Ok, {backoff} Backoff, {rejected} Rejected; actor served 200 requests \
         in order, saw the newest state of 4 keys, {} of 200 ticks, took {hints} hints; \
         stats {stats:?}",
        ticks.len()
    );
}
