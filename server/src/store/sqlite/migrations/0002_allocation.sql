-- Allocation: pledges, school list versions, books and their lifecycle.
-- Books and tallies move in the same transaction as the participation or
-- the admin action that changes them.

-- Sponsor pledges, used in id order.
CREATE TABLE pledges (
    id                      INTEGER PRIMARY KEY,
    sponsor                 TEXT    NOT NULL,
    participations_per_book INTEGER NOT NULL CHECK (participations_per_book > 0),
    book_cap                INTEGER NOT NULL CHECK (book_cap > 0),
    pledged_at_ms           INTEGER NOT NULL
);

-- Every import of the school list is a new version, applied from
-- `first_book` (the first book without a school at the time) on.
CREATE TABLE school_lists (
    version        INTEGER PRIMARY KEY,
    first_book     INTEGER NOT NULL,
    imported_at_ms INTEGER NOT NULL,
    source         TEXT    NOT NULL           -- the imported file's name
);

CREATE TABLE school_list_entries (
    version      INTEGER NOT NULL REFERENCES school_lists (version),
    school_id    TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    province     TEXT    NOT NULL,
    prefecture   TEXT    NOT NULL,
    county       TEXT    NOT NULL,
    county_code  TEXT    NOT NULL,
    pupils       INTEGER NOT NULL,
    target_books INTEGER NOT NULL,
    PRIMARY KEY (version, school_id)
) WITHOUT ROWID;

-- Every school ever listed: its details from the latest list naming it, the
-- secret of its receipt link, and its book tallies (the public report reads
-- only these, never the books).
CREATE TABLE schools (
    school_id      TEXT    PRIMARY KEY,
    name           TEXT    NOT NULL,
    province       TEXT    NOT NULL,
    prefecture     TEXT    NOT NULL,
    county         TEXT    NOT NULL,
    county_code    TEXT    NOT NULL,
    pupils         INTEGER NOT NULL,
    target_books   INTEGER NOT NULL,
    receipt_secret TEXT    NOT NULL UNIQUE,
    allocated      INTEGER NOT NULL DEFAULT 0, -- books allocated (any later state included)
    shipped        INTEGER NOT NULL DEFAULT 0, -- books shipped (received included)
    received       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE shipments (
    id            INTEGER PRIMARY KEY,
    shipped_at_ms INTEGER NOT NULL,
    first_book    INTEGER NOT NULL,
    last_book     INTEGER NOT NULL,
    books         INTEGER NOT NULL,           -- books it actually moved to shipped
    note          TEXT
);

-- One row per funded book: funded -> allocated -> shipped -> received.
CREATE TABLE books (
    book           INTEGER PRIMARY KEY,       -- from 1, contiguous
    status         TEXT    NOT NULL CHECK (status IN ('funded', 'allocated', 'shipped', 'received')),
    funded_at_ms   INTEGER NOT NULL,
    school_id      TEXT    REFERENCES schools (school_id),
    list_version   INTEGER REFERENCES school_lists (version),
    shipment       INTEGER REFERENCES shipments (id),
    received_at_ms INTEGER
);

-- A school's books (its page, its receipt link).
CREATE INDEX books_by_school ON books (school_id, book) WHERE school_id IS NOT NULL;
