-- The participation ledger. Append-only: rows are never updated or deleted.
-- Every integer is a BIGINT (the server's numbers are unsigned 64-bit);
-- every identifier that is sorted is compared byte by byte (COLLATE "C"),
-- as SQLite does, so both backends list things in the same order whatever
-- the cluster's locale.
CREATE TABLE participations (
    -- The participation number: contiguous from 1, assigned by the writer
    -- under the lock of the head row (never a sequence: sequences leave gaps).
    seq             BIGINT PRIMARY KEY,
    round_id        BYTEA  NOT NULL,           -- 16 bytes, unique (index below)
    player          BYTEA  NOT NULL,           -- 16 bytes
    referral        TEXT   COLLATE "C",
    finished_at_ms  BIGINT NOT NULL,
    day             BIGINT NOT NULL,           -- China day, days since 1970-01-01
    day_count       BIGINT NOT NULL,           -- that day's count once this row was counted
    score           BIGINT NOT NULL,
    books_caught    BIGINT NOT NULL,
    ticks_played    BIGINT NOT NULL,
    state_hash      BIGINT NOT NULL,           -- u64 bit pattern
    rules_version   BIGINT NOT NULL,
    idempotency_key TEXT   NOT NULL,
    fingerprint     BYTEA  NOT NULL            -- SHA-256 of the finish request body
);

-- Each round is counted at most once: the ledger itself decides.
CREATE UNIQUE INDEX participations_by_round ON participations (round_id);

-- A player's history and their count for a day (the daily cap).
CREATE INDEX participations_by_player_day ON participations (player, day);

-- Tallies, moved in the same transaction as the rows they count.
CREATE TABLE day_tallies (
    day            BIGINT PRIMARY KEY,
    participations BIGINT NOT NULL
);

CREATE TABLE referral_tallies (
    code           TEXT COLLATE "C" PRIMARY KEY,
    participations BIGINT NOT NULL
);

-- Refused requests, never counted as participations (their ids may have
-- gaps: nothing depends on them).
CREATE TABLE rejections (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms    BIGINT NOT NULL,
    reason   TEXT   NOT NULL,
    round_id BYTEA,
    player   BYTEA
);

CREATE TABLE rejection_tallies (
    reason     TEXT COLLATE "C" PRIMARY KEY,
    rejections BIGINT NOT NULL
);
