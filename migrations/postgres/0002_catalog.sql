-- The travel catalog: what the agents plan with. Loaded whole into memory
-- at start (engine::catalog::MemoryCatalog); these tables are its durable
-- copy, written by `wayfare import` and by the demo loader.
--
-- `id` keeps the order records were imported in (the source order), which
-- the memory catalog preserves. `source_id` names the source row
-- (`tp:accommodations:1234`, `demo:flights:WF101:daily`) and is unique.
-- `sample` is true for the hand-made demo catalog.

CREATE TABLE cities (
    name      TEXT PRIMARY KEY NOT NULL,
    state     TEXT NOT NULL,
    country   TEXT NOT NULL,
    lat       DOUBLE PRECISION,
    lon       DOUBLE PRECISION,
    sample    BOOLEAN NOT NULL DEFAULT FALSE,
    position  INTEGER NOT NULL               -- order in the source list
);
CREATE INDEX cities_state ON cities (state);

-- A flight operates either on one date (`flight_date`) or every
-- week on the days of `weekdays`, a bitmask: bit 0 = Monday … bit 6 = Sunday.
-- Exactly one of the two is set.
CREATE TABLE flights (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id       TEXT NOT NULL UNIQUE,
    number          TEXT NOT NULL,
    origin          TEXT NOT NULL,
    destination     TEXT NOT NULL,
    flight_date     DATE,
    weekdays        INTEGER,
    departure       TIME NOT NULL,           -- local time
    arrival         TIME NOT NULL,
    duration_min    INTEGER NOT NULL,
    price           DOUBLE PRECISION NOT NULL,           -- USD per person
    distance_miles  DOUBLE PRECISION NOT NULL,
    sample          BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK ((flight_date IS NULL) <> (weekdays IS NULL))
);
CREATE INDEX flights_route_date ON flights (origin, destination, flight_date);

-- One drivable route; self-driving and taxi costs follow from distance_km.
CREATE TABLE ground_routes (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id      TEXT NOT NULL UNIQUE,
    origin         TEXT NOT NULL,
    destination    TEXT NOT NULL,
    duration_min   INTEGER NOT NULL,
    distance_km    DOUBLE PRECISION NOT NULL,
    duration_text  TEXT NOT NULL,            -- as the source wrote it
    distance_text  TEXT NOT NULL,
    sample         BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX ground_routes_route ON ground_routes (origin, destination);

-- `forbids` is a bitmask of the house rules the stay forbids:
-- 1 parties, 2 smoking, 4 children under 10, 8 pets, 16 visitors
-- (so "allows pets" is `forbids & 8 = 0`).
CREATE TABLE stays (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id          TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    city               TEXT NOT NULL,
    room_type          TEXT NOT NULL,        -- entire_home | private_room | shared_room
    price              DOUBLE PRECISION NOT NULL,        -- USD per night per unit
    minimum_nights     INTEGER NOT NULL,
    maximum_occupancy  INTEGER NOT NULL,
    rating             DOUBLE PRECISION NOT NULL,
    forbids            INTEGER NOT NULL DEFAULT 0,
    sample             BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX stays_city ON stays (city);

-- `cuisines` is the set of cuisines joined with ", " in source order (a
-- cuisine never contains a comma), e.g. "Tea, Pizza, Indian, Seafood".
CREATE TABLE restaurants (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    city          TEXT NOT NULL,
    cuisines      TEXT NOT NULL,
    average_cost  DOUBLE PRECISION NOT NULL,             -- USD per person per meal
    rating        DOUBLE PRECISION NOT NULL,
    sample        BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX restaurants_city ON restaurants (city);

CREATE TABLE attractions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id  TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    city       TEXT NOT NULL,
    lat        DOUBLE PRECISION NOT NULL,
    lon        DOUBLE PRECISION NOT NULL,
    address    TEXT NOT NULL,
    phone      TEXT NOT NULL,
    website    TEXT NOT NULL,
    sample     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX attractions_city ON attractions (city);
