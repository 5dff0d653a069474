-- The admin console: accounts, sessions, the append-only audit log, the
-- books' lifecycle dates, shipments per school, and the per-day tallies
-- that period reports read instead of the ledger.

CREATE TABLE users (
    id                     INTEGER PRIMARY KEY,
    name                   TEXT    NOT NULL UNIQUE,
    role                   TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    -- Only argon2id PHC strings are ever stored.
    password_hash          TEXT    NOT NULL CHECK (substr(password_hash, 1, 10) = '$argon2id$'),
    disabled               INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at_ms          INTEGER NOT NULL,
    password_changed_at_ms INTEGER NOT NULL
);

-- A session is found by the SHA-256 of its cookie's token: the token
-- itself is never stored. Ended by deleting the row (sign-out, a new
-- password or a disabled user: every row of that user).
CREATE TABLE sessions (
    token_hash      BLOB    PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    csrf_token      TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    last_seen_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (user_id);

-- Who did what, when, from where. Append-only: the triggers refuse every
-- change and every deletion.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at_ms      INTEGER NOT NULL,
    actor_kind TEXT    NOT NULL,           -- user, os_user, receipt_link, anonymous
    actor      TEXT    NOT NULL,           -- the user's or OS user's name, or the name tried
    user_id    INTEGER,
    address    TEXT,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    detail     TEXT    NOT NULL
);

CREATE INDEX audit_by_actor ON audit_log (actor, id);
CREATE INDEX audit_by_action ON audit_log (action, id);
CREATE INDEX audit_by_time ON audit_log (at_ms);
-- Login throttling counts recent failures by name and by address.
CREATE INDEX audit_failures_by_actor ON audit_log (actor, at_ms) WHERE action = 'sign_in_failed';
CREATE INDEX audit_failures_by_address ON audit_log (address, at_ms) WHERE action = 'sign_in_failed';

CREATE TRIGGER audit_log_is_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_is_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Lifecycle dates: a book allocated before this migration takes its
-- funding time (books are allocated when funded, or at the next import).
ALTER TABLE books ADD COLUMN allocated_at_ms INTEGER;
UPDATE books SET allocated_at_ms = funded_at_ms WHERE school_id IS NOT NULL;

CREATE INDEX books_by_shipment ON books (shipment) WHERE shipment IS NOT NULL;
CREATE INDEX schools_by_county ON schools (county_code);

-- Shipments are per school from now on, with carrier, tracking number,
-- the day they left and when the school confirmed them.
ALTER TABLE shipments ADD COLUMN school_id TEXT;
ALTER TABLE shipments ADD COLUMN carrier TEXT;
ALTER TABLE shipments ADD COLUMN tracking TEXT;
ALTER TABLE shipments ADD COLUMN shipped_on INTEGER;  -- China day, days since 1970-01-01
ALTER TABLE shipments ADD COLUMN confirmed_at_ms INTEGER;

UPDATE shipments SET shipped_on = (shipped_at_ms + 28800000) / 86400000;
-- A shipment made before whose books all went to one school is that
-- school's; one across schools keeps no school.
UPDATE shipments SET school_id = (
    SELECT MIN(b.school_id) FROM books b WHERE b.shipment = shipments.id
) WHERE (SELECT COUNT(DISTINCT b.school_id) FROM books b WHERE b.shipment = shipments.id) = 1;
UPDATE shipments SET confirmed_at_ms = (
    SELECT MAX(b.received_at_ms) FROM books b WHERE b.shipment = shipments.id
) WHERE EXISTS (SELECT 1 FROM books b WHERE b.shipment = shipments.id)
    AND NOT EXISTS (SELECT 1 FROM books b WHERE b.shipment = shipments.id AND b.status <> 'received');

CREATE INDEX shipments_by_school ON shipments (school_id, id);
CREATE INDEX shipments_unconfirmed ON shipments (shipped_on) WHERE confirmed_at_ms IS NULL;

-- Per-day tallies, moved in the same transaction as the books they count.
CREATE TABLE school_day_tallies (
    school_id TEXT    NOT NULL,
    day       INTEGER NOT NULL,
    allocated INTEGER NOT NULL DEFAULT 0,
    shipped   INTEGER NOT NULL DEFAULT 0,
    received  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (school_id, day)
) WITHOUT ROWID;

CREATE TABLE county_day_tallies (
    day         INTEGER NOT NULL,
    county_code TEXT    NOT NULL,
    allocated   INTEGER NOT NULL DEFAULT 0,
    shipped     INTEGER NOT NULL DEFAULT 0,
    received    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, county_code)
) WITHOUT ROWID;

CREATE TABLE rejection_day_tallies (
    day        INTEGER NOT NULL,
    reason     TEXT    NOT NULL,
    rejections INTEGER NOT NULL,
    PRIMARY KEY (day, reason)
) WITHOUT ROWID;

-- The tallies of what happened before this migration, counted once here.
INSERT INTO school_day_tallies (school_id, day, allocated)
SELECT school_id, (allocated_at_ms + 28800000) / 86400000, COUNT(*)
FROM books WHERE school_id IS NOT NULL GROUP BY 1, 2;

INSERT INTO school_day_tallies (school_id, day, shipped)
SELECT b.school_id, s.shipped_on, COUNT(*)
FROM books b JOIN shipments s ON s.id = b.shipment
WHERE b.status IN ('shipped', 'received') GROUP BY 1, 2
ON CONFLICT (school_id, day) DO UPDATE SET shipped = shipped + excluded.shipped;

INSERT INTO school_day_tallies (school_id, day, received)
SELECT school_id, (received_at_ms + 28800000) / 86400000, COUNT(*)
FROM books WHERE status = 'received' GROUP BY 1, 2
ON CONFLICT (school_id, day) DO UPDATE SET received = received + excluded.received;

INSERT INTO county_day_tallies (day, county_code, allocated, shipped, received)
SELECT t.day, s.county_code, SUM(t.allocated), SUM(t.shipped), SUM(t.received)
FROM school_day_tallies t JOIN schools s ON s.school_id = t.school_id GROUP BY 1, 2;

INSERT INTO rejection_day_tallies (day, reason, rejections)
SELECT (at_ms + 28800000) / 86400000, reason, COUNT(*) FROM rejections GROUP BY 1, 2;
