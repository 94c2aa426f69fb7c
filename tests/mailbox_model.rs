//! Property test: random enqueue / try_recv / try_recv_many sequences on a mailbox whose message type spills,
//! replaces and rejects, checked result for result against a sequential model (a `VecDeque`
//! for `ready` and the same policy on a model overflow).
#![cfg(not(loom))]

use std::collections::VecDeque;
use std::num::NonZeroUsize;

use conflux::mailbox::{self, policies, Feedback, TryRecvError, UnreliablePolicy};
use conflux::Unreliable;
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq)]
enum Msg {
    /// Must be kept: spilled.
    Request(u16),
    /// Newest per key wins: replaced in place.
    State { key: u8, value: u16 },
    /// Best effort: refused once two are retained... of any kind.
    Hint(u16),
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
            Msg::Hint(_) => policies::capped(overflow, msg, 2),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Enqueue(Msg),
    TryRecv,
    /// `try_recv_many` with this limit: must be that many `try_recv`s in a row.
    TryRecvMany(usize),
    DropReceiver,
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        any::<u16>().prop_map(Msg::Request),
        (0..3u8, any::<u16>()).prop_map(|(key, value)| Msg::State { key, value }),
        any::<u16>().prop_map(Msg::Hint),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => msg().prop_map(Op::Enqueue),
        6 => Just(Op::TryRecv),
        3 => (0..7usize).prop_map(Op::TryRecvMany),
        1 => Just(Op::DropReceiver),
    ]
}

struct Model {
    capacity: usize,
    ready: VecDeque<Msg>,
    overflow: VecDeque<Msg>,
    closed: bool,
    backoff: u64,
    rejected: u64,
}

impl Model {
    fn enqueue(&mut self, msg: Msg) -> Unreliable<Feedback> {
        if self.closed {
            return Unreliable::Outcome(Feedback::Closed);
        }
        if self.overflow.is_empty() && self.ready.len() < self.capacity {
            self.ready.push_back(msg);
            return Unreliable::Outcome(Feedback::Ok);
        }
        if <Msg as UnreliablePolicy>::handle(&mut self.overflow, msg) {
            self.backoff += 1;
            Unreliable::Outcome(Feedback::Backoff)
        } else {
            self.rejected += 1;
            Unreliable::Rejected
        }
    }

    fn refill(&mut self) {
        while self.ready.len() < self.capacity {
            match self.overflow.pop_front() {
                Some(msg) => self.ready.push_back(msg),
                None => break,
            }
        }
    }

    fn try_recv(&mut self) -> Result<Msg, TryRecvError> {
        self.refill();
        let msg = self.ready.pop_front().ok_or(TryRecvError::Empty);
        self.refill();
        msg
    }

    fn try_recv_many(
        &mut self,
        buffer: &mut Vec<Msg>,
        limit: usize,
    ) -> Result<usize, TryRecvError> {
        if limit == 0 {
            return Ok(0);
        }
        let mut taken = 0;
        while taken < limit {
            match self.try_recv() {
                Ok(msg) => buffer.push(msg),
                Err(_) => break,
            }
            taken += 1;
        }
        if taken == 0 {
            Err(TryRecvError::Empty)
        } else {
            Ok(taken)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mailbox_matches_the_sequential_model(
        capacity in 1..5usize,
        ops in prop::collection::vec(op(), 1..150),
    ) {
        let (sender, receiver) =
            mailbox::new_unreliable::<Msg>(NonZeroUsize::new(capacity).unwrap());
        let mut receiver = Some(receiver);
        let mut model = Model {
            capacity,
            ready: VecDeque::new(),
            overflow: VecDeque::new(),
            closed: false,
            backoff: 0,
            rejected: 0,
        };
        for op in ops {
            match op {
                Op::Enqueue(msg) => {
                    prop_assert_eq!(sender.enqueue(msg.clone()), model.enqueue(msg));
                }
                Op::TryRecv => {
                    if let Some(receiver) = receiver.as_mut() {
                        prop_assert_eq!(receiver.try_recv(), model.try_recv());
                        prop_assert_eq!(receiver.len(), model.ready.len() + model.overflow.len());
                    }
                }
                Op::TryRecvMany(limit) => {
                    if let Some(receiver) = receiver.as_mut() {
                        let (mut got, mut expected) = (vec![Msg::Hint(0)], vec![Msg::Hint(0)]);
                        prop_assert_eq!(
                            receiver.try_recv_many(&mut got, limit),
                            model.try_recv_many(&mut expected, limit)
                        );
                        prop_assert_eq!(got, expected, "appended after what the buffer held");
                        prop_assert_eq!(receiver.len(), model.ready.len() + model.overflow.len());
                    }
                }
                Op::DropReceiver => {
                    receiver = None;
                    model.closed = true;
                    prop_assert!(sender.is_closed());
                }
            }
            let queued = if model.closed { 0 } else { model.ready.len() + model.overflow.len() };
            prop_assert_eq!(sender.len(), queued);
            let stats = sender.stats();
            prop_assert_eq!((stats.backoff, stats.rejected), (model.backoff, model.rejected));
        }
        if let Some(mut receiver) = receiver {
            drop(sender);
            let mut rest = Vec::new();
            while let Ok(msg) = receiver.try_recv() {
                rest.push(msg);
            }
            let mut expected: Vec<Msg> = model.ready.drain(..).collect();
            expected.extend(model.overflow.drain(..));
            prop_assert_eq!(rest, expected);
            prop_assert_eq!(receiver.try_recv(), Err(TryRecvError::Disconnected));
        }
    }
}
