//! Fuzz the mailbox: each input byte is one operation (enqueue a request that spills, a state
//! update that replaces, or a hint that a capped policy may reject; receive; drop the
//! receiver), checked against a sequential model of `ready` + overflow after every step.
#![no_main]

use std::collections::VecDeque;
use std::num::NonZeroUsize;

use conflux::mailbox::{self, policies, Feedback, TryRecvError, UnreliablePolicy};
use conflux::Unreliable;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Clone, PartialEq)]
enum Msg {
    Request(u8),
    State { key: u8, value: u8 },
    Hint(u8),
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
            Msg::Hint(_) => policies::capped(overflow, msg, 3),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, ops)) = data.split_first() else {
        return;
    };
    let capacity = usize::from(first % 4) + 1;
    let (sender, receiver) = mailbox::new_unreliable::<Msg>(NonZeroUsize::new(capacity).unwrap());
    let mut receiver = Some(receiver);
    let (mut ready, mut overflow) = (VecDeque::new(), VecDeque::<Msg>::new());
    let mut closed = false;
    for &op in ops {
        let arg = op >> 3;
        match op & 7 {
            0..=3 => {
                let msg = match op & 3 {
                    0 | 1 => Msg::Request(arg),
                    2 => Msg::State {
                        key: arg % 3,
                        value: arg,
                    },
                    _ => Msg::Hint(arg),
                };
                let expected = if closed {
                    Unreliable::Outcome(Feedback::Closed)
                } else if overflow.is_empty() && ready.len() < capacity {
                    ready.push_back(msg.clone());
                    Unreliable::Outcome(Feedback::Ok)
                } else if <Msg as UnreliablePolicy>::handle(&mut overflow, msg.clone()) {
                    Unreliable::Outcome(Feedback::Backoff)
                } else {
                    Unreliable::Rejected
                };
                assert_eq!(sender.enqueue(msg), expected);
            }
            4..=6 => {
                if let Some(receiver) = receiver.as_mut() {
                    let refill = |ready: &mut VecDeque<Msg>, overflow: &mut VecDeque<Msg>| {
                        while ready.len() < capacity {
                            match overflow.pop_front() {
                                Some(m) => ready.push_back(m),
                                None => break,
                            }
                        }
                    };
                    refill(&mut ready, &mut overflow);
                    let expected = ready.pop_front().ok_or(TryRecvError::Empty);
                    refill(&mut ready, &mut overflow);
                    assert_eq!(receiver.try_recv(), expected);
                    assert_eq!(receiver.len(), ready.len() + overflow.len());
                }
            }
            _ => {
                receiver = None;
                closed = true;
                assert!(sender.is_closed());
            }
        }
    }
});
