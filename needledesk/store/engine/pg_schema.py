"""The clinic server's schema: its own append-only migrations, in PostgreSQL's SQL.

The file's migrations (`store.schema`) carry the history of every SQLite file since the
first release; a server starts at today's schema. Its first step is the file's schema 10
written for PostgreSQL (every text column in the "C" collation, so lists sort exactly as
they do in the file; each table's `rowid` gives the order rows were written, as SQLite's
does), plus what only a server needs:

- `audit_head`: the trail's head, one row, locked by `needledesk_audit_head()` within each
  writing transaction and moved on by a trigger that also refuses any audit row that does
  not follow it: two rooms writing at once can never fork the chain.
- triggers refusing UPDATE, DELETE and TRUNCATE on `audit`;
- `photo_files`: the photos' bytes (every room sees them), by their SHA-256;
- the rooms' group role `needledesk_room` and its rights: read and write the records, only
  INSERT into the trail (no UPDATE, DELETE or TRUNCATE), no CREATE. The role that runs the
  migrations (the clinic's server owner) owns the tables, the functions and the triggers.

Never edit a released step: add one, and the same step to `store.schema` for the file.
A step's number is the file schema it brings the server to.
"""

from __future__ import annotations

#: The group role every room's (or practitioner's) login role is made a member of.
ROOM_ROLE = "needledesk_room"

