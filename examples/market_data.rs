//! Market data fan-in: I/O threads write the latest quote per instrument into shared slots and
//! notify; the strategy loop polls with a budget and always acts on the newest quote.
//!
//! Run: `cargo run --release --example market_data`. It checks its own result: the strategy
//! ends having seen every instrument's final quote, and never saw a quote go backwards.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use conflux::notify::{event_queue, Events, Token};

const INSTRUMENTS: usize = 512;
const FEEDS: usize = 2;
const TICKS_PER_FEED: u64 = 500_000;
/// At most this many instruments handled per loop iteration, so timers and orders still run.
const BUDGET: usize = 64;

fn main() {
    // The user's storage: one slot per instrument. A quote is a sequence number here; a real
    // feed would pack price and size, or use a seqlock for wider data.
    let quotes: Arc<Vec<AtomicU64>> =
        Arc::new((0..INSTRUMENTS).map(|_| AtomicU64::new(0)).collect());
    let (notifier, poller) = event_queue(INSTRUMENTS);

    // Each feed owns half the instruments and publishes ticks for them as fast as it can.
    let feeds: Vec<_> = (0..FEEDS)
        .map(|feed| {
            let (quotes, notifier) = (Arc::clone(&quotes), notifier.clone());
            thread::spawn(move || {
                let mut state = 0x2545_F491_4F6C_DD1Du64 ^ feed as u64;
                for tick in 1..=TICKS_PER_FEED {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let instrument = feed + FEEDS * (state as usize % (INSTRUMENTS / FEEDS));
                    quotes[instrument].store(tick, Ordering::Relaxed);
                    // A still-pending instrument conflates: the strategy will read the newest.
                    notifier
                        .notify(Token::new(instrument))
                        .expect("strategy is running");
                }
            })
        })
        .collect();
    drop(notifier);

    let mut events = Events::with_capacity(BUDGET);
    let mut last_seen = vec![0u64; INSTRUMENTS];
    let (mut deliveries, mut loops) = (0u64, 0u64);
    loop {
        let feeds_done = poller.is_disconnected();
        poller.poll_limit(&mut events, BUDGET);
        for token in &events {
            let quote = quotes[token.index()].load(Ordering::Relaxed);
            assert!(quote >= last_seen[token.index()], "a quote went backwards");
            last_seen[token.index()] = quote;
        }
        deliveries += events.len() as u64;
        loops += 1;
        if feeds_done && events.is_empty() {
            break;
        }
    }
    for feed in feeds {
        feed.join().unwrap();
    }

    for (instrument, quote) in quotes.iter().enumerate() {
        assert_eq!(
            last_seen[instrument],
            quote.load(Ordering::Relaxed),
            "instrument {instrument}: the final quote was never seen"
        );
    }
    let ticks = FEEDS as u64 * TICKS_PER_FEED;
    println!(
        "{ticks} ticks on {INSTRUMENTS} instruments -> {deliveries} deliveries in {loops} loop \
         iterations ({:.1}x conflation); every final quote seen",
        ticks as f64 / deliveries as f64
    );
}
