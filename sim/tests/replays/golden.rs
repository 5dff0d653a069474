//! Golden replays: (seed, input log) pairs with their outcomes pinned, so
//! that any change to what a log plays out to is noticed, and tied to
//! [`RULES_VERSION`].
//!
//! The bot logs were recorded by the scripted player under rules version 1
//! and are stored as bytes (base64url), so that a change to the bot does not
//! move them; the outcomes were pinned from a run of `replay`, and a live
//! `Round` is checked to agree.

use sim::{InputLog, Outcome, RULES_VERSION, Round, Rules, Seed, Steer, SteerChange, replay};

/// Every rules version there has been, with the fingerprint of the golden
/// outcomes under it. APPEND-ONLY.
///
/// If a change makes the golden outcomes below differ, re-pinning them is
/// not enough: `every_rules_version_names_one_behaviour` then fails until
/// `RULES_VERSION` is bumped and a new line appended here. A rules version
/// must never name two behaviours, or a server could count rounds played by
/// other rules than it thinks (and a client would fail to verify).
const RULES_HISTORY: &[(u32, u64)] = &[(1, 0x2abe_eb51_fba8_da6f)];

/// One golden case.
struct Golden {
    name: &'static str,
    seed: u64,
    log: InputLog,
    expected: Outcome,
}

fn outcome(books_caught: u32, score: u32, completed: bool, ticks: u32, hash: u64) -> Outcome {
    Outcome {
        books_caught,
        score,
        completed,
        ticks_played: ticks,
        state_hash: hash,
    }
}

fn from_base64(text: &str) -> InputLog {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).expect("a golden log")
}

/// Changes of steer at the given ticks, to the given columns.
fn hand_written(changes: &[(u32, u8)]) -> InputLog {
    let changes = changes.iter().map(|&(tick, column)| SteerChange {
        tick,
        steer: Steer::new(column).expect("a golden column"),
    });
    InputLog::from_changes(changes).expect("golden changes are in order")
}

fn goldens() -> Vec<Golden> {
    let scripted = |seed, log, expected| Golden {
        name: "scripted player",
        seed,
        log: from_base64(log),
        expected,
    };
    vec![
        scripted(
            1,
            "AR1QDT9eUAWoCLwjqhZ6C0oGCyMZEmAJryxBC3cMkSSGC3cEKQcTLU4QSBkuAnEOFQyfHqoAGBdIAzEJIwAVF4kLYwCkBKMIeAOD",
            outcome(33, 650, true, 685, 0xa424_d01c_a0c2_0b6b),
        ),
        scripted(
            2,
            "AQ-iZ1AJbRS8CmMmZBNUBCEDZB4NEEcSqAuHHGwHuAotHlcCLRKJJZMLEheDGlYEVQuDFEAHgwUjB7gNowHIArgjIRZIAiEAEhEWD00FQw6WBzg",
            outcome(32, 440, true, 716, 0x2a56_83aa_ae5b_b70e),
        ),
        scripted(
            3,
            "AQG-DbgNSw1PS74LTwlLDFwCKhTAGqMJtACrMIkHCx-DCwsJZQ91CcETqjMlDXgTjQFxMVoAqCWeF4MAcx1gBroQkApgBQoHPAllFiEAnAUh",
            outcome(30, 580, true, 701, 0xa44b_6f66_1c3a_e0f5),
        ),
        scripted(
            2019,
            "AQGpDa5eqQK_GK0NfQmOM4ANJQi9D6oSjAeZG3gDeRGKCJIukQF3HJEBbRiDDm0KuAZeCHEJOw2lDTYLEQQAARAPNRt0CnEMwQIqC3EOoA",
            outcome(30, 500, true, 656, 0xbefd_cbbf_d224_e135),
        ),
        scripted(
            5_800_000,
            "AQF1cIwXfwBjEjUikBI9FYEFewt3GpoCIwqaD3cDvBOqCiQNjgxkAhEdGQUmEAcBjg6jKjYKjQZGEKgVbCMyBbEOlwAyDTk",
            outcome(32, 400, true, 631, 0x2dc4_a162_57c0_a74c),
        ),
        Golden {
            name: "idle: the empty log",
            seed: 1,
            log: InputLog::new(),
            expected: outcome(3, 30, false, 900, 0x3d00_e09e_acc1_a17e),
        },
        Golden {
            name: "zigzag: edge to edge every 45 ticks",
            seed: 42,
            log: hand_written(
                &(0..20)
                    .map(|i| (i * 45, if i % 2 == 0 { 0 } else { 200 }))
                    .collect::<Vec<_>>(),
            ),
            expected: outcome(15, 190, false, 900, 0x2f3d_cec6_37f1_c6f1),
        },
        Golden {
            name: "left half, then right half",
            seed: 7,
            log: hand_written(&[(0, 0), (450, 200)]),
            expected: outcome(11, 110, false, 900, 0x1004_6016_2161_2b9a),
        },
    ]
}

/// Folds the golden outcomes' hashes into one number (FNV-1a style), for
/// [`RULES_HISTORY`].
fn fingerprint(outcomes: impl IntoIterator<Item = Outcome>) -> u64 {
    outcomes
        .into_iter()
        .fold(0xcbf2_9ce4_8422_2325, |fingerprint, outcome| {
            (fingerprint ^ outcome.state_hash).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

#[test]
fn golden_logs_replay_to_their_pinned_outcomes() {
    let rules = Rules::CURRENT;
    for golden in goldens() {
        let replayed = replay(Seed(golden.seed), &rules, &golden.log);
        assert_eq!(replayed, Ok(golden.expected), "{}: replay", golden.name);
    }
}

#[test]
fn golden_logs_played_live_give_the_same_outcome_and_log() {
    let rules = Rules::CURRENT;
    for golden in goldens() {
        let mut round = Round::new(Seed(golden.seed), &rules);
        let mut changes = golden.log.changes().iter().peekable();
        let mut steer = Steer::CENTRE;
        while !round.is_over() {
            if let Some(change) = changes.next_if(|change| change.tick == round.tick()) {
                steer = change.steer;
            }
            round.step(steer);
        }
        assert_eq!(
            round.outcome(),
            golden.expected,
            "{}: live play",
            golden.name
        );
        assert_eq!(
            round.input_log(),
            &golden.log,
            "{}: the same log is recorded",
            golden.name
        );
    }
}

#[test]
fn every_rules_version_names_one_behaviour() {
    let current = fingerprint(goldens().into_iter().map(|golden| golden.expected));
    let pinned = RULES_HISTORY
        .iter()
        .find(|(version, _)| *version == RULES_VERSION);
    let Some(&(_, pinned)) = pinned else {
        panic!(
            "RULES_VERSION {RULES_VERSION} is missing from RULES_HISTORY: append (version, {current:#018x})"
        );
    };
    assert_eq!(
        pinned,
        current,
        "the golden outcomes changed under RULES_VERSION {RULES_VERSION}: bump RULES_VERSION \
         and append ({}, {current:#018x}) to RULES_HISTORY",
        RULES_VERSION + 1
    );
}