_TABLES = """
CREATE TABLE clients (
    id TEXT COLLATE "C" PRIMARY KEY,
    first_name TEXT COLLATE "C" NOT NULL,
    last_name TEXT COLLATE "C" NOT NULL,
    date_of_birth TEXT COLLATE "C",
    phone TEXT COLLATE "C",
    email TEXT COLLATE "C",
    fitzpatrick BIGINT,
    concerns TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    notes TEXT COLLATE "C" NOT NULL DEFAULT '',
    search_key TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    search_text TEXT COLLATE "C" NOT NULL DEFAULT '',
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE courses (
    id TEXT COLLATE "C" PRIMARY KEY,
    client_id TEXT COLLATE "C" NOT NULL REFERENCES clients(id),
    concern TEXT COLLATE "C" NOT NULL,
    planned_sessions BIGINT NOT NULL,
    interval_weeks BIGINT NOT NULL,
    started_on TEXT COLLATE "C" NOT NULL,
    notes TEXT COLLATE "C" NOT NULL DEFAULT '',
    areas_planned TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    ended_on TEXT COLLATE "C",
    end_reason TEXT COLLATE "C" NOT NULL DEFAULT '',
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE screenings (
    id TEXT COLLATE "C" PRIMARY KEY,
    client_id TEXT COLLATE "C" NOT NULL REFERENCES clients(id),
    date TEXT COLLATE "C" NOT NULL,
    answers TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    consent_signed BIGINT NOT NULL DEFAULT 0,
    notes TEXT COLLATE "C" NOT NULL DEFAULT '',
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE sessions (
    id TEXT COLLATE "C" PRIMARY KEY,
    client_id TEXT COLLATE "C" NOT NULL REFERENCES clients(id),
    course_id TEXT COLLATE "C" REFERENCES courses(id),
    started_at TEXT COLLATE "C" NOT NULL,
    practitioner TEXT COLLATE "C" NOT NULL,
    device_type TEXT COLLATE "C" NOT NULL,
    device_model TEXT COLLATE "C",
    cartridge TEXT COLLATE "C",
    cartridge_lot TEXT COLLATE "C",
    anaesthetic_product TEXT COLLATE "C",
    anaesthetic_applied_at TEXT COLLATE "C",
    anaesthetic_removed_at TEXT COLLATE "C",
    combined_with TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    aftercare TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    fee_amount TEXT COLLATE "C",
    fee_currency TEXT COLLATE "C",
    notes TEXT COLLATE "C" NOT NULL DEFAULT '',
    signed_at TEXT COLLATE "C",
    anaesthetic_lot TEXT COLLATE "C",
    anaesthetic_lot_id TEXT COLLATE "C",
    cartridge_lot_id TEXT COLLATE "C",
    screening_id TEXT COLLATE "C",
    screening_check TEXT COLLATE "C",
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE treated_areas (
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    area TEXT COLLATE "C" NOT NULL,
    depth_mm DOUBLE PRECISION NOT NULL,
    passes BIGINT,
    endpoint TEXT COLLATE "C",
    notes TEXT COLLATE "C" NOT NULL DEFAULT '',
    zone TEXT COLLATE "C",
    PRIMARY KEY (session_id, position),
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE serums (
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    product TEXT COLLATE "C" NOT NULL,
    lot TEXT COLLATE "C",
    lot_id TEXT COLLATE "C",
    PRIMARY KEY (session_id, position),
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE reactions (
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    severity BIGINT NOT NULL,
    observed TEXT COLLATE "C" NOT NULL,
    notes TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (session_id, position),
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE acknowledged_warnings (
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    warning TEXT COLLATE "C" NOT NULL,
    "by" TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (session_id, position),
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE amendments (
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id),
    position BIGINT NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    "by" TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    changes TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (session_id, position),
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE INDEX sessions_by_client ON sessions(client_id, started_at);
CREATE INDEX courses_by_client ON courses(client_id);
CREATE INDEX screenings_by_client ON screenings(client_id, date);
CREATE INDEX clients_by_name ON clients(last_name, first_name);
CREATE TABLE settings (key TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL,
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE audit (
    seq BIGINT PRIMARY KEY,
    at TEXT COLLATE "C" NOT NULL,
    who TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    record_id TEXT COLLATE "C",
    before TEXT COLLATE "C",
    after TEXT COLLATE "C",
    content_hash TEXT COLLATE "C",
    prev_hash TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_by_record ON audit(record_id, seq);
CREATE INDEX clients_by_search_key ON clients(search_key, id);
CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL,
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE products (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    maker TEXT COLLATE "C" NOT NULL DEFAULT '',
    notes TEXT COLLATE "C" NOT NULL DEFAULT '',
    retired BIGINT NOT NULL DEFAULT 0,
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE lots (
    id TEXT COLLATE "C" PRIMARY KEY,
    product_id TEXT COLLATE "C" NOT NULL REFERENCES products(id),
    lot TEXT COLLATE "C" NOT NULL,
    expires_on TEXT COLLATE "C",
    received_on TEXT COLLATE "C",
    notes TEXT COLLATE "C" NOT NULL DEFAULT '',
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE INDEX lots_by_product ON lots(product_id, expires_on);
CREATE INDEX sessions_by_course ON sessions(course_id, started_at);
CREATE TABLE consent_templates (
    id TEXT COLLATE "C" PRIMARY KEY,
    kind TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    title TEXT COLLATE "C" NOT NULL,
    body TEXT COLLATE "C" NOT NULL,
    statements TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    created_at TEXT COLLATE "C",
    created_by TEXT COLLATE "C" NOT NULL DEFAULT '',
    UNIQUE (kind, version),
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE TABLE consents (
    id TEXT COLLATE "C" PRIMARY KEY,
    client_id TEXT COLLATE "C" NOT NULL REFERENCES clients(id),
    kind TEXT COLLATE "C" NOT NULL,
    method TEXT COLLATE "C" NOT NULL,
    signed_at TEXT COLLATE "C" NOT NULL,
    practitioner TEXT COLLATE "C" NOT NULL DEFAULT '',
    title TEXT COLLATE "C" NOT NULL,
    body TEXT COLLATE "C" NOT NULL DEFAULT '',
    statements TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    answers TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    template_id TEXT COLLATE "C",
    template_version BIGINT,
    client_strokes TEXT COLLATE "C",
    client_image BYTEA,
    practitioner_strokes TEXT COLLATE "C",
    practitioner_image BYTEA,
    notes TEXT COLLATE "C" NOT NULL DEFAULT '',
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE INDEX consents_by_client ON consents(client_id, signed_at);
CREATE TABLE photos (
    id TEXT COLLATE "C" PRIMARY KEY,
    client_id TEXT COLLATE "C" NOT NULL REFERENCES clients(id),
    session_id TEXT COLLATE "C" NOT NULL REFERENCES sessions(id),
    view TEXT COLLATE "C" NOT NULL,
    label TEXT COLLATE "C" NOT NULL DEFAULT '',
    taken_at TEXT COLLATE "C",
    added_at TEXT COLLATE "C" NOT NULL,
    added_by TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    original_sha256 TEXT COLLATE "C" NOT NULL,
    sha256 TEXT COLLATE "C" NOT NULL,
    media_type TEXT COLLATE "C" NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    size BIGINT NOT NULL,
    consent_id TEXT COLLATE "C",
    removed_at TEXT COLLATE "C",
    removed_by TEXT COLLATE "C" NOT NULL DEFAULT '',
    removed_reason TEXT COLLATE "C" NOT NULL DEFAULT '',
    rowid BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE
);
CREATE INDEX photos_by_session ON photos(session_id, view);
CREATE INDEX photos_by_client ON photos(client_id, original_sha256);
CREATE INDEX photos_by_hash ON photos(sha256);
"""

