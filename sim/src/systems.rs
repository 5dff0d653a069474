//! The systems of one tick and the schedule that runs them, in this order:
//!
//! 1. [`steer_fairy`]: the fairy flies towards the player's steer.
//! 2. [`fall`]: everything in the sky falls.
//! 3. [`catch_and_miss`]: the fairy catches what she touches, in spawn order
//!    (books go into her basket, a cloud soaks the basket); what fell past
//!    the bottom edge is gone.
//! 4. [`shelve_books`]: a basket carried long enough lands on the shelf.
//! 5. [`drop_from_sky`]: the next book or cloud appears at the top.
//! 6. [`advance_clock`]: the tick ends; the round ends when the shelf is full
//!    or the time is up.
//!
//! The chain fixes the order; nothing that changes the outcome depends on
//! query iteration order (contacts are sorted by spawn index). Spawning and
//! despawning are commands, applied once, at the end of the tick: there is
//! no sync point inside a tick (each costs time on every tick the server
//! replays), so a thing caught this tick still counts towards
//! [`Rules::max_drops`], and a new drop is first moved on the next tick.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{ScheduleBuildSettings, SingleThreadedExecutor};
use rand::Rng as _;

use crate::components::{
    Basket, Clock, Fairy, Falling, FallingKind, Position, RoundRules, RoundStatus, Shelf, Sky,
    Steering, Tally,
};
use crate::{Rules, Steer};

/// The schedule of one tick: the systems above, chained, on one thread (a
/// tick is far too small to gain from threads, and one thread is the same
/// everywhere, including wasm), with commands applied at the end.
pub(crate) fn tick_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.set_build_settings(ScheduleBuildSettings {
        auto_insert_apply_deferred: false,
        ..ScheduleBuildSettings::default()
    });
    schedule.add_systems(
        (
            steer_fairy,
            fall,
            catch_and_miss,
            shelve_books,
            drop_from_sky,
            advance_clock,
        )
            .chain(),
    );
    schedule
}

/// `start + (end - start) * clock / round_ticks`: a tunable that moves
/// linearly from its start value to its end value over the round.
fn pace(rules: &Rules, clock: u32, start: i64, end: i64) -> i64 {
    let round_ticks = i64::from(rules.round_ticks.max(1));
    let elapsed = i64::from(clock).min(round_ticks);
    start + (end - start) * elapsed / round_ticks
}

/// Where the fairy is one tick after being at `x` and steered by `steer`:
/// towards the steered column, at most `fairy_speed`, never off the field.
/// Shared with the scripted player, which plans with it.
pub(crate) fn fly_toward(rules: &Rules, x: i32, steer: Steer) -> i32 {
    let lowest = rules.fairy_half_width;
    let highest = rules
        .field_width
        .saturating_sub(rules.fairy_half_width)
        .max(lowest);
    let target = steer.target_x(rules).clamp(lowest, highest);
    let speed = rules.fairy_speed.max(0);
    let step = (i64::from(target) - i64::from(x)).clamp(-i64::from(speed), i64::from(speed));
    // |step| <= speed and the target is inside the field, so this fits.
    (i64::from(x) + step) as i32
}

/// Flies the fairy one tick towards the player's steer.
pub(crate) fn steer_fairy(
    rules: Res<RoundRules>,
    fairy: Single<(&mut Position, &Steering), With<Fairy>>,
) {
    let (mut position, steering) = fairy.into_inner();
    position.x = fly_toward(&rules.0, position.x, steering.0);
}

/// Moves everything in the sky down by its falling speed.
pub(crate) fn fall(mut falling: Query<(&Falling, &mut Position)>) {
    for (falling, mut position) in &mut falling {
        position.y = position.y.saturating_add(falling.fall_speed);
    }
}

