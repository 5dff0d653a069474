//! One tick of the round, as plain functions over the `World`, in this
//! order:
//!
//! 1. [`fly_to`]: the fairy flies towards the player's steer.
//! 2. [`fall_and_meet`]: everything in the sky falls; what then touches the
//!    fairy is a contact, what fell past the bottom edge is missed.
//! 3. [`catch`]: the fairy catches her contacts in spawn order (books go into
//!    her basket, a cloud soaks the basket).
//! 4. [`shelve_books`]: a basket carried long enough lands on the shelf.
//! 5. [`drop_from_sky`]: the next book or cloud appears at the top.
//! 6. [`advance_clock`]: the tick ends; the round ends when the shelf is full
//!    or the time is up.
//!
//! What was caught or missed leaves the sky as it falls: its place there
//! is emptied, for a later drop to take. The order is the code's own;
//! nothing that changes the outcome depends on query iteration order, or on
//! which place holds what (contacts are sorted by spawn index; whether a thing
//! touches the fairy depends only on where it and the fairy are after
//! moving, so falling and meeting in one pass is the same as one after the
//! other). A thing caught this tick still counts towards
//! [`Rules::max_drops`], and a new drop is first moved on the next tick.
//!
//! Why plain functions rather than a `Schedule`: the server replays every
//! round it counts, 900 ticks each, and a schedule's executor, its
//! per-system parameter fetching and its deferred commands cost several
//! times the rules themselves on every tick. Here ticks borrow the fairy
//! and the sky once (one cached `SystemState`) and change them in place;
//! since a drop takes an empty place in the sky ([`SkySlot`]) rather than
//! being spawned, that one borrow lasts until a drop finds no empty place
//! (only when the sky holds more things at once than ever before in this
//! world), and a tick allocates nothing once its buffers have grown. The
//! sky's table is taken as slices once per borrow ([`Places`], which also
//! counts the places holding things, so a drop takes the next row). Most
//! of the sky is far above the fairy and the bottom edge, where a tick only
//! moves a thing down ([`Clearance`]): a tick leaves such things alone
//! until the first of them comes near, and their heights are worked out
//! then or when the borrow ends. Ticks with nothing near at all, no drop or
//! shelving due and a steer that holds ([`quiet_until`]) only fly the
//! fairy: they are played at once (about a sixth of the scripted player's).

use bevy_ecs::change_detection::ContiguousMut;
use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemState;
use rand::Rng as _;

use crate::components::{
    Basket, Board, Fairy, Falling, FallingKind, Position, RoundStatus, SkySlot, Steering,
};
use crate::{Rules, Steer};

/// The fairy's parts that a tick reads and writes.
type FairyQuery<'w, 's> = Query<
    'w,
    's,
    (
        &'static mut Position,
        &'static mut Steering,
        &'static mut Basket,
        &'static mut Board,
    ),
    With<Fairy>,
>;

/// Every place in the sky, full or empty.
type SkyQuery<'w, 's> =
    Query<'w, 's, (&'static mut SkySlot, &'static mut Position), Without<Fairy>>;

/// The cached queries and buffers of [`run_ticks`], kept with the round so
/// that a tick builds and allocates nothing.
pub(crate) struct TickState {
    /// The fairy and the sky, borrowed together: the board is then changed
    /// in place rather than copied out and back.
    queries: SystemState<(FairyQuery<'static, 'static>, SkyQuery<'static, 'static>)>,
    /// The things that touched the fairy this tick.
    contacts: Vec<Falling>,
    /// The rows of the sky's table whose things leave it this tick.
    leaving: Vec<usize>,
    /// By row of the sky's table, when its thing's height was last brought
    /// up to date, and when it comes near (see [`Places`]).
    falls: Vec<Fall>,
}

impl TickState {
    pub(crate) fn new(world: &mut World) -> Self {
        Self {
            queries: SystemState::new(world),
            contacts: Vec::new(),
            leaving: Vec::new(),
            falls: Vec::new(),
        }
    }
}

