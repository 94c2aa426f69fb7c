//! Property test: random notify / poll / poll_limit sequences on `event_queue` and
//! `LocalNotify` agree, result for result, with a sequential model (a `VecDeque` + a set).
#![cfg(not(loom))]

use std::collections::{HashSet, VecDeque};

use conflux::notify::{event_queue, Events, LocalNotify, NotifyError, Token};
use proptest::prelude::*;

const CAPACITY: usize = 12;

#[derive(Debug, Clone)]
enum Op {
    /// May be out of range on purpose.
    Notify(usize),
    Poll,
    PollLimit(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..CAPACITY + 2).prop_map(Op::Notify),
        1 => Just(Op::Poll),
        2 => (0..6usize).prop_map(Op::PollLimit),
    ]
}

/// The obviously-correct sequential model.
#[derive(Default)]
struct Model {
    order: VecDeque<usize>,
    pending: HashSet<usize>,
}

impl Model {
    fn notify(&mut self, index: usize) -> Result<(), NotifyError> {
        if index >= CAPACITY {
            return Err(NotifyError::OutOfRange {
                token: Token::new(index),
                capacity: CAPACITY,
            });
        }
        if self.pending.insert(index) {
            self.order.push_back(index);
        }
        Ok(())
    }

    fn poll(&mut self, limit: usize) -> Vec<usize> {
        let take = limit.min(self.order.len());
        let taken: Vec<usize> = self.order.drain(..take).collect();
        for index in &taken {
            self.pending.remove(index);
        }
        taken
    }
}

fn indices(events: &Events) -> Vec<usize> {
    events.iter().map(Token::index).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn event_queue_matches_the_sequential_model(ops in prop::collection::vec(op(), 1..200)) {
        let (notifier, poller) = event_queue(CAPACITY);
        let mut local = LocalNotify::with_capacity(CAPACITY);
        let mut model = Model::default();
        let mut events = Events::with_capacity(CAPACITY);
        let mut local_events = Events::with_capacity(CAPACITY);
        for op in ops {
            match op {
                Op::Notify(index) => {
                    let expected = model.notify(index);
                    prop_assert_eq!(notifier.notify(Token::new(index)), expected);
                    prop_assert_eq!(local.mark(Token::new(index)), expected);
                }
                Op::Poll | Op::PollLimit(_) => {
                    let limit = match op { Op::PollLimit(limit) => limit, _ => usize::MAX };
                    let expected = model.poll(limit);
                    poller.poll_limit(&mut events, limit);
                    local.poll_limit(&mut local_events, limit);
                    prop_assert_eq!(indices(&events), expected.clone());
                    prop_assert_eq!(indices(&local_events), expected);
                    prop_assert_eq!(local.len(), model.order.len());
                }
            }
        }
        // Whatever is left comes out, in order, exactly once.
        let rest = model.poll(usize::MAX);
        poller.poll(&mut events);
        prop_assert_eq!(indices(&events), rest);
        poller.poll(&mut events);
        prop_assert!(events.is_empty());
    }
}
