-- The participation ledger. Append-only: rows are never updated or deleted.
CREATE TABLE participations (
    -- The participation number: contiguous from 1, assigned by the writer.
    seq             INTEGER PRIMARY KEY,
    round_id        BLOB    NOT NULL,          -- 16 bytes, unique (index below)
    player          BLOB    NOT NULL,          -- 16 bytes
    referral        TEXT,
    finished_at_ms  INTEGER NOT NULL,
    day             INTEGER NOT NULL,          -- China day, days since 1970-01-01
    day_count       INTEGER NOT NULL,          -- that day's count once this row was counted
    score           INTEGER NOT NULL,
    books_caught    INTEGER NOT NULL,
    ticks_played    INTEGER NOT NULL,
    state_hash      INTEGER NOT NULL,          -- u64 bit pattern
    rules_version   INTEGER NOT NULL,
    idempotency_key TEXT    NOT NULL,
    fingerprint     BLOB    NOT NULL           -- SHA-256 of the finish request body
);

-- Each round is counted at most once: the ledger itself decides.
CREATE UNIQUE INDEX participations_by_round ON participations (round_id);

-- A player's history and their count for a day (the daily cap).
CREATE INDEX participations_by_player_day ON participations (player, day);

-- Tallies, moved in the same transaction as the rows they count.
CREATE TABLE day_tallies (
    day            INTEGER PRIMARY KEY,
    participations INTEGER NOT NULL
);

CREATE TABLE referral_tallies (
    code           TEXT PRIMARY KEY,
    participations INTEGER NOT NULL
) WITHOUT ROWID;

-- Refused requests, never counted as participations.
CREATE TABLE rejections (
    id       INTEGER PRIMARY KEY,
    at_ms    INTEGER NOT NULL,
    reason   TEXT    NOT NULL,
    round_id BLOB,
    player   BLOB
);

CREATE TABLE rejection_tallies (
    reason     TEXT PRIMARY KEY,
    rejections INTEGER NOT NULL
) WITHOUT ROWID;