/// Resolves the fairy's contacts in spawn order (a book caught, then a cloud
/// touched in the same tick, is soaked), and removes what fell past the
/// bottom edge.
pub(crate) fn catch_and_miss(
    mut commands: Commands,
    rules: Res<RoundRules>,
    clock: Res<Clock>,
    mut tally: ResMut<Tally>,
    fairy: Single<(&Position, &mut Basket), With<Fairy>>,
    falling: Query<(Entity, &Falling, &Position), Without<Fairy>>,
    // Kept between ticks so that a tick allocates nothing once it has grown.
    mut contacts: Local<Vec<(Falling, Entity)>>,
) {
    let rules = &rules.0;
    let (fairy, mut basket) = fairy.into_inner();
    let fairy_half = rules.fairy_half_size();
    for (entity, thing, position) in &falling {
        let half = thing.kind.half_size(rules);
        if fairy.boxes_overlap(fairy_half, *position, half) {
            contacts.push((*thing, entity));
        } else if position.y.saturating_sub(half.1) > rules.field_height {
            if thing.kind.is_book() {
                tally.books_missed += 1;
            }
            commands.entity(entity).despawn();
        }
    }
    contacts.sort_unstable_by_key(|(thing, _)| thing.index);
    for (thing, entity) in contacts.drain(..) {
        commands.entity(entity).despawn();
        match thing.kind {
            FallingKind::Book | FallingKind::GoldenBook => {
                if basket.books == 0 {
                    basket.shelve_tick = clock.tick.saturating_add(rules.carry_ticks);
                }
                basket.books += 1;
                basket.golden_books += u32::from(thing.kind == FallingKind::GoldenBook);
                basket.score = basket.score.saturating_add(thing.kind.score(rules));
            }
            FallingKind::Cloud => {
                tally.clouds_touched += 1;
                tally.books_soaked += basket.books;
                *basket = Basket::default();
            }
        }
    }
}

/// Puts the basket on the shelf once it has been carried `carry_ticks`.
pub(crate) fn shelve_books(
    clock: Res<Clock>,
    mut shelf: ResMut<Shelf>,
    mut basket: Single<&mut Basket, With<Fairy>>,
) {
    if basket.books > 0 && clock.tick >= basket.shelve_tick {
        shelf.books += basket.books;
        shelf.golden_books += basket.golden_books;
        shelf.score = shelf.score.saturating_add(basket.score);
        **basket = Basket::default();
    }
}

/// When its time has come, drops the next book or cloud just above the top
/// edge. The pace rises over the round: drops come more often, fall faster,
/// and are more often clouds.
pub(crate) fn drop_from_sky(
    mut commands: Commands,
    rules: Res<RoundRules>,
    clock: Res<Clock>,
    mut sky: ResMut<Sky>,
    mut tally: ResMut<Tally>,
    falling: Query<(), With<Falling>>,
) {
    let rules = &rules.0;
    let now = clock.tick;
    if now < sky.next_drop_tick {
        return;
    }
    let cloud_chance = pace(
        rules,
        now,
        rules.cloud_chance_start.into(),
        rules.cloud_chance_end.into(),
    );
    // The same four draws for every drop, whatever it turns out to be, so
    // the stream never depends on what was drawn. `random_range` on 32-bit
    // integers is portable: the same values on every target.
    let kind_roll = sky.rng.random_range(0..1_000);
    let golden_roll = sky.rng.random_range(0..1_000);
    let kind = if i64::from(kind_roll) < cloud_chance {
        FallingKind::Cloud
    } else if golden_roll < rules.golden_chance {
        FallingKind::GoldenBook
    } else {
        FallingKind::Book
    };
    let (half_width, half_height) = kind.half_size(rules);
    let x_span = rules
        .field_width
        .saturating_sub(half_width.saturating_mul(2))
        .max(0);
    let x = half_width.saturating_add(sky.rng.random_range(0..=x_span));
    let base_speed = pace(
        rules,
        now,
        rules.fall_speed_start.into(),
        rules.fall_speed_end.into(),
    );
    let jitter = sky.rng.random_range(0..=rules.fall_speed_jitter.max(0));
    let interval = pace(
        rules,
        now,
        rules.spawn_interval_start.into(),
        rules.spawn_interval_end.into(),
    );
    // The clamps keep the values inside the narrower types.
    sky.next_drop_tick = now.saturating_add(interval.clamp(1, i64::from(u32::MAX)) as u32);

    if falling.iter().len() >= rules.max_drops as usize {
        return;
    }
    let index = sky.next_index;
    sky.next_index += 1;
    if kind.is_book() {
        tally.books_spawned += 1;
    }
    commands.spawn((
        Falling {
            index,
            kind,
            fall_speed: (base_speed + i64::from(jitter)).clamp(0, i64::from(i32::MAX)) as i32,
        },
        Position { x, y: -half_height },
    ));
}

