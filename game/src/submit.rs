//! Getting every finished round counted: a completed round goes into the
//! [`Outbox`] before its first send, is retried with growing pauses while
//! the network fails, and is sent again on the next visit if the tab closes
//! first. It leaves the outbox only when the server has answered for it.

use std::collections::HashMap;
use std::time::Duration;

use bevy::prelude::*;
use sim::wire::FinishRoundRequest;

use crate::bridge::{PageEvent, tell_page};
use crate::net::{NetReply, Network};
use crate::outbox::{Outbox, PendingFinish};
use crate::play::{ActiveRound, RoundOver};
use crate::{AppSystems, Screen};

/// The first pause before sending a finish again.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest pause between two sends.
const LONGEST_RETRY: Duration = Duration::from_secs(30);

/// Finishes sent and not yet answered for, and when to send each again.
#[derive(Resource)]
struct Submissions {
    outbox: Outbox,
    /// Sends so far and, after a failure, the pause before the next one.
    sends: HashMap<String, (u32, Option<Timer>)>,
    /// The round whose result is on screen.
    shown: Option<String>,
}

pub(super) fn plugin(app: &mut App) {
    app.insert_resource(Submissions {
        outbox: Outbox::load(),
        sends: HashMap::new(),
        shown: None,
    });
    app.add_systems(Startup, send_earlier_rounds);
    app.add_systems(
        Update,
        (submit_finished_round, settle_answers, send_again_when_due).in_set(AppSystems::Update),
    );
}

/// The pause before the `attempt`-th send (counted from 2): doubling from
/// [`FIRST_RETRY`] up to [`LONGEST_RETRY`].
pub fn retry_pause(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(2).min(16);
    FIRST_RETRY
        .saturating_mul(1 << doublings)
        .min(LONGEST_RETRY)
}

impl Submissions {
    fn send(&mut self, finish: &PendingFinish, network: &Network) {
        let (sends, pause) = self.sends.entry(finish.round_id.clone()).or_default();
        *sends += 1;
        *pause = None;
        network.finish_round(finish);
    }
}

/// Rounds finished on an earlier visit and never answered for.
fn send_earlier_rounds(mut submissions: ResMut<Submissions>, network: Res<Network>) {
    let pending = submissions.outbox.pending().to_vec();
    for finish in &pending {
        submissions.send(finish, &network);
    }
}

/// The round just ended: show its outcome, and send it if it completed.
fn submit_finished_round(
    mut ended: MessageReader<RoundOver>,
    active: Option<Res<ActiveRound>>,
    mut submissions: ResMut<Submissions>,
    network: Res<Network>,
) {
    for RoundOver(outcome) in ended.read() {
        tell_page(&PageEvent::RoundOver { outcome });
        let Some(active) = active.as_ref() else {
            continue;
        };
        submissions.shown = Some(active.started.round_id.clone());
        if !outcome.completed {
            // An incomplete round cannot count; sending it would only add
            // a refusal to the server's statistics.
            continue;
        }
        let finish = PendingFinish::new(
            active.started.round_id.clone(),
            FinishRoundRequest {
                token: active.started.token.clone(),
                input_log: active.round.input_log().clone(),
                outcome: *outcome,
            },
        );
        submissions.outbox.keep(finish.clone());
        submissions.send(&finish, &network);
    }
}

/// The server answered for a finish: a receipt or a final refusal settles
/// it; anything else schedules another send.
fn settle_answers(
    mut replies: MessageReader<NetReply>,
    mut submissions: ResMut<Submissions>,
    screen: Res<State<Screen>>,
) {
    for reply in replies.read() {
        let NetReply::Finished { round_id, result } = reply else {
            continue;
        };
        let on_screen =
            *screen.get() == Screen::Result && submissions.shown.as_ref() == Some(round_id);
        match result {
            Ok(receipt) => {
                submissions.outbox.settle(round_id);
                submissions.sends.remove(round_id);
                tell_page(&PageEvent::Counted {
                    receipt,
                    earlier: !on_screen,
                });
            }
            Err(failure) if failure.is_worth_retrying() => {
                let Some((sends, pause)) = submissions.sends.get_mut(round_id) else {
                    continue;
                };
                let wait = retry_pause(*sends + 1);
                *pause = Some(Timer::new(wait, TimerMode::Once));
                if on_screen {
                    tell_page(&PageEvent::Retrying {
                        attempt: *sends,
                        retry_in_ms: u32::try_from(wait.as_millis()).unwrap_or(u32::MAX),
                    });
                }
            }
            Err(failure) => {
                submissions.outbox.settle(round_id);
                submissions.sends.remove(round_id);
                if let (true, crate::net::Failure::Refused(error)) = (on_screen, failure) {
                    tell_page(&PageEvent::Rejected { error });
                }
            }
        }
    }
}

/// Sends again every finish whose pause is over.
fn send_again_when_due(
    time: Res<Time<Real>>,
    mut submissions: ResMut<Submissions>,
    network: Res<Network>,
) {
    let mut due = Vec::new();
    for (round_id, (_, pause)) in &mut submissions.sends {
        if let Some(timer) = pause
            && timer.tick(time.delta()).is_finished()
        {
            due.push(round_id.clone());
        }
    }
    for round_id in due {
        let finish = submissions
            .outbox
            .pending()
            .iter()
            .find(|finish| finish.round_id == round_id)
            .cloned();
        match finish {
            Some(finish) => submissions.send(&finish, &network),
            // Pushed out of a full outbox: nothing left to send.
            None => {
                submissions.sends.remove(&round_id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_from_one_second_up_to_thirty() {
        let pauses: Vec<u64> = (2..=9)
            .map(|attempt| retry_pause(attempt).as_secs())
            .collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(retry_pause(u32::MAX), LONGEST_RETRY, "no overflow");
    }
}
