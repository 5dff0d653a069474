-- The ledger's head: one row, read under the write lock by every
-- transaction that changes the ledger, and moved by it. Its revision tells
-- a writer (or the report cache) that someone else committed since it last
-- looked, which works the same on every backend.
CREATE TABLE ledger_head (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    next_number INTEGER NOT NULL,              -- the number the next participation gets
    revision    INTEGER NOT NULL               -- moved by every change to the ledger
);

INSERT INTO ledger_head (id, next_number, revision)
SELECT 1, COALESCE(MAX(seq), 0) + 1, 0 FROM participations;
