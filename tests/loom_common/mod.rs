//! Scaffolding shared by the loom model files that `mod loom_common;` it (a subdirectory, so
//! cargo does not build it as a test crate of its own): the model runner and, for the mailbox
//! models, a capacity of one and a message that counts its drops. Not every including file
//! uses every item.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::num::NonZeroUsize;

use conflux::mailbox::{policies, Policy};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;

/// Runs `f` under loom with at most `default_bound` preemptions per execution, unless
/// `LOOM_MAX_PREEMPTIONS` sets another bound (`scripts/loom.sh`).
pub fn model_with_bound(default_bound: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(default_bound);
    }
    builder.check(f);
}

pub fn one() -> NonZeroUsize {
    NonZeroUsize::new(1).unwrap()
}

/// A message (its value, and a drop counter): every message must be dropped exactly once.
/// Its policy spills.
pub struct Counted(pub u8, pub Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::Relaxed);
    }
}

impl Policy for Counted {
    type Overflow = VecDeque<Counted>;
    fn handle(overflow: &mut VecDeque<Counted>, message: Counted) {
        policies::spill(overflow, message);
    }
}