/// Empties every place in the sky of `world`, for a new round.
pub(crate) fn clear_sky(world: &mut World, state: &mut TickState) {
    let Ok((_, mut sky)) = state.queries.get_mut(world) else {
        return;
    };
    for (mut slot, _) in &mut sky {
        slot.bypass_change_detection().0 = None;
    }
}

/// A steer for the tick about to be played, and the first tick it may no
/// longer hold for: every tick before `until` is steered alike.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Steady {
    pub steer: Steer,
    pub until: u32,
}

/// Plays ticks of `world`, whose fairy is `fairy`, while the round is on
/// and `steer_for` gives a steer for the tick about to be played (by its
/// number).
pub(crate) fn run_ticks(
    world: &mut World,
    fairy: Entity,
    state: &mut TickState,
    mut steer_for: impl FnMut(u32) -> Option<Steady>,
) {
    loop {
        match run_ticks_in_place(world, fairy, state, &mut steer_for) {
            Stop::Done => return,
            // Spawned at the end of the sky's table, after every place that
            // holds a thing (see `SkySlot`); then the ticks go on.
            Stop::NoEmptyPlace(thing, at) => {
                world.spawn((SkySlot(Some(thing)), at));
            }
        }
    }
}

/// Why [`run_ticks_in_place`] stopped.
enum Stop {
    /// The round is over, or there is no steer for the next tick.
    Done,
    /// The tick just played dropped a thing, at this position, and the sky
    /// has no empty place for it: it needs a new one.
    NoEmptyPlace(Falling, Position),
}

/// [`run_ticks`] in one borrow of the fairy and the sky, until it needs a
/// new place in the sky (a structural change of the world).
fn run_ticks_in_place(
    world: &mut World,
    fairy: Entity,
    state: &mut TickState,
    steer_for: &mut impl FnMut(u32) -> Option<Steady>,
) -> Stop {
    let TickState {
        queries,
        contacts,
        leaving,
        falls,
    } = state;
    let Ok((mut fairies, sky)) = queries.get_mut(world) else {
        return Stop::Done;
    };
    let Ok((mut position, mut steering, mut basket, mut board)) = fairies.get_mut(fairy) else {
        return Stop::Done;
    };
    // Nothing reads change ticks: skip writing them.
    let (position, steering, basket, board) = (
        position.bypass_change_detection(),
        steering.bypass_change_detection(),
        basket.bypass_change_detection(),
        board.bypass_change_detection(),
    );
    // The fairy flies along one line: steering moves her sideways only, so
    // what is clear of her stays the same tick after tick.
    let clear = Clearance::above(&board.rules, *position);
    let mut aim = (steering.0, aim_of(&board.rules, steering.0));
    // The places are all spawned alike, so they share one table (none
    // before the first is spawned). Its columns are taken as slices once
    // for all the ticks of this borrow.
    let mut tables = sky
        .contiguous_iter_inner()
        .expect("the sky's components are all stored in tables");
    let table = tables.next();
    debug_assert!(tables.next().is_none(), "the sky's places share one table");
    let (slots, positions) = match table {
        Some((slots, positions)) => (
            ContiguousMut::bypass_change_detection_split(slots).0,
            ContiguousMut::bypass_change_detection_split(positions).0,
        ),
        None => (&mut [][..], &mut [][..]),
    };
    let mut places = Places::new(slots, positions, falls, clear, board.clock.tick);
    let stop = loop {
        let clock = board.clock;
        if clock.status != RoundStatus::Playing {
            break Stop::Done;
        }
        let Some(Steady { steer, until }) = steer_for(clock.tick) else {
            break Stop::Done;
        };
        if steer != aim.0 {
            aim = (steer, aim_of(&board.rules, steer));
        }
        steering.0 = steer;
        if let Some(end) = quiet_until(&places, board, basket, until) {
            // Ticks `clock.tick..end` can only fly the fairy: played at once.
            position.x = fly_to(&board.rules, position.x, aim.1, end - clock.tick);
            board.clock.tick = end - 1;
            advance_clock(board);
            continue;
        }
        position.x = fly_to(&board.rules, position.x, aim.1, 1);
        let in_sky = fall_and_meet(&mut places, board, *position, contacts, leaving);
        catch(board, basket, contacts);
        shelve_books(board, basket);
        let drop = drop_from_sky(board, in_sky);
        advance_clock(board);
        if let Some((thing, at)) = drop
            && !places.hold(thing, at, board.clock.tick)
        {
            break Stop::NoEmptyPlace(thing, at);
        }
    };
    // Outside this borrow, every position is where its thing is now.
    places.bring_up_to(board.clock.tick);
    stop
}

