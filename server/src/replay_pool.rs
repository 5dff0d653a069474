//! Replays on worker threads of their own, one per core.
//!
//! Replaying a round is most of the CPU of a finish. Each worker keeps one
//! [`sim::Replayer`] (its `World` and cached queries) warm across rounds,
//! where the blocking pool of the async runtime would hand replays to
//! whichever of its many threads is free, each with a cold world of its own.
//! At most one replay per core runs at a time (a semaphore), so the async
//! threads stay free to accept and answer, and a burst of finishes waits
//! in line instead of slowing every replay down.

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sim::{InputLog, Outcome, ReplayError, Replayer, Rules, Seed};
use tokio::sync::{Semaphore, oneshot};

/// One replay to run, and where its outcome goes (with the time it took).
struct Job {
    seed: Seed,
    rules: Rules,
    log: InputLog,
    reply: oneshot::Sender<(Result<Outcome, ReplayError>, Duration)>,
}

/// Why a replay did not run.
#[derive(Debug, thiserror::Error)]
#[error("the replay workers have stopped")]
pub struct PoolStopped;

/// The workers and the line to them.
#[derive(Debug)]
pub struct ReplayPool {
    jobs: mpsc::Sender<Job>,
    slots: Semaphore,
}

impl ReplayPool {
    /// Starts `workers` replay threads (at least one).
    pub fn start(workers: usize) -> std::io::Result<Self> {
        let workers = workers.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..workers {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("replay-{index}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Self {
            jobs,
            slots: Semaphore::new(workers),
        })
    }

    /// Replays `log` from `seed` under `rules` on a worker; answers the
    /// outcome and how long the replay itself took.
    pub async fn replay(
        &self,
        seed: Seed,
        rules: Rules,
        log: InputLog,
    ) -> Result<(Result<Outcome, ReplayError>, Duration), PoolStopped> {
        // The semaphore is never closed, so acquiring only waits.
        let _slot = self.slots.acquire().await;
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                seed,
                rules,
                log,
                reply,
            })
            .map_err(|_| PoolStopped)?;
        answer.await.map_err(|_| PoolStopped)
    }
}

/// A worker: takes jobs until the pool is dropped.
fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    let mut replayer = Replayer::new();
    loop {
        // Only the waiting worker holds the lock; it lets go once it has a
        // job, so the next worker waits for the next one.
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else {
            return;
        };
        let started = Instant::now();
        let outcome = replayer.replay(job.seed, &job.rules, &job.log);
        // The requester may have gone (client hung up): nothing to do then.
        let _ = job.reply.send((outcome, started.elapsed()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn replays_on_the_workers_give_the_same_outcome_as_in_place() {
        let pool = ReplayPool::start(2).expect("workers start");
        let rules = Rules::CURRENT;
        let rounds: Vec<(Seed, InputLog, Outcome)> = (1..=6)
            .map(|n| {
                let (log, outcome) = sim::bot::play_round(Seed(n), &rules);
                (Seed(n), log, outcome)
            })
            .collect();
        let replays = rounds
            .iter()
            .map(|(seed, log, _)| pool.replay(*seed, rules, log.clone()));
        let answers = futures::future::join_all(replays).await;
        for ((seed, _, played), answer) in rounds.iter().zip(answers) {
            let (replayed, _) = answer.expect("the pool runs");
            assert_eq!(
                replayed.as_ref(),
                Ok(played),
                "seed {seed:?}: the worker's replay matches the round played"
            );
        }
    }
}
