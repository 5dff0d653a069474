//! The round being played: `sim`'s [`Round`] stepped at its own fixed tick
//! in `FixedUpdate`, steered by the player's latest intent, with the
//! positions of the tick before kept so that frames can be drawn between
//! ticks.

use std::collections::HashMap;

use bevy::prelude::*;
use sim::bot::{Player as _, ScriptedPlayer};
use sim::wire::RoundStarted;
use sim::{Outcome, Position, Round, Rules, Steer};

use crate::bridge::{PageCommand, PageEvent, tell_page};
use crate::{Screen, field};

/// The round on screen (playing, or finished and shown behind the result).
#[derive(Resource)]
pub struct ActiveRound {
    /// What the server said when the round started.
    pub started: RoundStarted,
    /// The simulation, one tick per `FixedUpdate`.
    pub round: Round,
    /// Positions before the latest tick, by spawn index (the fairy as `None`),
    /// for drawing in between ticks.
    previous: HashMap<Option<u32>, Position>,
}

impl ActiveRound {
    /// The round the server dealt in `started`, before its first tick.
    pub fn new(started: RoundStarted) -> ActiveRound {
        let round = Round::new(started.seed, &Rules::CURRENT);
        ActiveRound {
            started,
            round,
            previous: HashMap::new(),
        }
    }

    /// The world point where the thing with spawn index `index` (the fairy
    /// for `None`), now at `now`, is drawn `fraction` of the way from the
    /// last tick to the next.
    pub fn drawn_at(&self, index: Option<u32>, now: Position, fraction: f32) -> Vec2 {
        let rules = self.round.rules();
        let before = self.previous.get(&index).copied().unwrap_or(now);
        field::to_world(before, rules).lerp(field::to_world(now, rules), fraction)
    }

    fn step(&mut self, steer: Steer) {
        self.previous.clear();
        self.previous.insert(None, self.round.fairy().position);
        for thing in self.round.falling() {
            self.previous.insert(Some(thing.index), thing.position);
        }
        self.round.step(steer);
    }
}

/// Where the player wants the fairy to go; set by [`crate::controls`].
#[derive(Resource, Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SteerIntent(pub Steer);

/// The built-in player, steering while the page has it switched on.
#[derive(Resource, Default)]
struct Autopilot(Option<ScriptedPlayer>);

/// Sent once when the active round ends.
#[derive(Message, Debug, Clone)]
pub struct RoundOver(pub Outcome);

pub(super) fn plugin(app: &mut App) {
    app.insert_resource(Time::<Fixed>::from_hz(f64::from(Rules::CURRENT.tick_hz)));
    app.init_resource::<SteerIntent>()
        .init_resource::<Autopilot>()
        .add_message::<RoundOver>();
    app.add_systems(Update, switch_autopilot);
    app.add_systems(FixedUpdate, advance_round.run_if(in_state(Screen::Playing)));
    app.add_systems(
        Update,
        report_numbers
            .run_if(in_state(Screen::Playing))
            .in_set(crate::AppSystems::NotifyPage),
    );
}

fn switch_autopilot(mut commands: MessageReader<PageCommand>, mut autopilot: ResMut<Autopilot>) {
    for command in commands.read() {
        if let PageCommand::Autopilot(on) = *command {
            autopilot.0 = on.then(ScriptedPlayer::default);
        }
    }
}

/// One tick of the round; ends the round when the simulation says so.
fn advance_round(
    active: Option<ResMut<ActiveRound>>,
    intent: Res<SteerIntent>,
    mut autopilot: ResMut<Autopilot>,
    mut over: MessageWriter<RoundOver>,
    mut next_screen: ResMut<NextState<Screen>>,
) {
    let Some(mut active) = active else {
        return;
    };
    if active.round.is_over() {
        return;
    }
    let steer = match autopilot.0.as_mut() {
        Some(player) => player.choose(&active.round),
        None => intent.0,
    };
    active.step(steer);
    if active.round.is_over() {
        over.write(RoundOver(active.round.outcome()));
        next_screen.set(Screen::Result);
    }
}

/// Sends the score, the shelf and the time left to the page when they change.
fn report_numbers(active: Option<Res<ActiveRound>>, mut last: Local<Option<[u32; 4]>>) {
    let Some(active) = active else {
        return;
    };
    let round = &active.round;
    let rules = round.rules();
    let shelf = round.shelf();
    let ticks_left = rules.round_ticks.saturating_sub(round.tick());
    let seconds_left = ticks_left.div_ceil(rules.tick_hz.max(1));
    let fairy_column = Steer::toward_x(round.fairy().position.x, rules).column();
    let numbers = [
        shelf.score,
        shelf.books,
        seconds_left,
        u32::from(fairy_column),
    ];
    if *last == Some(numbers) {
        return;
    }
    *last = Some(numbers);
    tell_page(&PageEvent::Hud {
        score: shelf.score,
        shelved: shelf.books,
        shelf_target: rules.shelf_target,
        seconds_left,
        fairy_column,
    });
}
