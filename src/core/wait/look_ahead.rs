//! Catching up with a stream: a receiver that drained a backlog and then found nothing lets
//! the producer run ahead before it polls its own slot again.
//!
//! A receiver fed by a producer that sends as fast as it can is usually the faster of the
//! two: it takes a backlog, catches up, and its next receive finds nothing. Polling its own
//! slot again at once makes it meet the producer on the very cache line the producer is
//! writing, and every poll takes that line away from it. So such a receive first watches the
//! slot [`RUN_AHEAD`] positions on until a producer publishes there: the producer writes the
//! lines in between undisturbed, and the receiver takes the run without meeting it. The look
//! ends with the producer's own progress, not a clock, and is bounded by the run the receiver
//! just drained (8 polls per message of it, [`RUN_AHEAD_POLLS`] in all), so a burst-and-gap
//! producer's next message never waits long for a run that is not coming. BENCHMARKS.md
//! ("Waiting") has the measurements behind each number.

use crate::sync;

/// The farthest a caught-up receiver looks ahead: four cache lines of 16-byte slots (more of
/// larger ones).
pub(crate) const RUN_AHEAD: usize = 16;
/// Polls of the slot ahead allowed per receive of the run just drained.
const POLLS_PER_RUN_ITEM: u32 = 8;
/// The most polls of the slot ahead before the receiver polls its own slot again: more than
/// a streaming producer takes to publish 16 messages.
const RUN_AHEAD_POLLS: u32 = 64;

/// A receiver that found its message at once `run` times in a row, then nothing, polls
/// `published_ahead(RUN_AHEAD)` (one pause apart) until it says that item is published, at
/// most `8 run` and [`RUN_AHEAD_POLLS`] times. A `run` of 0 (the last receive waited too)
/// does nothing. It only reads.
pub(crate) fn let_the_stream_run_ahead(run: u32, published_ahead: impl Fn(usize) -> bool) {
    // loom cannot model time, and this loop only adds states to explore.
    if cfg!(loom) {
        return;
    }
    let polls = run.saturating_mul(POLLS_PER_RUN_ITEM).min(RUN_AHEAD_POLLS);
    for _ in 0..polls {
        if published_ahead(RUN_AHEAD) {
            return;
        }
        sync::retry_hint();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn the_look_ahead_is_bounded_by_the_run_it_follows() {
        let polls = |run: u32, published_at: usize| {
            let asked = Cell::new(0);
            let_the_stream_run_ahead(run, |distance| {
                assert_eq!(distance, RUN_AHEAD);
                asked.set(asked.get() + 1);
                asked.get() == published_at
            });
            asked.get()
        };
        assert_eq!(polls(0, 1), 0); // the last receive waited too: no look ahead
        assert_eq!(polls(100, 3), 3); // ends once published
                                      // Never published (a burst's end, a stream that ended): bounded by the run.
        assert_eq!(polls(1, usize::MAX), POLLS_PER_RUN_ITEM as usize);
        assert_eq!(polls(3, usize::MAX), 3 * POLLS_PER_RUN_ITEM as usize);
        assert_eq!(polls(u32::MAX, usize::MAX), RUN_AHEAD_POLLS as usize);
    }
}
