//! A crew of threads for the search's many short parallel rounds.
//!
//! The optimal search evaluates a few nodes at a time (the midpoints of the
//! paths it bisects, a batch of candidates), in hundreds of rounds of well
//! under a millisecond each. A thread pool whose idle threads go to sleep
//! loses much of each round to waking them. The crew's helpers instead wait
//! for the next round by spinning (yielding to the scheduler between
//! checks, so that an oversubscribed machine is not starved), and take the
//! round's items one at a time as they become free. They exist for one
//! search: [`with_crew`] starts them (as jobs on rayon's pool) and stops
//! them when it returns.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// One round's work: called with each item index.
type Job<'env> = Arc<dyn Fn(usize) + Send + Sync + 'env>;

/// Work a helper may do once a round has no items left for it.
pub(crate) type Spare<'env> = Arc<dyn Fn() + Send + Sync + 'env>;

/// Spins between checks before a helper yields its core.
const SPINS: u32 = 64;

/// Spins (yielding now and then) until `ready`.
pub(crate) fn wait(ready: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !ready() {
        spins += 1;
        if spins < SPINS {
            std::hint::spin_loop();
        } else {
            spins = 0;
            thread::yield_now();
        }
    }
}

/// What the caller and the helpers share.
struct Shared<'env> {
    /// Incremented when a round starts (and once more to stop).
    epoch: AtomicU64,
    stop: AtomicBool,
    job: Mutex<Option<Job<'env>>>,
    spare: Mutex<Option<Spare<'env>>>,
    items: AtomicUsize,
    next: AtomicUsize,
    done: AtomicUsize,
    /// Helpers holding the round's job.
    busy: AtomicUsize,
    /// The first panic of a helper's item, re-raised by the caller.
    panic: Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

impl<'env> Shared<'env> {
    /// Takes items until none are left.
    fn work(&self, job: &Job<'env>) {
        let items = self.items.load(Ordering::SeqCst);
        loop {
            let i = self.next.fetch_add(1, Ordering::SeqCst);
            if i >= items {
                return;
            }
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| job(i))) {
                self.panic.lock().expect("crew lock").get_or_insert(panic);
            }
            self.done.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A helper: waits for each new round and works on it.
    fn help(&self) {
        let mut seen = 0u64;
        loop {
            wait(|| self.epoch.load(Ordering::SeqCst) != seen);
            seen = self.epoch.load(Ordering::SeqCst);
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            self.busy.fetch_add(1, Ordering::SeqCst);
            let job = self.job.lock().expect("crew lock").clone();
            let mut spare = None;
            if let Some(job) = job {
                self.work(&job);
                if self.done.load(Ordering::SeqCst) < self.items.load(Ordering::SeqCst) {
                    spare = self.spare.lock().expect("crew lock").clone();
                }
            }
            self.busy.fetch_sub(1, Ordering::SeqCst);
            // (After letting go of the round: the caller does not wait for it.)
            if let Some(spare) = spare
                && let Err(panic) = catch_unwind(AssertUnwindSafe(|| spare()))
            {
                self.panic.lock().expect("crew lock").get_or_insert(panic);
            }
        }
    }
}

/// The handle through which a search runs its parallel rounds.
pub(crate) struct Crew<'a, 'env> {
    shared: &'a Shared<'env>,
    helpers: usize,
}

impl<'env> Crew<'_, 'env> {
    /// The threads in the crew, the caller's included.
    pub(crate) fn threads(&self) -> usize {
        self.helpers + 1
    }

    /// `f` applied to every item, in parallel over the crew; the results in
    /// item order.
    pub(crate) fn map<T, U>(&self, items: &[T], f: impl Fn(&T) -> U + Send + Sync + 'env) -> Vec<U>
    where
        T: Clone + Send + Sync + 'env,
        U: Send + 'env,
    {
        self.map_with_spare(items, f, None)
    }

    /// [`Crew::map`], with `spare` work for a helper that finds no item
    /// left while others are still at theirs (it may still be at it when
    /// the next round starts: the caller does not wait for it).
    pub(crate) fn map_with_spare<T, U>(
        &self,
        items: &[T],
        f: impl Fn(&T) -> U + Send + Sync + 'env,
        spare: Option<Spare<'env>>,
    ) -> Vec<U>
    where
        T: Clone + Send + Sync + 'env,
        U: Send + 'env,
    {
        // (A round of one item goes through the helpers when there is
        // spare work for them.)
        let alone = if spare.is_some() { 1 } else { 2 };
        *self.shared.spare.lock().expect("crew lock") = spare;
        if self.helpers == 0 || items.len() < alone {
            return items.iter().map(f).collect();
        }
        let results: Arc<Vec<Mutex<Option<U>>>> =
            Arc::new(items.iter().map(|_| Mutex::new(None)).collect());
        let owned: Vec<T> = items.to_vec();
        let slots = Arc::clone(&results);
        let job: Job<'env> = Arc::new(move |i: usize| {
            let value = f(&owned[i]);
            *slots[i].lock().expect("crew lock") = Some(value);
        });
        let shared = self.shared;
        shared.items.store(items.len(), Ordering::SeqCst);
        shared.next.store(0, Ordering::SeqCst);
        shared.done.store(0, Ordering::SeqCst);
        *shared.job.lock().expect("crew lock") = Some(Arc::clone(&job));
        shared.epoch.fetch_add(1, Ordering::SeqCst);
        shared.work(&job);
        // Wait for the items the helpers took, then for the helpers to let
        // go of the job (a helper that takes it later finds none).
        wait(|| shared.done.load(Ordering::SeqCst) >= items.len());
        *shared.job.lock().expect("crew lock") = None;
        wait(|| shared.busy.load(Ordering::SeqCst) == 0);
        drop(job);
        if let Some(panic) = shared.panic.lock().expect("crew lock").take() {
            resume_unwind(panic);
        }
        let results = Arc::try_unwrap(results)
            .unwrap_or_else(|_| unreachable!("every helper has dropped the round's job"));
        results
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .expect("crew lock")
                    .expect("every item was run")
            })
            .collect()
    }
}