_SERVER_ONLY = """
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT COLLATE "C" NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));

CREATE FUNCTION needledesk_audit_head() RETURNS TABLE (seq BIGINT, hash TEXT)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT h.seq, h.hash FROM public.audit_head h WHERE h.id = 1 FOR UPDATE
$$;

-- Once per INSERT statement (NeedleDesk writes a write's audit rows in one statement of up
-- to a thousand rows): the new rows must continue the chain from the head, one after the
-- other, and the head moves to the last. Per statement, not per row: updating the one head
-- row once per audit row inside a long transaction (an import of thousands of clients)
-- leaves a version per row that every later lock steps over, which grows quadratically.
CREATE FUNCTION needledesk_audit_follows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    head public.audit_head%ROWTYPE;
    first_seq BIGINT;
    last_seq BIGINT;
    added BIGINT;
    first_prev TEXT;
    last_hash TEXT;
BEGIN
    SELECT * INTO head FROM public.audit_head WHERE id = 1 FOR UPDATE;
    SELECT count(*), min(seq), max(seq) INTO added, first_seq, last_seq FROM new_rows;
    IF added = 0 THEN
        RETURN NULL;
    END IF;
    SELECT prev_hash INTO first_prev FROM new_rows WHERE seq = first_seq;
    SELECT hash INTO last_hash FROM new_rows WHERE seq = last_seq;
    IF first_seq <> head.seq + 1 OR last_seq - first_seq + 1 <> added
            OR first_prev <> head.hash
            OR EXISTS (SELECT 1 FROM new_rows a JOIN new_rows b ON b.seq = a.seq + 1
                       WHERE b.prev_hash <> a.hash) THEN
        RAISE EXCEPTION 'the audit trail must continue from row %', head.seq
            USING ERRCODE = 'serialization_failure';
    END IF;
    UPDATE public.audit_head SET seq = last_seq, hash = last_hash WHERE id = 1;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_follows_head AFTER INSERT ON audit
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION needledesk_audit_follows();

CREATE FUNCTION needledesk_audit_refuses() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail cannot be changed or deleted';
END $$;

CREATE TRIGGER audit_refuses_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION needledesk_audit_refuses();
CREATE TRIGGER audit_refuses_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION needledesk_audit_refuses();

CREATE TABLE photo_files (
    sha256 TEXT COLLATE "C" PRIMARY KEY,
    data BYTEA NOT NULL,
    added_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
"""

_RIGHTS = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROOM_ROLE}') THEN
        CREATE ROLE {ROOM_ROLE} NOLOGIN;
    END IF;
END $$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO {ROOM_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON clients, courses, screenings, sessions,
    treated_areas, serums, reactions, acknowledged_warnings, amendments, settings,
    products, lots, consent_templates, consents, photos TO {ROOM_ROLE};
GRANT SELECT, INSERT, DELETE ON photo_files TO {ROOM_ROLE};
GRANT SELECT ON meta, needledesk_migrations, audit_head TO {ROOM_ROLE};
GRANT SELECT, INSERT ON audit TO {ROOM_ROLE};
REVOKE ALL ON FUNCTION needledesk_audit_head() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION needledesk_audit_head() TO {ROOM_ROLE};
"""

#: (name, SQL) in order. The name's number is the file schema the step brings the server to.
STEPS: list[tuple[str, str]] = [
    ("0010_clinic_server", _TABLES + _SERVER_ONLY),
    ("0010_rights", _RIGHTS),
]

#: The migrations' own table (made before the first step).
MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS needledesk_migrations (
    name TEXT COLLATE "C" PRIMARY KEY,
    applied_at TEXT COLLATE "C" NOT NULL
)"""