/// The sky's table as slices, for the ticks of one borrow: the places
/// holding things come first (see [`SkySlot`]), `held` of them.
///
/// Most things are far above the fairy and the bottom edge, where a tick
/// changes nothing but their height, and that by their falling speed. So
/// within a borrow each thing knows the tick it comes near
/// ([`Fall::near_at`], found from its speed and [`Clearance`]), and the held
/// places are kept in two runs: first the `near` things, which a tick moves
/// and checks one by one, then those still far away, which it leaves alone
/// until the earliest of them comes near (`next_near`). A far thing's
/// position is brought up to date when it comes near, or when the borrow
/// ends ([`Places::bring_up_to`]).
struct Places<'a> {
    slots: &'a mut [SkySlot],
    positions: &'a mut [Position],
    /// By row, as long as `slots`.
    falls: &'a mut [Fall],
    clear: Clearance,
    /// Rows `..near` hold the things that are near.
    near: usize,
    /// Rows `..held` hold things.
    held: usize,
    /// The earliest [`Fall::near_at`] of the rows `near..held`.
    next_near: u32,
}

/// Where a thing's fall stands, within one borrow of the sky.
#[derive(Debug, Clone, Copy, Default)]
struct Fall {
    /// The tick at whose start its position was exact.
    since: u32,
    /// The first tick after whose fall it is no longer clear (it may touch
    /// the fairy or pass the bottom edge); `u32::MAX` if never.
    near_at: u32,
}

