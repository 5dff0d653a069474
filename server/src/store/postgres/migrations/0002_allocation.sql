-- Allocation: pledges, school list versions, books and their lifecycle.
-- Books and tallies move in the same transaction as the participation or
-- the admin action that changes them.

-- Sponsor pledges, used in id order. The id is given by the writer (under
-- the head lock), so the order of use is the order of commit.
CREATE TABLE pledges (
    id                      BIGINT PRIMARY KEY,
    sponsor                 TEXT   NOT NULL,
    participations_per_book BIGINT NOT NULL CHECK (participations_per_book > 0),
    book_cap                BIGINT NOT NULL CHECK (book_cap > 0),
    pledged_at_ms           BIGINT NOT NULL
);

-- Every import of the school list is a new version, applied from
-- `first_book` (the first book without a school at the time) on.
CREATE TABLE school_lists (
    version        BIGINT PRIMARY KEY,
    first_book     BIGINT NOT NULL,
    imported_at_ms BIGINT NOT NULL,
    source         TEXT   NOT NULL            -- the imported file's name
);

CREATE TABLE school_list_entries (
    version      BIGINT NOT NULL REFERENCES school_lists (version),
    school_id    TEXT   COLLATE "C" NOT NULL,
    name         TEXT   NOT NULL,
    province     TEXT   NOT NULL,
    prefecture   TEXT   NOT NULL,
    county       TEXT   NOT NULL,
    county_code  TEXT   NOT NULL,
    pupils       BIGINT NOT NULL,
    target_books BIGINT NOT NULL,
    PRIMARY KEY (version, school_id)
);

-- Every school ever listed: its details from the latest list naming it, the
-- secret of its receipt link, and its book tallies (the public report reads
-- only these, never the books).
CREATE TABLE schools (
    school_id      TEXT   COLLATE "C" PRIMARY KEY,
    name           TEXT   NOT NULL,
    province       TEXT   NOT NULL,
    prefecture     TEXT   NOT NULL,
    county         TEXT   NOT NULL,
    county_code    TEXT   NOT NULL,
    pupils         BIGINT NOT NULL,
    target_books   BIGINT NOT NULL,
    receipt_secret TEXT   NOT NULL UNIQUE,
    allocated      BIGINT NOT NULL DEFAULT 0, -- books allocated (any later state included)
    shipped        BIGINT NOT NULL DEFAULT 0, -- books shipped (received included)
    received       BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE shipments (
    id            BIGINT PRIMARY KEY,
    shipped_at_ms BIGINT NOT NULL,
    first_book    BIGINT NOT NULL,
    last_book     BIGINT NOT NULL,
    books         BIGINT NOT NULL,            -- books it actually moved to shipped
    note          TEXT
);

-- One row per funded book: funded -> allocated -> shipped -> received.
CREATE TABLE books (
    book           BIGINT PRIMARY KEY,        -- from 1, contiguous
    status         TEXT   NOT NULL CHECK (status IN ('funded', 'allocated', 'shipped', 'received')),
    funded_at_ms   BIGINT NOT NULL,
    school_id      TEXT   COLLATE "C" REFERENCES schools (school_id),
    list_version   BIGINT REFERENCES school_lists (version),
    shipment       BIGINT REFERENCES shipments (id),
    received_at_ms BIGINT
);

-- A school's books (its page, its receipt link).
CREATE INDEX books_by_school ON books (school_id, book) WHERE school_id IS NOT NULL;