/// Runs `f` with a crew of `threads` threads in all (the caller and up to
/// `threads - 1` helpers), stopping the helpers when `f` returns.
pub(crate) fn with_crew<'env, R>(threads: usize, f: impl FnOnce(&Crew<'_, 'env>) -> R) -> R {
    let shared = Shared {
        epoch: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        job: Mutex::new(None),
        spare: Mutex::new(None),
        items: AtomicUsize::new(0),
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        busy: AtomicUsize::new(0),
        panic: Mutex::new(None),
    };
    let helpers = threads.saturating_sub(1);
    // The helpers are jobs of the rayon pool: its idle threads take them
    // (keeping their scratch buffers from one search to the next). Should
    // none be free, the caller still does every item itself.
    rayon::in_place_scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|_| shared.help());
        }
        // Stop the helpers however `f` ends.
        struct Stop<'a, 'env>(&'a Shared<'env>);
        impl Drop for Stop<'_, '_> {
            fn drop(&mut self) {
                self.0.stop.store(true, Ordering::SeqCst);
                self.0.epoch.fetch_add(1, Ordering::SeqCst);
            }
        }
        let _stop = Stop(&shared);
        f(&Crew {
            shared: &shared,
            helpers,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_item_in_order_over_many_rounds() {
        let offset = 7u64;
        for threads in [1, 2, 4] {
            with_crew(threads, |crew| {
                for round in 0..200u64 {
                    let items: Vec<u64> = (0..(round % 13)).collect();
                    let got = crew.map(&items, move |&x| x * x + offset + round);
                    let expected: Vec<u64> =
                        items.iter().map(|&x| x * x + offset + round).collect();
                    assert_eq!(got, expected, "{threads} threads, round {round}");
                }
            });
        }
    }

    /// A helper without an item does the round's spare work while the
    /// caller is still at its item (which waits to see it done), and the
    /// results stay in item order; a crew of one never does spare work.
    /// (In a round whose one item the helper takes first, the caller has
    /// none and no one spares: only rounds whose item ran on the caller
    /// are checked, and there must be some.)
    #[test]
    fn spare_work_runs_on_a_free_helper_during_the_round() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        pool.install(|| {
            let spared = Arc::new(AtomicUsize::new(0));
            let caller = thread::current().id();
            let mut checked = 0;
            with_crew(2, |crew| {
                for round in 0..40usize {
                    let before = spared.load(Ordering::SeqCst);
                    let seen = Arc::clone(&spared);
                    let spare: Spare<'_> = {
                        let spared = Arc::clone(&spared);
                        Arc::new(move || {
                            spared.fetch_add(1, Ordering::SeqCst);
                        })
                    };
                    let got = crew.map_with_spare(
                        &[round],
                        move |&x: &usize| {
                            let on_caller = thread::current().id() == caller;
                            let start = std::time::Instant::now();
                            while on_caller
                                && seen.load(Ordering::SeqCst) == before
                                && start.elapsed() < std::time::Duration::from_secs(10)
                            {
                                thread::yield_now();
                            }
                            (x * 3, on_caller)
                        },
                        Some(spare),
                    );
                    assert_eq!(got[0].0, round * 3);
                    if got[0].1 {
                        checked += 1;
                        assert!(spared.load(Ordering::SeqCst) > before, "round {round}");
                    }
                }
            });
            assert!(checked > 0);
            let alone = Arc::new(AtomicUsize::new(0));
            with_crew(1, |crew| {
                let counter = Arc::clone(&alone);
                let spare: Spare<'_> = Arc::new(move || {
                    counter.fetch_add(1, Ordering::SeqCst);
                });
                assert_eq!(
                    crew.map_with_spare(&[1, 2, 3], |&x| x + 1, Some(spare)),
                    vec![2, 3, 4]
                );
            });
            assert_eq!(alone.load(Ordering::SeqCst), 0);
        });
    }

    #[test]
    fn a_panicking_item_reaches_the_caller_and_the_helpers_stop() {
        let result = catch_unwind(|| {
            with_crew(2, |crew| {
                crew.map(&[1, 2, 3, 4], |&x: &i32| {
                    assert_ne!(x, 3, "item three");
                    x
                })
            })
        });
        assert!(result.is_err());
    }
}
