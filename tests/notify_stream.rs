//! `notify::Receiver` as a `futures_core::Stream<Item = Token>`: FIFO, conflation, the end at
//! disconnection, use inside `tokio::spawn` on a multi-thread runtime, and mixing the stream
//! with the other receives.
#![cfg(not(loom))]

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use conflux::notify::{event_channel, Events, Receiver, Token, TryRecvError};
use futures_core::Stream;

async fn next(receiver: &mut Receiver) -> Option<Token> {
    poll_fn(|cx| Pin::new(&mut *receiver).poll_next(cx)).await
}

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

fn poll_once(receiver: &mut Receiver) -> Poll<Option<Token>> {
    let waker = Waker::from(Arc::new(Noop));
    Pin::new(receiver).poll_next(&mut Context::from_waker(&waker))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn the_stream_yields_conflated_tokens_in_fifo_order_then_ends() {
    let (sender, mut receiver) = event_channel(8);
    for i in [4, 2, 4, 7, 2] {
        sender.notify(Token::new(i)).unwrap();
    }
    assert_eq!(poll_once(&mut receiver), Poll::Ready(Some(Token::new(4))));
    assert_eq!(poll_once(&mut receiver), Poll::Ready(Some(Token::new(2))));
    assert_eq!(poll_once(&mut receiver), Poll::Ready(Some(Token::new(7))));
    assert_eq!(poll_once(&mut receiver), Poll::Pending);
    sender.notify(Token::new(4)).unwrap(); // delivered earlier: pending again
    drop(sender);
    assert_eq!(poll_once(&mut receiver), Poll::Ready(Some(Token::new(4))));
    assert_eq!(poll_once(&mut receiver), Poll::Ready(None));
    assert_eq!(poll_once(&mut receiver), Poll::Ready(None), "stays ended");
}

#[test]
fn the_stream_holds_nothing_back_from_try_recv() {
    let (sender, mut receiver) = event_channel(8);
    for i in 0..4 {
        sender.notify(Token::new(i)).unwrap();
    }
    assert_eq!(poll_once(&mut receiver), Poll::Ready(Some(Token::new(0))));
    let mut events = Events::with_capacity(8);
    receiver.try_recv_limit(&mut events, 2).unwrap();
    assert_eq!(events.as_slice(), &[Token::new(1), Token::new(2)]);
    assert_eq!(poll_once(&mut receiver), Poll::Ready(Some(Token::new(3))));
    assert_eq!(receiver.try_recv(&mut events), Err(TryRecvError::Empty));
}

#[test]
fn the_stream_runs_inside_tokio_spawn_on_a_multi_thread_runtime() {
    const PRODUCERS: usize = 3;
    const EACH: usize = 200;
    runtime().block_on(async {
        let (sender, mut receiver) = event_channel(PRODUCERS * EACH);
        let consumer = tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(token) = next(&mut receiver).await {
                seen.push(token.index());
            }
            seen
        });
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let sender = sender.clone();
                std::thread::spawn(move || {
                    for k in 0..EACH {
                        sender.notify(Token::new(p * EACH + k)).unwrap();
                        if k % 50 == 0 {
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        }
                    }
                })
            })
            .collect();
        drop(sender);
        for producer in producers {
            producer.join().unwrap();
        }
        let seen = consumer.await.unwrap();
        // Every token once (each was notified once), and each producer's order kept.
        assert_eq!(seen.len(), PRODUCERS * EACH);
        for p in 0..PRODUCERS {
            let mine: Vec<usize> = seen.iter().copied().filter(|&t| t / EACH == p).collect();
            assert_eq!(mine, (p * EACH..(p + 1) * EACH).collect::<Vec<_>>());
        }
    });
}

#[test]
fn an_awaiting_stream_is_woken_by_the_last_senders_drop() {
    runtime().block_on(async {
        let (sender, mut receiver) = event_channel(2);
        let consumer = tokio::spawn(async move { next(&mut receiver).await });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        drop(sender);
        assert_eq!(consumer.await.unwrap(), None);
    });
}

#[test]
fn the_receiver_is_a_send_unpin_stream() {
    fn assert_stream<S: Stream<Item = Token> + Send + Unpin + 'static>(_: &S) {}
    let (_sender, receiver) = event_channel(1);
    assert_stream(&receiver);
}

/// `FusedStream`, so the stream can sit in `futures::select!`:
/// `is_terminated` turns true exactly when the stream has returned `None` (after the last
/// sender's drop, or after `close` once the pending tokens are out).
#[test]
fn the_stream_is_fused_once_it_has_ended() {
    use futures_core::FusedStream;
    fn assert_fused<S: FusedStream>(_: &S) {}
    for by_close in [false, true] {
        let (sender, mut receiver) = event_channel(4);
        assert_fused(&receiver);
        sender.notify(Token::new(1)).unwrap();
        if by_close {
            receiver.close();
        } else {
            drop(sender.clone());
        }
        assert!(!receiver.is_terminated());
        assert_eq!(poll_once(&mut receiver), Poll::Ready(Some(Token::new(1))));
        assert!(!receiver.is_terminated());
        if !by_close {
            assert!(poll_once(&mut receiver).is_pending());
            drop(sender);
        }
        assert_eq!(poll_once(&mut receiver), Poll::Ready(None));
        assert!(receiver.is_terminated());
        assert_eq!(poll_once(&mut receiver), Poll::Ready(None));
        assert!(receiver.is_terminated());
    }
}
