//! loom models of `notify::Receiver` as a `Stream`: its one-token fast path (`take_one`) and
//! its fallback to the registering receive. Run with `bash scripts/loom.sh loom_notify_stream`.
#![cfg(loom)]

mod loom_common;

use std::future::poll_fn;
use std::pin::Pin;

use conflux::notify::{event_channel, Receiver, Token};
use futures_core::Stream;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    loom_common::model_with_bound(3, f);
}

fn collect(receiver: &mut Receiver) -> Vec<usize> {
    loom::future::block_on(async {
        let mut seen = Vec::new();
        while let Some(token) = poll_fn(|cx| Pin::new(&mut *receiver).poll_next(cx)).await {
            seen.push(token.index());
        }
        seen
    })
}

/// Two notifies and the last sender's drop racing the stream: both tokens come out, in order,
/// then the stream ends (never a lost wake-up: loom reports a deadlock if the task sleeps
/// through one).
#[test]
fn the_stream_delivers_in_order_then_ends() {
    model(|| {
        let (sender, mut receiver) = event_channel(2);
        let producer = thread::spawn(move || {
            sender.notify(Token::new(1)).unwrap();
            sender.notify(Token::new(0)).unwrap();
        });
        assert_eq!(collect(&mut receiver), [1, 0]);
        producer.join().unwrap();
    });
}

/// Re-notifying a token while the stream takes it: delivered once or twice (re-armed),
/// never lost, never more often than notified.
#[test]
fn the_stream_rearms_a_token_taken_concurrently() {
    model(|| {
        let (sender, mut receiver) = event_channel(1);
        let producer = thread::spawn(move || {
            sender.notify(Token::new(0)).unwrap();
            sender.notify(Token::new(0)).unwrap();
        });
        let seen = collect(&mut receiver);
        producer.join().unwrap();
        assert!(seen == [0] || seen == [0, 0], "{seen:?}");
    });
}
