-- The ledger's head: one row, locked (SELECT ... FOR UPDATE) at the start
-- of every transaction that changes the ledger, by every server process, and
-- moved by it. The lock makes the writers of all processes take turns, so
-- participation numbers stay contiguous and in commit order; its revision
-- tells a writer (or the report cache, or the totals refresher) that someone
-- else committed since it last looked.
CREATE TABLE ledger_head (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    next_number BIGINT NOT NULL,              -- the number the next participation gets
    revision    BIGINT NOT NULL               -- moved by every change to the ledger
);

INSERT INTO ledger_head (id, next_number, revision)
SELECT 1, COALESCE(MAX(seq), 0) + 1, 0 FROM participations;
