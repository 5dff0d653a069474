//! The screens and what moves the game between them: the title, a round
//! being requested, the round, and its result. The page draws each screen's
//! words; the game decides which screen it is.

use bevy::prelude::*;
use sim::wire::StartRoundRequest;

use crate::bridge::{PageCommand, PageEvent, tell_page};
use crate::net::{Failure, NetReply, Network};
use crate::play::{ActiveRound, SteerIntent};
use crate::{AppSystems, storage};

/// The screen on show.
#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Screen {
    /// The start button and the live total.
    #[default]
    Title,
    /// Waiting for the server to deal a round.
    Starting,
    /// A round is under way.
    Playing,
    /// The round is over: its outcome, then its receipt or refusal.
    Result,
}

pub(super) fn plugin(app: &mut App) {
    app.init_state::<Screen>();
    app.add_systems(OnEnter(Screen::Title), |_: Commands| {
        tell_page(&PageEvent::Title);
    });
    app.add_systems(OnEnter(Screen::Starting), |_: Commands| {
        tell_page(&PageEvent::Starting);
    });
    app.add_systems(OnEnter(Screen::Playing), |_: Commands| {
        tell_page(&PageEvent::Playing);
    });
    app.add_systems(
        Update,
        (request_round, begin_round).in_set(AppSystems::Update),
    );
}

/// "Start" or "play again": asks the server for a round.
fn request_round(
    mut commands: MessageReader<PageCommand>,
    screen: Res<State<Screen>>,
    mut next_screen: ResMut<NextState<Screen>>,
    network: Res<Network>,
) {
    let asked = commands.read().any(|command| *command == PageCommand::Play);
    if asked && matches!(screen.get(), Screen::Title | Screen::Result) {
        network.start_round(&StartRoundRequest {
            player: storage::load(storage::PLAYER_KEY),
            referral: storage::load(storage::REFERRAL_KEY),
        });
        next_screen.set(Screen::Starting);
    }
}

/// The server dealt a round: play it. Or it could not: back to the title.
fn begin_round(
    mut commands: Commands,
    mut replies: MessageReader<NetReply>,
    mut next_screen: ResMut<NextState<Screen>>,
    mut intent: ResMut<SteerIntent>,
) {
    for reply in replies.read() {
        let NetReply::Started(result) = reply else {
            continue;
        };
        match result {
            Ok(started) => {
                storage::save(storage::PLAYER_KEY, &started.player);
                tell_page(&PageEvent::Player {
                    id: &started.player,
                });
                *intent = SteerIntent::default();
                commands.insert_resource(ActiveRound::new(started.clone()));
                next_screen.set(Screen::Playing);
            }
            Err(Failure::Refused(error)) => {
                tell_page(&PageEvent::Rejected { error });
                next_screen.set(Screen::Title);
            }
            Err(Failure::Unreachable(_)) => {
                tell_page(&PageEvent::StartFailed);
                next_screen.set(Screen::Title);
            }
        }
    }
}