impl<'a> Places<'a> {
    /// The places of a sky whose positions are exact at the start of tick
    /// `now`, seen with the fairy's clearance `clear`; `falls` is a buffer.
    fn new(
        slots: &'a mut [SkySlot],
        positions: &'a mut [Position],
        falls: &'a mut Vec<Fall>,
        clear: Clearance,
        now: u32,
    ) -> Places<'a> {
        let held = slots.iter().take_while(|slot| slot.0.is_some()).count();
        debug_assert!(
            slots[held..].iter().all(|slot| slot.0.is_none()),
            "the places holding things come first in the sky's table"
        );
        falls.resize(slots.len(), Fall::default());
        let mut next_near = u32::MAX;
        for ((slot, position), fall) in slots.iter().zip(positions.iter()).zip(falls.iter_mut()) {
            if let Some(thing) = &slot.0 {
                *fall = clear.fall_of(thing, position.y, now);
                next_near = next_near.min(fall.near_at);
            }
        }
        // Every thing starts among the far ones; the first tick moves those
        // already near.
        Places {
            slots,
            positions,
            falls,
            clear,
            near: 0,
            held,
            next_near,
        }
    }

    #[inline]
    fn swap_rows(&mut self, a: usize, b: usize) {
        self.slots.swap(a, b);
        self.positions.swap(a, b);
        self.falls.swap(a, b);
    }

    /// Moves the far things that come near on tick `now` into the near run.
    fn bring_near(&mut self, now: u32) {
        if now < self.next_near {
            return;
        }
        let mut next_near = u32::MAX;
        for row in self.near..self.held {
            let near_at = self.falls[row].near_at;
            if near_at <= now {
                // The far thing at `near` (if another) was looked at already.
                self.swap_rows(row, self.near);
                self.near += 1;
            } else {
                next_near = next_near.min(near_at);
            }
        }
        self.next_near = next_near;
    }

    /// Empties the near place at `row`, keeping both runs unbroken: the last
    /// near thing takes its place, and the last far thing that one's. Rows
    /// leaving in one tick must be emptied from the last, so that the last
    /// near thing is never one that is leaving too.
    fn empty_near(&mut self, row: usize) {
        let last_near = self.near - 1;
        let last_held = self.held - 1;
        self.swap_rows(row, last_near);
        self.swap_rows(last_near, last_held);
        self.slots[last_held] = SkySlot(None);
        self.near = last_near;
        self.held = last_held;
    }

    /// Puts `thing` at `at` (where it is at the start of tick `now`) in the
    /// first empty place, among the far things; false if there is none.
    fn hold(&mut self, thing: Falling, at: Position, now: u32) -> bool {
        let row = self.held;
        let (Some(slot), Some(position), Some(fall)) = (
            self.slots.get_mut(row),
            self.positions.get_mut(row),
            self.falls.get_mut(row),
        ) else {
            return false;
        };
        *slot = SkySlot(Some(thing));
        *position = at;
        *fall = self.clear.fall_of(&thing, at.y, now);
        self.next_near = self.next_near.min(fall.near_at);
        self.held += 1;
        true
    }

    /// Brings every position up to the start of tick `now`.
    fn bring_up_to(&mut self, now: u32) {
        let held = self.held;
        for ((slot, position), fall) in self.slots[..held]
            .iter()
            .zip(&mut self.positions[..held])
            .zip(&mut self.falls[..held])
        {
            if let Some(thing) = &slot.0 {
                position.y = height_after(position.y, thing.fall_speed, now - fall.since);
                fall.since = now;
            }
        }
    }
}

/// Where a thing at height `y` falling at `speed` is after `ticks` ticks:
/// exactly what `ticks` saturating additions of `speed` give, as heights
/// only ever move one way.
fn height_after(y: i32, speed: i32, ticks: u32) -> i32 {
    let moved = i64::from(speed).saturating_mul(i64::from(ticks));
    // Within i32 after the clamp.
    i64::from(y)
        .saturating_add(moved)
        .clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
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
    fly_to(rules, x, aim_of(rules, steer), 1)
}

/// The steered column, kept inside the field. Worked out once per change
/// of steer by a tick: it divides, and most ticks keep the steer.
fn aim_of(rules: &Rules, steer: Steer) -> i32 {
    let lowest = rules.fairy_half_width;
    let highest = rules
        .field_width
        .saturating_sub(rules.fairy_half_width)
        .max(lowest);
    steer.target_x(rules).clamp(lowest, highest)
}

/// Where the fairy is `ticks` ticks after being at `x`, flying to `aim`
/// (from [`aim_of`]): at most `fairy_speed` closer each tick, so exactly
/// what that many single ticks give.
fn fly_to(rules: &Rules, x: i32, aim: i32, ticks: u32) -> i32 {
    let reach = i64::from(rules.fairy_speed.max(0)) * i64::from(ticks);
    let step = (i64::from(aim) - i64::from(x)).clamp(-reach, reach);
    // The fairy ends between `x` and the aim, both in i32.
    (i64::from(x) + step) as i32
}

/// By kind code, the lowest a thing can be and still neither touch the
/// fairy nor have fallen past the bottom edge: for most of its fall,
/// nothing but its height changes. From it, [`Clearance::fall_of`] tells
/// when a thing can first meet anything, and until then [`fall_and_meet`]
/// leaves it alone.
#[derive(Debug, Clone, Copy)]
struct Clearance([i64; 3]);

