//! An actor on tokio fed by a mailbox whose message type spills requests, replaces state
//! updates and rejects hints, reporting `Feedback` and `Stats`.
//!
//! Run: `cargo run --example actor_mailbox`. It checks its own result: every request is
//! served exactly once and in order, the actor ends on the newest state of every key, and
//! the rejected hints are exactly the ones the senders were told were rejected.

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
    /// Best effort: refused once 4 messages wait in overflow.
    Hint(u64),
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
            Msg::Hint(_) => policies::capped(overflow, msg, 4),
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (sender, mut receiver) = mailbox::new_unreliable::<Msg>(NonZeroUsize::new(8).unwrap());

    // The actor: serves requests, tracks state, takes hints; ends when every sender is gone.
    let actor = tokio::spawn(async move {
        let (mut served, mut state, mut hints) = (Vec::new(), [0u64; 4], 0u64);
        while let Some(msg) = receiver.recv().await {
            match msg {
                Msg::Request(id) => {
                    served.push(id);
                    tokio::time::sleep(Duration::from_micros(50)).await; // slower than senders
                }
                Msg::State { key, value } => state[usize::from(key)] = value,
                Msg::Hint(id) => {
                    assert!(id < 200);
                    hints += 1;
                }
            }
        }
        (served, state, hints, receiver.stats())
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
        tally(sender.enqueue(Msg::Hint(i)));
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(1)).await; // bursts, with gaps
        }
    }
    drop(sender);

    let (served, state, hints, stats) = actor.await.unwrap();
    assert_eq!(
        served,
        (0..200).collect::<Vec<_>>(),
        "every request once, in order"
    );
    assert_eq!(state, last_state, "the newest state of every key");
    assert_eq!(
        hints + rejected,
        200,
        "each hint either delivered or reported rejected"
    );
    assert_eq!(stats.backoff, backoff);
    assert_eq!(stats.rejected, rejected);
    println!(
        "600 messages: {ok} Ok, {backoff} Backoff, {rejected} Rejected; actor served 200 requests \
         in order, saw the newest state of 4 keys, took {hints} hints; stats {stats:?}"
    );
}
