-- The bus's day: stops planned at the office or added by the crew, and the
-- crew's quick contacts (a tally without personal data).

-- A stop of one bus. date, start_time and end_time are Dutch local time, as
-- planned; planned is 0 for a stop the crew added on the spot, which came
-- in a push. cancelled keeps a cancelled stop's id, so that a bus that
-- still holds it learns it went away.
CREATE TABLE stops (
    id         TEXT PRIMARY KEY,
    bus_id     TEXT NOT NULL REFERENCES buses (id),
    date       TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time   TEXT NOT NULL,
    place      TEXT NOT NULL,
    wijk       TEXT NOT NULL,
    planned    INTEGER NOT NULL,
    cancelled  INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL -- a staff email, or "bus" for the crew's
) STRICT;
CREATE INDEX stops_date ON stops (date, start_time);

-- A quick contact: one tap on a tablet's tally. at is the tablet's clock as
-- it reported it; at_unix the same instant, for the reach figures' ranges.
CREATE TABLE quick_contacts (
    id          TEXT PRIMARY KEY,
    bus_id      TEXT NOT NULL REFERENCES buses (id),
    device_id   TEXT NOT NULL DEFAULT '',
    stop_id     TEXT NOT NULL DEFAULT '',
    stop        TEXT NOT NULL DEFAULT '',
    wijk        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    at          TEXT NOT NULL,
    at_unix     INTEGER NOT NULL,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX quick_contacts_at ON quick_contacts (at_unix);

-- The history a bus gets is every visit in the wijken on its plan.
CREATE INDEX visits_wijk ON visits (wijk, visited_at);