impl Clearance {
    /// For a fairy at `fairy`.
    fn above(rules: &Rules, fairy: Position) -> Clearance {
        Clearance(
            [
                FallingKind::Book,
                FallingKind::GoldenBook,
                FallingKind::Cloud,
            ]
            .map(|kind| {
                let half_height = kind.half_size(rules).1;
                let above_fairy = i64::from(fairy.y)
                    - i64::from(rules.fairy_half_height)
                    - i64::from(half_height);
                let above_bottom = i64::from(rules.field_height) + i64::from(half_height);
                above_fairy.min(above_bottom)
            }),
        )
    }

    /// Whether a thing of `kind` at height `y` is clear.
    fn is_clear(&self, kind: FallingKind, y: i32) -> bool {
        i64::from(y) <= self.0[kind.code() as usize]
    }

    /// The fall of `thing`, at height `y` at the start of tick `now`: the
    /// first tick after whose fall it is no longer clear.
    fn fall_of(&self, thing: &Falling, y: i32, now: u32) -> Fall {
        let lowest = self.0[thing.kind.code() as usize];
        let speed = i64::from(thing.fall_speed);
        let near_at = if !self.is_clear(thing.kind, height_after(y, thing.fall_speed, 1)) {
            now
        } else if speed <= 0 || lowest >= i64::from(i32::MAX) {
            // Clear now, and never lower than this (or never past `lowest`).
            u32::MAX
        } else {
            // Clear after the first fall, so `lowest >= y + speed`: the
            // first n with y + n * speed > lowest is `falls + 1`, and the
            // n-th fall is that of tick `now + n - 1`.
            let falls = (lowest - i64::from(y)) / speed;
            u32::try_from(i64::from(now).saturating_add(falls)).unwrap_or(u32::MAX)
        };
        Fall {
            since: now,
            near_at,
        }
    }
}

/// The end of the quiet ticks from now on, if more than this one: ticks in
/// which nothing is near the fairy or the bottom edge (so nothing meets
/// anything, and the far things' heights are worked out later anyway), no
/// drop or shelving is due, the round goes on, and the steer holds (until
/// `until`). On such a tick only the fairy flies and the clock moves.
#[inline(always)] // Once a tick, from one place.
fn quiet_until(places: &Places<'_>, board: &Board, basket: &Basket, until: u32) -> Option<u32> {
    let now = board.clock.tick;
    if places.near > 0 {
        return None;
    }
    let mut end = until
        .min(places.next_near)
        .min(board.sky.next_drop_tick)
        .min(board.rules.round_ticks);
    if basket.books > 0 {
        end = end.min(basket.shelve_tick);
    }
    (end > now.saturating_add(1)).then_some(end)
}

/// Moves everything in the sky down by its falling speed; then notes what
/// touches the fairy as a contact, and counts a book that fell past the
/// bottom edge as missed. Both leave the sky, their places emptied (see
/// [`Places`]). Only the things near are looked at: a far thing is clear
/// after this tick's fall, which its height, worked out later, includes.
/// Answers how many things were in the sky before they fell (those that
/// then left count).
#[inline(always)] // Once a tick, from one place: as a call, a tenth more.
fn fall_and_meet(
    places: &mut Places<'_>,
    board: &mut Board,
    fairy: Position,
    contacts: &mut Vec<Falling>,
    leaving: &mut Vec<usize>,
) -> usize {
    let rules = &board.rules;
    let now = board.clock.tick;
    let fairy_half = rules.fairy_half_size();
    let in_sky = places.held;
    places.bring_near(now);
    let near = places.near;
    let rows = places.slots[..near]
        .iter()
        .zip(&mut places.positions[..near])
        .zip(&mut places.falls[..near]);
    for (row, ((slot, position), fall)) in rows.enumerate() {
        let Some(thing) = &slot.0 else {
            unreachable!("the first `held` places hold things");
        };
        position.y = height_after(position.y, thing.fall_speed, now + 1 - fall.since);
        fall.since = now + 1;
        let half = thing.kind.half_size(rules);
        if fairy.boxes_overlap(fairy_half, *position, half) {
            contacts.push(*thing);
            leaving.push(row);
        } else if position.y.saturating_sub(half.1) > rules.field_height {
            board.tally.books_missed += u32::from(thing.kind.is_book());
            leaving.push(row);
        }
    }
    for &row in leaving.iter().rev() {
        places.empty_near(row);
    }
    leaving.clear();
    in_sky
}

