-- New players are appended, not scattered: player ids are now time-ordered
-- (version-7 UUIDs), so the `players` rows and the participations' player
-- index grow at their end; and the two UNIQUE indexes that only restated
-- who holds which share code (`players.share_code`, `share_codes.owner`)
-- are gone. Each was one more page written at a random place on every new
-- player's first count. That a player and their code name each other, once,
-- is what `check-ledger` now verifies instead: the writer gives codes only
-- to players without one, under the ledger's write lock, and a code's
-- primary key keeps it unique.
--
-- SQLite cannot drop a column's UNIQUE constraint: both tables are rebuilt.

CREATE TABLE share_codes_new (
    code             TEXT    PRIMARY KEY,    -- 8 characters of Crockford base32, upper case
    owner            BLOB,                   -- the player; NULL for a poster's code
    label            TEXT,                   -- a poster's class or event
    referred_players INTEGER NOT NULL DEFAULT 0, -- players whose first counted participation came with it
    participations   INTEGER NOT NULL DEFAULT 0  -- participations that came with it
) WITHOUT ROWID;
INSERT INTO share_codes_new (code, owner, label, referred_players, participations)
SELECT code, owner, label, referred_players, participations FROM share_codes;
DROP TABLE share_codes;
ALTER TABLE share_codes_new RENAME TO share_codes;

-- The report's top referring codes.
CREATE INDEX share_codes_by_referred ON share_codes (referred_players DESC, code)
    WHERE referred_players > 0;

CREATE TABLE players_new (
    player         BLOB    PRIMARY KEY,      -- 16 bytes
    share_code     TEXT,                     -- NULL until their next count, for players counted before share codes
    participations INTEGER NOT NULL,
    latest         INTEGER NOT NULL,         -- their latest participation's number
    referred_by    TEXT                      -- the code credited with bringing them
) WITHOUT ROWID;
INSERT INTO players_new (player, share_code, participations, latest, referred_by)
SELECT player, share_code, participations, latest, referred_by FROM players;
DROP TABLE players;
ALTER TABLE players_new RENAME TO players;
