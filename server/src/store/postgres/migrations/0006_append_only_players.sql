-- New players are appended, not scattered: player ids are now time-ordered
-- (version-7 UUIDs), so the `players` rows and the participations' player
-- index grow at their end; and the two UNIQUE indexes that only restated
-- who holds which share code (`players.share_code`, `share_codes.owner`)
-- are gone. Each was one more index page written at a random place on every
-- new player's first count. That a player and their code name each other,
-- once, is what `check-ledger` now verifies instead: the writer gives codes
-- only to players without one, under the ledger's write lock, and a code's
-- primary key keeps it unique.
ALTER TABLE players DROP CONSTRAINT players_share_code_key;
ALTER TABLE share_codes DROP CONSTRAINT share_codes_owner_key;