/// Resolves the fairy's contacts in spawn order: a book caught, then a
/// cloud touched in the same tick, is soaked.
fn catch(board: &mut Board, basket: &mut Basket, contacts: &mut Vec<Falling>) {
    if contacts.len() > 1 {
        contacts.sort_unstable_by_key(|thing| thing.index);
    }
    let rules = &board.rules;
    for &thing in contacts.iter() {
        match thing.kind {
            FallingKind::Book | FallingKind::GoldenBook => {
                if basket.books == 0 {
                    basket.shelve_tick = board.clock.tick.saturating_add(rules.carry_ticks);
                }
                basket.books += 1;
                basket.golden_books += u32::from(thing.kind == FallingKind::GoldenBook);
                basket.score = basket.score.saturating_add(thing.kind.score(rules));
            }
            FallingKind::Cloud => {
                board.tally.clouds_touched += 1;
                board.tally.books_soaked += basket.books;
                *basket = Basket::default();
            }
        }
    }
    contacts.clear();
}

/// Puts the basket on the shelf once it has been carried `carry_ticks`.
fn shelve_books(board: &mut Board, basket: &mut Basket) {
    if basket.books > 0 && board.clock.tick >= basket.shelve_tick {
        let shelf = &mut board.shelf;
        shelf.books += basket.books;
        shelf.golden_books += basket.golden_books;
        shelf.score = shelf.score.saturating_add(basket.score);
        *basket = Basket::default();
    }
}

/// When its time has come, drops the next book or cloud just above the top
/// edge. The pace rises over the round: drops come more often, fall faster,
/// and are more often clouds. Answers what to spawn, if anything.
#[inline(always)] // Most ticks end at the first test: not worth a call.
fn drop_from_sky(board: &mut Board, in_sky: usize) -> Option<(Falling, Position)> {
    if board.clock.tick < board.sky.next_drop_tick {
        return None;
    }
    drop_now(board, in_sky)
}

/// [`drop_from_sky`] once its time has come.
fn drop_now(board: &mut Board, in_sky: usize) -> Option<(Falling, Position)> {
    let rules = &board.rules;
    let now = board.clock.tick;
    let sky = &mut board.sky;
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

    // What was caught or missed this tick is still in the sky: it counts.
    if in_sky >= rules.max_drops as usize {
        return None;
    }
    let index = sky.next_index;
    sky.next_index += 1;
    if kind.is_book() {
        board.tally.books_spawned += 1;
    }
    Some((
        Falling {
            index,
            kind,
            fall_speed: (base_speed + i64::from(jitter)).clamp(0, i64::from(i32::MAX)) as i32,
        },
        Position { x, y: -half_height },
    ))
}

