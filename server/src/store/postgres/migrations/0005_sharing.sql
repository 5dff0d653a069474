-- Sharing: share codes, the players who hold them, and what they brought.
-- Recognition only: nothing here funds or unlocks anything. (Numbered as
-- SQLite's 0005_sharing.sql, which it mirrors.)

-- Every share code: a player's (given with their first counted
-- participation) or a poster's (crediting a class or an event).
CREATE TABLE share_codes (
    code             TEXT   COLLATE "C" PRIMARY KEY, -- 8 characters of Crockford base32, upper case
    owner            BYTEA  UNIQUE,                  -- the player; NULL for a poster's code
    label            TEXT,                           -- a poster's class or event
    referred_players BIGINT NOT NULL DEFAULT 0,      -- players whose first counted participation came with it
    participations   BIGINT NOT NULL DEFAULT 0       -- participations that came with it
);

-- The report's top referring codes.
CREATE INDEX share_codes_by_referred ON share_codes (referred_players DESC, code)
    WHERE referred_players > 0;

-- Every player ever counted, moved in the transaction that counts them.
CREATE TABLE players (
    player         BYTEA  PRIMARY KEY,        -- 16 bytes
    share_code     TEXT   COLLATE "C" UNIQUE, -- NULL until their next count, for players counted before this table
    participations BIGINT NOT NULL,
    latest         BIGINT NOT NULL,           -- their latest participation's number
    referred_by    TEXT   COLLATE "C"         -- the code credited with bringing them
);

INSERT INTO players (player, share_code, participations, latest, referred_by)
SELECT player, NULL, COUNT(*), MAX(seq), NULL FROM participations GROUP BY player;

-- The campaign's sharing tallies.
CREATE TABLE share_totals (
    id               BIGINT PRIMARY KEY CHECK (id = 1),
    participations   BIGINT NOT NULL,
    referred_players BIGINT NOT NULL
);
INSERT INTO share_totals (id, participations, referred_players) VALUES (1, 0, 0);

-- A participation's `referral` is now the code credited with it (a known
-- code that is not the player's own). Codes before this migration named no
-- sharer, so none was credited.
UPDATE participations SET referral = NULL;
DROP TABLE referral_tallies;