/// Ends the tick, and the round once the shelf is full or the time is up.
pub(crate) fn advance_clock(rules: Res<RoundRules>, shelf: Res<Shelf>, mut clock: ResMut<Clock>) {
    clock.tick += 1;
    if shelf.books >= rules.0.shelf_target {
        clock.status = RoundStatus::ShelfFull;
    } else if clock.tick >= rules.0.round_ticks {
        clock.status = RoundStatus::TimeUp;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Round, Seed};

    /// A round under `rules` where nothing falls unless the test puts it there.
    fn quiet_round(rules: &Rules) -> Round {
        let mut round = Round::new(Seed(0), rules);
        round.world_mut().resource_mut::<Sky>().next_drop_tick = u32::MAX;
        round
    }

    /// Puts a motionless `kind` with spawn index `index` at (`x`, `y`).
    fn put(round: &mut Round, index: u32, kind: FallingKind, x: i32, y: i32) {
        round.world_mut().spawn((
            Falling {
                index,
                kind,
                fall_speed: 0,
            },
            Position { x, y },
        ));
    }

    /// Puts `kind` right on the fairy.
    fn put_on_fairy(round: &mut Round, index: u32, kind: FallingKind) {
        let fairy = round.fairy().position;
        put(round, index, kind, fairy.x, fairy.y);
    }

    fn steps(round: &mut Round, count: u32) {
        for _ in 0..count {
            round.step(Steer::CENTRE);
        }
    }

    #[test]
    fn a_caught_book_is_carried_then_shelved() {
        let rules = Rules::CURRENT;
        let mut round = quiet_round(&rules);
        put_on_fairy(&mut round, 0, FallingKind::GoldenBook);
        steps(&mut round, 1);
        let basket = round.basket();
        assert_eq!(
            (basket.books, basket.golden_books),
            (1, 1),
            "caught into the basket"
        );
        assert_eq!(
            basket.score, rules.golden_score,
            "the golden score is carried"
        );
        assert_eq!(round.falling().count(), 0, "a caught book leaves the sky");
        // Caught on tick 0, shelved on tick `carry_ticks`.
        steps(&mut round, rules.carry_ticks - 1);
        assert_eq!(
            round.shelf().books,
            0,
            "still carried after carry_ticks - 1 more ticks"
        );
        steps(&mut round, 1);
        let shelf = round.shelf();
        assert_eq!(
            (shelf.books, shelf.golden_books),
            (1, 1),
            "shelved after carry_ticks"
        );
        assert_eq!(shelf.score, rules.golden_score, "with its score");
        assert_eq!(
            round.basket(),
            Basket::default(),
            "the basket is empty again"
        );
    }

    #[test]
    fn a_cloud_soaks_books_caught_before_it_in_spawn_order() {
        let mut round = quiet_round(&Rules::CURRENT);
        // Spawned into the world in the opposite order of their indices, so
        // that only the sort by index can get this right.
        put_on_fairy(&mut round, 1, FallingKind::Cloud);
        put_on_fairy(&mut round, 0, FallingKind::Book);
        steps(&mut round, 1);
        assert_eq!(
            round.basket().books,
            0,
            "the book (index 0) was soaked by the cloud (1)"
        );
        let tally = round.tally();
        assert_eq!(
            (tally.books_soaked, tally.clouds_touched),
            (1, 1),
            "counted"
        );
    }

    #[test]
    fn a_book_caught_after_a_cloud_stays_dry() {
        let mut round = quiet_round(&Rules::CURRENT);
        put_on_fairy(&mut round, 1, FallingKind::Book);
        put_on_fairy(&mut round, 0, FallingKind::Cloud);
        steps(&mut round, 1);
        assert_eq!(
            round.basket().books,
            1,
            "the cloud (index 0) came before the book (1)"
        );
        assert_eq!(round.tally().books_soaked, 0, "nothing soaked");
    }

    #[test]
    fn what_falls_past_the_bottom_is_missed() {
        let rules = Rules::CURRENT;
        let mut round = quiet_round(&rules);
        let below = rules.field_height + rules.book_half_size + 1;
        put(&mut round, 0, FallingKind::Book, 100, below);
        put(&mut round, 1, FallingKind::Book, 100, rules.field_height);
        steps(&mut round, 1);
        assert_eq!(
            round.tally().books_missed,
            1,
            "only the book wholly below the edge"
        );
        assert_eq!(
            round.falling().map(|thing| thing.index).collect::<Vec<_>>(),
            [1],
            "left"
        );
    }

    #[test]
    fn the_fairy_flies_at_capped_speed_and_stays_on_the_field() {
        let rules = Rules::CURRENT;
        let right = Steer::new(Steer::MAX).unwrap();
        let start = 4_500;
        assert_eq!(
            fly_toward(&rules, start, right),
            start + rules.fairy_speed,
            "capped"
        );
        let near_edge = rules.field_width - rules.fairy_half_width - 10;
        let edge = rules.field_width - rules.fairy_half_width;
        assert_eq!(
            fly_toward(&rules, near_edge, right),
            edge,
            "stops at the edge"
        );
        let left = Steer::new(0).unwrap();
        assert_eq!(
            fly_toward(&rules, start, left),
            start - rules.fairy_speed,
            "either way"
        );
        let here = Steer::toward_x(start, &rules);
        assert_eq!(
            fly_toward(&rules, start, here),
            start,
            "stays when steered to herself"
        );
    }

    #[test]
    fn the_round_ends_when_the_shelf_is_full() {
        let rules = Rules {
            shelf_target: 2,
            ..Rules::CURRENT
        };
        let mut round = quiet_round(&rules);
        put_on_fairy(&mut round, 0, FallingKind::Book);
        put_on_fairy(&mut round, 1, FallingKind::Book);
        steps(&mut round, rules.round_ticks);
        let outcome = round.outcome();
        assert!(
            outcome.completed,
            "two books on a two-book shelf complete the round"
        );
        assert_eq!(
            outcome.ticks_played,
            rules.carry_ticks + 1,
            "and it stops right there"
        );
        assert_eq!(
            round.clock().status,
            RoundStatus::ShelfFull,
            "status says why"
        );
    }

    #[test]
    fn the_round_ends_when_the_time_is_up() {
        let rules = Rules {
            round_ticks: 40,
            ..Rules::CURRENT
        };
        let mut round = Round::new(Seed(9), &rules);
        steps(&mut round, 39);
        assert!(!round.is_over(), "one tick to go");
        steps(&mut round, 1);
        assert_eq!(
            round.clock(),
            Clock {
                tick: 40,
                status: RoundStatus::TimeUp
            },
            "time up"
        );
        assert!(
            !round.outcome().completed,
            "an idle 2-second round fills no shelf"
        );
    }

    #[test]
    fn the_pace_moves_linearly_over_the_round() {
        let rules = Rules {
            round_ticks: 100,
            ..Rules::CURRENT
        };
        assert_eq!(pace(&rules, 0, 10, 30), 10, "start value at tick 0");
        assert_eq!(pace(&rules, 50, 10, 30), 20, "halfway");
        assert_eq!(pace(&rules, 100, 10, 30), 30, "end value at the end");
        assert_eq!(pace(&rules, 500, 10, 30), 30, "and no further");
        assert_eq!(pace(&rules, 50, 30, 10), 20, "downwards too");
    }

    #[test]
    fn the_sky_never_holds_more_than_max_drops() {
        let rules = Rules {
            max_drops: 3,
            spawn_interval_start: 1,
            spawn_interval_end: 1,
            ..Rules::CURRENT
        };
        let mut round = Round::new(Seed(4), &rules);
        for _ in 0..60 {
            round.step(Steer::new(0).unwrap());
            assert!(
                round.falling().count() <= 3,
                "tick {}: at most 3 in the sky",
                round.tick()
            );
        }
        let indices: Vec<u32> = round.falling().map(|thing| thing.index).collect();
        assert_eq!(indices.len(), 3, "the sky is full");
        assert_eq!(
            round.tally().books_missed,
            0,
            "nothing has reached the bottom in 3 s"
        );
    }
}
