//! Fuzz the notify queue: each input byte is a notify (possibly out of range), a poll, or a
//! poll with a budget, on `event_queue` and `LocalNotify` at once, checked against a
//! sequential model (a `VecDeque` + a set) after every step.
#![no_main]

use std::collections::{HashSet, VecDeque};

use conflux::notify::{event_queue, Events, LocalNotify, NotifyError, Token};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, ops)) = data.split_first() else {
        return;
    };
    let capacity = usize::from(first % 70) + 1;
    let (notifier, poller) = event_queue(capacity);
    let mut local = LocalNotify::with_capacity(capacity);
    let (mut order, mut pending) = (VecDeque::new(), HashSet::new());
    let (mut events, mut local_events) = (Events::with_capacity(capacity), Events::default());
    for &op in ops {
        if op & 1 == 0 {
            let index = usize::from(op >> 1);
            let expected = if index >= capacity {
                Err(NotifyError::OutOfRange {
                    token: Token::new(index),
                    capacity,
                })
            } else {
                if pending.insert(index) {
                    order.push_back(index);
                }
                Ok(())
            };
            assert_eq!(notifier.notify(Token::new(index)), expected);
            assert_eq!(local.mark(Token::new(index)), expected);
        } else {
            let limit = if op & 2 == 0 {
                usize::MAX
            } else {
                usize::from(op >> 2) % 9
            };
            let take = limit.min(order.len());
            let expected: Vec<usize> = order.drain(..take).collect();
            for index in &expected {
                pending.remove(index);
            }
            poller.poll_limit(&mut events, limit);
            local.poll_limit(&mut local_events, limit);
            let got: Vec<usize> = events.iter().map(Token::index).collect();
            let got_local: Vec<usize> = local_events.iter().map(Token::index).collect();
            assert_eq!(got, expected);
            assert_eq!(got_local, expected);
        }
    }
});