/// Ends the tick, and the round once the shelf is full or the time is up.
fn advance_clock(board: &mut Board) {
    let clock = &mut board.clock;
    clock.tick += 1;
    if board.shelf.books >= board.rules.shelf_target {
        clock.status = RoundStatus::ShelfFull;
    } else if clock.tick >= board.rules.round_ticks {
        clock.status = RoundStatus::TimeUp;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::Clock;
    use crate::{Round, Seed};

    /// A round under `rules` where nothing falls unless the test puts it there.
    fn quiet_round(rules: &Rules) -> Round {
        let mut round = Round::new(Seed(0), rules);
        let fairy = round.fairy_entity();
        let mut board = round.world_mut().get_mut::<Board>(fairy).unwrap();
        board.sky.next_drop_tick = u32::MAX;
        round
    }

    /// Puts a motionless `kind` with spawn index `index` at (`x`, `y`).
    fn put(round: &mut Round, index: u32, kind: FallingKind, x: i32, y: i32) {
        round.world_mut().spawn((
            SkySlot(Some(Falling {
                index,
                kind,
                fall_speed: 0,
            })),
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

    /// How many places the sky of `round` has, full or empty.
    fn places(round: &mut Round) -> usize {
        let world = round.world_mut();
        let mut places = world.query::<&SkySlot>();
        places.iter(world).count()
    }

    #[test]
    fn a_new_place_in_the_sky_only_when_none_is_empty() {
        let rules = Rules::CURRENT;
        let mut round = Round::new(Seed(5), &rules);
        let mut most_aloft = 0;
        for next_seed in [6, 7] {
            while !round.is_over() {
                // Sweeps from side to side, catching some and missing some.
                let column = (round.tick() / 3 % u32::from(Steer::MAX + 1)) as u8;
                round.step(Steer::new(column).unwrap());
                most_aloft = most_aloft.max(round.falling().count());
            }
            assert!(most_aloft > 1, "a round drops things");
            assert_eq!(
                places(&mut round),
                most_aloft,
                "as many places as things were ever aloft at once"
            );
            round.restart(Seed(next_seed), &rules);
            assert_eq!(round.falling().count(), 0, "a new round's sky is empty");
            assert_eq!(places(&mut round), most_aloft, "and keeps its places");
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

    proptest::proptest! {
        /// A flight worked out at once ends where the ticks one by one take
        /// the fairy (quiet ticks are played that way).
        #[test]
        fn a_flight_of_many_ticks_is_that_of_one_tick_at_a_time(
            x in -100_000i32..100_000,
            aim in -100_000i32..100_000,
            speed in 0i32..5_000,
            ticks in 0u32..2_000,
        ) {
            let rules = Rules {
                fairy_speed: speed,
                ..Rules::default()
            };
            let mut step_by_step = x;
            for _ in 0..ticks {
                step_by_step = fly_to(&rules, step_by_step, aim, 1);
            }
            proptest::prop_assert_eq!(fly_to(&rules, x, aim, ticks), step_by_step);
        }

        /// A height worked out at once is where the ticks one by one take it.
        #[test]
        fn a_height_after_many_ticks_is_that_of_one_tick_at_a_time(
            y in proptest::prelude::any::<i32>(),
            speed in proptest::prelude::any::<i32>(),
            ticks in 0u32..2_000,
        ) {
            let mut step_by_step = y;
            for _ in 0..ticks {
                step_by_step = step_by_step.saturating_add(speed);
            }
            proptest::prop_assert_eq!(height_after(y, speed, ticks), step_by_step);
        }

        /// A thing is left alone exactly for the ticks after whose fall it
        /// is still clear, whatever its height, speed and the clearance.
        #[test]
        fn a_thing_comes_near_on_the_first_tick_it_is_not_clear(
            y in -20_000i32..20_000,
            speed in -50i32..400,
            lowest in -5_000i64..20_000,
            kind_code in 0usize..3,
            now in 0u32..1_000,
        ) {
            let kind = [FallingKind::Book, FallingKind::GoldenBook, FallingKind::Cloud][kind_code];
            let mut limits = [0; 3];
            limits[kind_code] = lowest;
            let clear = Clearance(limits);
            let thing = Falling { index: 0, kind, fall_speed: speed };
            let fall = clear.fall_of(&thing, y, now);
            proptest::prop_assert_eq!(fall.since, now);
            // The first tick (from `now`, within 1,000) after whose fall it
            // is not clear.
            let first_not_clear = (now..now + 1_000)
                .find(|&tick| !clear.is_clear(kind, height_after(y, speed, tick + 1 - now)));
            match first_not_clear {
                Some(tick) => proptest::prop_assert_eq!(fall.near_at, tick),
                None => proptest::prop_assert!(fall.near_at >= now + 1_000),
            }
        }
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
