//! The TravelPlanner importer: reads a directory of the benchmark's CSV files
//! into [`CatalogData`] and says, file by file, what it did with every row.
//!
//! Two layouts are recognised (the first file found wins):
//!
//! | table | sandbox layout | original repository layout |
//! |---|---|---|
//! | stays | `accommodations.csv` | `accommodations/clean_accommodations_2022.csv` |
//! | attractions | `attractions.csv` | `attractions/attractions.csv` |
//! | restaurants | `restaurants.csv` | `restaurants/clean_restaurant_2022.csv` |
//! | ground routes | `distance.csv` | `googleDistanceMatrix/distance.csv` |
//! | flights | `flights.csv` | `flights/clean_Flights_2022.csv` |
//! | cities | `cities.txt` | `background/citySet_with_states.txt` |
//!
//! Columns are found by their header (case-insensitive), so an extra or
//! reordered column does not matter; the unnamed first column, when present,
//! is the row index the source ids are built from. Fields are trimmed (a few
//! names end in a space; the benchmark matches names by substring, so the
//! trimmed name still matches).
//!
//! What happens to a row:
//! - **imported**;
//! - **rejected**: a value cannot be parsed (a price of `"abc"`, a duration
//!   of `"soon"`); reported with its file, line and reason;
//! - **left out as incomplete**: a field is empty. The benchmark's scorer
//!   drops every such row (`pandas.dropna()`), so by default we do too, to
//!   plan within the same sandbox. With [`ImportOptions::keep_incomplete`]
//!   a row is kept when every empty field has a neutral meaning (no house
//!   rules = forbids nothing, no rating = 0, no minimum nights = 1, no
//!   cuisines / address / phone / website = none); a row missing its name,
//!   price, city or coordinates is still left out, as nothing could use it;
//! - **unusable** (ground routes): no distance, or a duration of a day or
//!   more, exactly the routes the benchmark refuses to cost;
//! - **duplicate**: the same origin–destination (ground routes), flight
//!   number and date (flights), source id or city name was seen before: the
//!   first row wins, as in the benchmark.
//!
//! `cost` in `distance.csv` is always empty and is ignored: costs follow
//! from the distance ([`GroundMode::cost_per_vehicle`]).
//!
//! Source ids: `<prefix>:accommodations:<index>`, `<prefix>:restaurants:<index>`,
//! `<prefix>:attractions:<line>`, `<prefix>:distance:<line>`,
//! `<prefix>:flights:<number>:<date>` (for a weekly flight the date part is
//! its weekdays, e.g. `Mon|Wed|Fri`), where the prefix is `tp` unless
//! [`ImportOptions::id_prefix`] says otherwise (the demo catalog uses `demo`).
//!
//! Extensions used by the demo catalog: `FlightDate` may hold weekdays
//! (`Mon|Wed|Fri`) or `daily` instead of a date (a weekly schedule), and a
//! line of `cities.txt` may carry a latitude and longitude after the state.
//!
//! [`GroundMode::cost_per_vehicle`]: wayfare_domain::catalog::GroundMode::cost_per_vehicle

use std::collections::HashSet;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use wayfare_domain::catalog::{
    Attraction, City, Flight, FlightSchedule, GroundRoute, Restaurant, Stay,
};

use super::CatalogData;

mod fields;
mod report;

pub use report::{FileReport, ImportProgress, ImportReport, RowIssue};

pub use fields::{
    ParsedDuration, country_of, parse_count, parse_cuisines, parse_distance_km, parse_duration,
    parse_house_rules, parse_money, parse_schedule,
};
use fields::{
    non_negative, parse_clock, parse_coordinate, parse_float, parse_rating, parse_room_type,
    weekday_label,
};

/// How to read the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Keep rows with empty fields when every empty field has a neutral
    /// meaning (see the module docs). Off by default: the benchmark's
    /// sandbox has no such rows.
    pub keep_incomplete: bool,
    /// The first part of every source id (`tp` by default).
    pub id_prefix: String,
    /// Marks every record as a sample (the demo catalog).
    pub sample: bool,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            keep_incomplete: false,
            id_prefix: "tp".to_owned(),
            sample: false,
        }
    }
}

/// The six inputs of a catalog, in the order they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CatalogFile {
    Cities,
    Flights,
    GroundRoutes,
    Stays,
    Restaurants,
    Attractions,
}

impl CatalogFile {
    pub const ALL: [CatalogFile; 6] = [
        CatalogFile::Cities,
        CatalogFile::Flights,
        CatalogFile::GroundRoutes,
        CatalogFile::Stays,
        CatalogFile::Restaurants,
        CatalogFile::Attractions,
    ];

    /// The file name in the sandbox layout.
    pub fn sandbox_name(self) -> &'static str {
        match self {
            CatalogFile::Cities => "cities.txt",
            CatalogFile::Flights => "flights.csv",
            CatalogFile::GroundRoutes => "distance.csv",
            CatalogFile::Stays => "accommodations.csv",
            CatalogFile::Restaurants => "restaurants.csv",
            CatalogFile::Attractions => "attractions.csv",
        }
    }

    /// The path in the original TravelPlanner `database/` layout.
    pub fn repository_path(self) -> &'static str {
        match self {
            CatalogFile::Cities => "background/citySet_with_states.txt",
            CatalogFile::Flights => "flights/clean_Flights_2022.csv",
            CatalogFile::GroundRoutes => "googleDistanceMatrix/distance.csv",
            CatalogFile::Stays => "accommodations/clean_accommodations_2022.csv",
            CatalogFile::Restaurants => "restaurants/clean_restaurant_2022.csv",
            CatalogFile::Attractions => "attractions/attractions.csv",
        }
    }

    /// The columns read from this CSV file, and what an empty one means
    /// (`cities.txt` is not a CSV file: none).
    fn columns(self) -> &'static [(&'static str, Empty)] {
        match self {
            CatalogFile::Cities => &[],
            CatalogFile::Flights => &[
                ("flight number", Empty::Required),
                ("price", Empty::Required),
                ("deptime", Empty::Required),
                ("arrtime", Empty::Required),
                ("actualelapsedtime", Empty::Required),
                ("flightdate", Empty::Required),
                ("origincityname", Empty::Required),
                ("destcityname", Empty::Required),
                ("distance", Empty::Required),
            ],
            CatalogFile::GroundRoutes => &[
                ("origin", Empty::Required),
                ("destination", Empty::Required),
                ("cost", Empty::Ignored),
                ("duration", Empty::Ignored),
                ("distance", Empty::Ignored),
            ],
            CatalogFile::Stays => &[
                ("name", Empty::Required),
                ("room type", Empty::Required),
                ("price", Empty::Required),
                ("minimum nights", Empty::Neutral),
                ("review rate number", Empty::Neutral),
                ("house_rules", Empty::Neutral),
                ("maximum occupancy", Empty::Required),
                ("city", Empty::Required),
            ],
            CatalogFile::Restaurants => &[
                ("name", Empty::Required),
                ("city", Empty::Required),
                ("cuisines", Empty::Neutral),
                ("average cost", Empty::Required),
                ("aggregate rating", Empty::Neutral),
            ],
            CatalogFile::Attractions => &[
                ("name", Empty::Required),
                ("latitude", Empty::Required),
                ("longitude", Empty::Required),
                ("address", Empty::Neutral),
                ("phone", Empty::Neutral),
                ("website", Empty::Neutral),
                ("city", Empty::Required),
            ],
        }
    }

    /// The table part of this file's source ids.
    fn id_segment(self) -> &'static str {
        match self {
            CatalogFile::Cities => "cities",
            CatalogFile::Flights => "flights",
            CatalogFile::GroundRoutes => "distance",
            CatalogFile::Stays => "accommodations",
            CatalogFile::Restaurants => "restaurants",
            CatalogFile::Attractions => "attractions",
        }
    }
}

/// Why an import could not run at all (bad rows are reported, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("no {file:?} file in {dir}: looked for {tried}")]
    MissingFile {
        dir: String,
        file: CatalogFile,
        tried: String,
    },
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{path}: no column {column:?} in the header")]
    MissingColumn { path: String, column: &'static str },
}

/// Where each of the six files is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFiles {
    pub cities: PathBuf,
    pub flights: PathBuf,
    pub ground_routes: PathBuf,
    pub stays: PathBuf,
    pub restaurants: PathBuf,
    pub attractions: PathBuf,
}

impl SourceFiles {
    /// Finds the files of `dir` in either layout.
    pub fn locate(dir: &Path) -> Result<Self, ReadError> {
        let find = |file: CatalogFile| {
            let candidates = [
                dir.join(file.sandbox_name()),
                dir.join(file.repository_path()),
                dir.join("database").join(file.repository_path()),
            ];
            candidates
                .iter()
                .find(|p| p.is_file())
                .cloned()
                .ok_or_else(|| ReadError::MissingFile {
                    dir: dir.display().to_string(),
                    file,
                    tried: candidates
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
        };
        Ok(Self {
            cities: find(CatalogFile::Cities)?,
            flights: find(CatalogFile::Flights)?,
            ground_routes: find(CatalogFile::GroundRoutes)?,
            stays: find(CatalogFile::Stays)?,
            restaurants: find(CatalogFile::Restaurants)?,
            attractions: find(CatalogFile::Attractions)?,
        })
    }

    fn path(&self, file: CatalogFile) -> &Path {
        match file {
            CatalogFile::Cities => &self.cities,
            CatalogFile::Flights => &self.flights,
            CatalogFile::GroundRoutes => &self.ground_routes,
            CatalogFile::Stays => &self.stays,
            CatalogFile::Restaurants => &self.restaurants,
            CatalogFile::Attractions => &self.attractions,
        }
    }
}

/// Reads a TravelPlanner directory (either layout) into a catalog.
#[tracing::instrument(skip_all, fields(dir = %dir.display()), err)]
pub fn read_dir(
    dir: &Path,
    options: &ImportOptions,
    progress: &mut (dyn FnMut(ImportProgress) + Send),
) -> Result<(CatalogData, ImportReport), ReadError> {
    let files = SourceFiles::locate(dir)?;
    let started = Instant::now();
    let mut reader = Reader::new(options);
    for file in CatalogFile::ALL {
        let path = files.path(file);
        let label = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        let io_err = |source| ReadError::Io {
            path: path.display().to_string(),
            source,
        };
        let handle = std::fs::File::open(path).map_err(io_err)?;
        let size = handle.metadata().map_err(io_err)?.len();
        reader.read(
            file,
            &label,
            io::BufReader::new(handle),
            Some(size),
            progress,
        )?;
    }
    Ok(reader.finish(started))
}

/// Reads a catalog from six in-memory texts (the embedded demo catalog).
pub fn read_texts(
    texts: &[(CatalogFile, &str); 6],
    options: &ImportOptions,
) -> Result<(CatalogData, ImportReport), ReadError> {
    let started = Instant::now();
    let mut reader = Reader::new(options);
    for file in CatalogFile::ALL {
        let Some((_, text)) = texts.iter().find(|(f, _)| *f == file) else {
            return Err(ReadError::MissingFile {
                dir: "(embedded)".to_owned(),
                file,
                tried: file.sandbox_name().to_owned(),
            });
        };
        reader.read(
            file,
            file.sandbox_name(),
            text.as_bytes(),
            Some(text.len() as u64),
            &mut |_| {},
        )?;
    }
    Ok(reader.finish(started))
}

/// How one row ended.
enum Outcome<T> {
    Keep(T),
    Reject(String),
    Unusable(String),
    Duplicate(String),
}

/// The importer's state across the six files.
struct Reader<'o> {
    options: &'o ImportOptions,
    data: CatalogData,
    report: ImportReport,
}

/// One CSV row with its columns located by header.
struct Row<'r> {
    record: &'r csv::StringRecord,
    cols: &'r [usize],
    line: u64,
}

impl Row<'_> {
    fn get(&self, col: usize) -> &str {
        self.record
            .get(self.cols[col])
            .map(str::trim)
            .unwrap_or_default()
    }
}

/// The default of an empty column under `keep_incomplete`, if it has one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Empty {
    /// The row cannot be used without this field.
    Required,
    /// The field may be empty; its neutral meaning is taken.
    Neutral,
    /// The field is ignored altogether (distance.csv's `cost`).
    Ignored,
}

impl<'o> Reader<'o> {
    fn new(options: &'o ImportOptions) -> Self {
        Self {
            options,
            data: CatalogData::default(),
            report: ImportReport::default(),
        }
    }

    fn finish(mut self, started: Instant) -> (CatalogData, ImportReport) {
        self.report.elapsed = started.elapsed();
        (self.data, self.report)
    }

    fn id(&self, file: CatalogFile, key: &str) -> String {
        format!("{}:{}:{}", self.options.id_prefix, file.id_segment(), key)
    }

    fn read(
        &mut self,
        file: CatalogFile,
        label: &str,
        input: impl Read,
        size: Option<u64>,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<(), ReadError> {
        let started = Instant::now();
        let mut report = FileReport::new(file, label.to_owned());
        // One CSV file read with its columns into rows by `$build`.
        macro_rules! rows {
            ($build:expr) => {
                self.read_csv(
                    label,
                    input,
                    size,
                    file.columns(),
                    &mut report,
                    progress,
                    $build,
                )?
            };
        }
        match file {
            CatalogFile::Cities => self.read_cities(label, input, &mut report)?,
            CatalogFile::Flights => {
                let mut seen = HashSet::new();
                self.data.flights = rows!(|me, row, _| me.flight(row, &mut seen));
            }
            CatalogFile::GroundRoutes => {
                let mut seen = HashSet::new();
                self.data.ground_routes = rows!(|me, row, _| me.ground_route(row, &mut seen));
            }
            CatalogFile::Stays => {
                let mut seen = HashSet::new();
                self.data.stays = rows!(|me, row, index| me.stay(row, index, &mut seen));
            }
            CatalogFile::Restaurants => {
                let mut seen = HashSet::new();
                self.data.restaurants =
                    rows!(|me, row, index| me.restaurant(row, index, &mut seen));
            }
            CatalogFile::Attractions => {
                self.data.attractions = rows!(|me, row, _| me.attraction(row));
            }
        }
        report.elapsed = started.elapsed();
        progress(ImportProgress {
            file: label.to_owned(),
            rows_done: report.rows_read,
            rows_total: Some(report.rows_read),
            bytes_done: size.unwrap_or(0),
            bytes_total: size,
        });
        self.report.files.push(report);
        Ok(())
    }

    /// `cities.txt`: `city<TAB>state[<TAB>lat<TAB>lon]` per line.
    fn read_cities(
        &mut self,
        label: &str,
        input: impl Read,
        report: &mut FileReport,
    ) -> Result<(), ReadError> {
        let mut seen = HashSet::new();
        for (i, line) in io::BufReader::new(input).lines().enumerate() {
            let line_no = i as u64 + 1;
            let line = line.map_err(|source| ReadError::Io {
                path: label.to_owned(),
                source,
            })?;
            if line.trim().is_empty() {
                continue;
            }
            report.rows_read += 1;
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            let issue = |reason: String| RowIssue {
                line: line_no,
                reason,
            };
            let (name, state) = match fields.as_slice() {
                [name, state, ..] if !name.is_empty() && !state.is_empty() => (*name, *state),
                _ => {
                    report
                        .incomplete
                        .push(issue("expected `city<TAB>state`".to_owned()));
                    continue;
                }
            };
            let (lat, lon) = match fields.get(2..4) {
                Some([lat, lon]) => {
                    match (parse_coordinate(lat, 90.0), parse_coordinate(lon, 180.0)) {
                        (Ok(lat), Ok(lon)) => (Some(lat), Some(lon)),
                        (Err(e), _) | (_, Err(e)) => {
                            report.rejected.push(issue(e));
                            continue;
                        }
                    }
                }
                _ => (None, None),
            };
            if !seen.insert(name.to_owned()) {
                report
                    .duplicates
                    .push(issue(format!("city {name:?} listed before")));
                continue;
            }
            report.imported += 1;
            self.data.cities.push(City {
                name: name.to_owned(),
                state: state.to_owned(),
                country: country_of(state).to_owned(),
                lat,
                lon,
                sample: self.options.sample,
            });
        }
        Ok(())
    }

    /// Reads a CSV file whose `columns` are found by header; `build` turns
    /// each complete row into a record (it gets the index column's value, or
    /// the line number when there is none).
    #[expect(
        clippy::too_many_arguments,
        reason = "one private helper for six files"
    )]
    fn read_csv<T>(
        &self,
        label: &str,
        input: impl Read,
        size: Option<u64>,
        columns: &[(&'static str, Empty)],
        report: &mut FileReport,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
        mut build: impl FnMut(&Self, &Row<'_>, &str) -> Outcome<T>,
    ) -> Result<Vec<T>, ReadError> {
        let io_err = |source: csv::Error| ReadError::Io {
            path: label.to_owned(),
            source: io::Error::other(source),
        };
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(input);
        let headers = csv.headers().map_err(io_err)?.clone();
        let find = |name: &str| {
            headers.iter().position(|h| {
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(name)
            })
        };
        let mut cols = Vec::with_capacity(columns.len());
        for (name, _) in columns {
            cols.push(find(name).ok_or_else(|| ReadError::MissingColumn {
                path: label.to_owned(),
                column: name,
            })?);
        }
        // The unnamed first column (pandas' index), when there is one.
        let index_col = headers
            .get(0)
            .filter(|h| h.trim().is_empty() || h.trim().eq_ignore_ascii_case("unnamed: 0"))
            .map(|_| 0);
        let width = headers.len();
        let mut out = Vec::new();
        let mut raw = csv::ByteRecord::new();
        loop {
            match csv.read_byte_record(&mut raw) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => return Err(io_err(e)),
            }
            let line = raw.position().map_or(0, csv::Position::line);
            report.rows_read += 1;
            if report.rows_read.is_multiple_of(512) {
                progress(ImportProgress {
                    file: label.to_owned(),
                    rows_done: report.rows_read,
                    rows_total: None,
                    bytes_done: raw.position().map_or(0, csv::Position::byte),
                    bytes_total: size,
                });
            }
            let issue = |reason: String| RowIssue { line, reason };
            let record = match csv::StringRecord::from_byte_record(raw.clone()) {
                Ok(record) => record,
                Err(e) => {
                    report.rejected.push(issue(format!("not UTF-8: {e}")));
                    continue;
                }
            };
            if record.len() != width {
                report.rejected.push(issue(format!(
                    "expected {width} fields, found {}",
                    record.len()
                )));
                continue;
            }
            let row = Row {
                record: &record,
                cols: &cols,
                line,
            };
            let empty: Vec<(&str, Empty)> = columns
                .iter()
                .enumerate()
                .filter(|(i, _)| row.get(*i).is_empty())
                .map(|(_, c)| *c)
                .filter(|(_, e)| *e != Empty::Ignored)
                .collect();
            if !empty.is_empty() {
                let names = empty
                    .iter()
                    .map(|(n, _)| format!("{n:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let required = empty.iter().any(|(_, e)| *e == Empty::Required);
                if required || !self.options.keep_incomplete {
                    report.incomplete.push(issue(format!("empty {names}")));
                    continue;
                }
            }
            let index = match index_col.and_then(|i| record.get(i)).map(str::trim) {
                Some(index) if !index.is_empty() => index.to_owned(),
                _ => line.to_string(),
            };
            match build(self, &row, &index) {
                Outcome::Keep(record) => {
                    report.imported += 1;
                    out.push(record);
                }
                Outcome::Reject(reason) => report.rejected.push(issue(reason)),
                Outcome::Unusable(reason) => report.unusable.push(issue(reason)),
                Outcome::Duplicate(reason) => report.duplicates.push(issue(reason)),
            }
        }
        Ok(out)
    }

    fn flight(&self, row: &Row<'_>, seen: &mut HashSet<String>) -> Outcome<Flight> {
        let number = row.get(0);
        let parsed = (|| {
            let price = parse_money(row.get(1)).map_err(|e| format!("Price: {e}"))?;
            let departure = parse_clock(row.get(2)).map_err(|e| format!("DepTime: {e}"))?;
            let arrival = parse_clock(row.get(3)).map_err(|e| format!("ArrTime: {e}"))?;
            let duration = parse_duration(row.get(4))
                .map_err(|e| format!("ActualElapsedTime: {e}"))?
                .minutes;
            let schedule = parse_schedule(row.get(5)).map_err(|e| format!("FlightDate: {e}"))?;
            let distance = parse_float(row.get(8))
                .and_then(non_negative)
                .map_err(|e| format!("Distance: {e}"))?;
            Ok::<_, String>((price, departure, arrival, duration, schedule, distance))
        })();
        let (price, departure, arrival, duration_min, schedule, distance_miles) = match parsed {
            Ok(p) => p,
            Err(e) => return Outcome::Reject(e),
        };
        let when = match &schedule {
            FlightSchedule::On { date } => date.to_string(),
            FlightSchedule::Weekly { days } => days
                .iter()
                .map(|d| weekday_label(*d))
                .collect::<Vec<_>>()
                .join("|"),
        };
        let source_id = self.id(CatalogFile::Flights, &format!("{number}:{when}"));
        if !seen.insert(source_id.clone()) {
            return Outcome::Duplicate(format!("flight {number} on {when} listed before"));
        }
        Outcome::Keep(Flight {
            source_id,
            number: number.to_owned(),
            origin: row.get(6).to_owned(),
            destination: row.get(7).to_owned(),
            schedule,
            departure,
            arrival,
            duration_min,
            price,
            distance_miles,
            sample: self.options.sample,
        })
    }

    fn ground_route(
        &self,
        row: &Row<'_>,
        seen: &mut HashSet<(String, String)>,
    ) -> Outcome<GroundRoute> {
        let (origin, destination) = (row.get(0), row.get(1));
        // The benchmark looks up the first row of a pair whatever it holds,
        // so a later row never replaces it, not even an unusable first row.
        if !seen.insert((origin.to_owned(), destination.to_owned())) {
            return Outcome::Duplicate(format!("{origin} → {destination} listed before"));
        }
        let (duration_text, distance_text) = (row.get(3), row.get(4));
        if distance_text.is_empty() || duration_text.is_empty() {
            return Outcome::Unusable("no duration or distance".to_owned());
        }
        let duration = match parse_duration(duration_text) {
            Ok(d) => d,
            Err(e) => return Outcome::Reject(format!("duration: {e}")),
        };
        let distance_km = match parse_distance_km(distance_text) {
            Ok(d) => d,
            Err(e) => return Outcome::Reject(format!("distance: {e}")),
        };
        if duration.has_days {
            return Outcome::Unusable(format!("takes {duration_text:?}, a day or more"));
        }
        Outcome::Keep(GroundRoute {
            source_id: self.id(CatalogFile::GroundRoutes, &row.line.to_string()),
            origin: origin.to_owned(),
            destination: destination.to_owned(),
            duration_min: duration.minutes,
            distance_km,
            duration_text: duration_text.to_owned(),
            distance_text: distance_text.to_owned(),
            sample: self.options.sample,
        })
    }

    fn stay(&self, row: &Row<'_>, index: &str, seen: &mut HashSet<String>) -> Outcome<Stay> {
        let parsed = (|| {
            let room_type = parse_room_type(row.get(1)).map_err(|e| format!("room type: {e}"))?;
            let price = parse_money(row.get(2)).map_err(|e| format!("price: {e}"))?;
            let minimum_nights = match row.get(3) {
                "" => 1,
                text => parse_count(text).map_err(|e| format!("minimum nights: {e}"))?,
            };
            let rating = match row.get(4) {
                "" => 0.0,
                text => parse_rating(text, 5.0).map_err(|e| format!("review rate number: {e}"))?,
            };
            let forbids = parse_house_rules(row.get(5)).map_err(|e| format!("house_rules: {e}"))?;
            let occupancy =
                parse_count(row.get(6)).map_err(|e| format!("maximum occupancy: {e}"))?;
            if occupancy == 0 {
                return Err("maximum occupancy: must be at least 1".to_owned());
            }
            Ok::<_, String>((room_type, price, minimum_nights, rating, forbids, occupancy))
        })();
        let (room_type, price, minimum_nights, rating, forbids, maximum_occupancy) = match parsed {
            Ok(p) => p,
            Err(e) => return Outcome::Reject(e),
        };
        let source_id = self.id(CatalogFile::Stays, index);
        if !seen.insert(source_id.clone()) {
            return Outcome::Duplicate(format!("index {index} listed before"));
        }
        Outcome::Keep(Stay {
            source_id,
            name: row.get(0).to_owned(),
            city: row.get(7).to_owned(),
            room_type,
            price,
            minimum_nights,
            maximum_occupancy,
            rating,
            forbids,
            sample: self.options.sample,
        })
    }

    fn restaurant(
        &self,
        row: &Row<'_>,
        index: &str,
        seen: &mut HashSet<String>,
    ) -> Outcome<Restaurant> {
        let average_cost = match parse_money(row.get(3)) {
            Ok(c) => c,
            Err(e) => return Outcome::Reject(format!("Average Cost: {e}")),
        };
        let rating = match row.get(4) {
            "" => 0.0,
            text => match parse_rating(text, 5.0) {
                Ok(r) => r,
                Err(e) => return Outcome::Reject(format!("Aggregate Rating: {e}")),
            },
        };
        let source_id = self.id(CatalogFile::Restaurants, index);
        if !seen.insert(source_id.clone()) {
            return Outcome::Duplicate(format!("index {index} listed before"));
        }
        Outcome::Keep(Restaurant {
            source_id,
            name: row.get(0).to_owned(),
            city: row.get(1).to_owned(),
            cuisines: parse_cuisines(row.get(2)),
            average_cost,
            rating,
            sample: self.options.sample,
        })
    }

    fn attraction(&self, row: &Row<'_>) -> Outcome<Attraction> {
        let lat = match parse_coordinate(row.get(1), 90.0) {
            Ok(v) => v,
            Err(e) => return Outcome::Reject(format!("Latitude: {e}")),
        };
        let lon = match parse_coordinate(row.get(2), 180.0) {
            Ok(v) => v,
            Err(e) => return Outcome::Reject(format!("Longitude: {e}")),
        };
        Outcome::Keep(Attraction {
            source_id: self.id(CatalogFile::Attractions, &row.line.to_string()),
            name: row.get(0).to_owned(),
            city: row.get(6).to_owned(),
            lat,
            lon,
            address: row.get(3).to_owned(),
            phone: row.get(4).to_owned(),
            website: row.get(5).to_owned(),
            sample: self.options.sample,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Weekday};
    use wayfare_domain::catalog::HouseRule;

    use super::*;

    fn options() -> ImportOptions {
        ImportOptions::default()
    }

    const CITIES: &str = "Binghamton\tNew York\nDetroit\tMichigan\nNorfolk\tVirginia\n";
    const FLIGHTS: &str = "Flight Number,Price,DepTime,ArrTime,ActualElapsedTime,FlightDate,OriginCityName,DestCityName,Distance\n\
        F1,260,05:57,08:10,2 hours 13 minutes,2022-03-01,Detroit,Norfolk,700.0\n";
    const DISTANCE: &str = "origin,destination,cost,duration,distance\n\
        Detroit,Norfolk,,10 hours 55 mins,\"1,144 km\"\n";
    const STAYS: &str = ",NAME,room type,price,minimum nights,review rate number,house_rules,maximum occupancy,city\n\
        0,\"Cozy, \"\"quiet\"\"\nroom\",Private room,131.0,1.0,2.0,No parties & No smoking,2,Detroit\n";
    const RESTAURANTS: &str = ",Name,City,Cuisines,Average Cost,Aggregate Rating\n\
        0,Le Petit Souffle,Binghamton,\"Tea, Pizza, Indian, Seafood\",46,4.8\n";
    const ATTRACTIONS: &str = "Name,Latitude,Longitude,Address,Phone,Website,City\n\
        Belle Isle,42.34,-82.98,\"Detroit, MI\",(313) 000-0000,https://example.org,Detroit\n";

    fn texts(replace: Option<(CatalogFile, &str)>) -> [(CatalogFile, &str); 6] {
        let mut texts = [
            (CatalogFile::Cities, CITIES),
            (CatalogFile::Flights, FLIGHTS),
            (CatalogFile::GroundRoutes, DISTANCE),
            (CatalogFile::Stays, STAYS),
            (CatalogFile::Restaurants, RESTAURANTS),
            (CatalogFile::Attractions, ATTRACTIONS),
        ];
        if let Some((file, text)) = replace {
            for t in &mut texts {
                if t.0 == file {
                    t.1 = text;
                }
            }
        }
        texts
    }

    #[test]
    fn durations_in_hours_and_mins_become_minutes() {
        assert_eq!(
            parse_duration("10 hours 55 mins").map(|d| d.minutes),
            Ok(655)
        );
        assert_eq!(
            parse_duration("2 hours 13 minutes").map(|d| d.minutes),
            Ok(133)
        );
        assert_eq!(parse_duration("1 hour 5 min").map(|d| d.minutes), Ok(65));
        assert_eq!(parse_duration("45 mins").map(|d| d.minutes), Ok(45));
    }

    proptest::proptest! {
        #[test]
        fn any_hours_and_minutes_text_parses_to_its_minutes(h in 0u32..200, m in 0u32..60) {
            let text = format!("{h} hours {m} mins");
            proptest::prop_assert_eq!(parse_duration(&text).map(|d| d.minutes), Ok(h * 60 + m));
        }

        #[test]
        fn thousands_separated_kilometres_parse_back(km in 0u32..100_000) {
            let text = format!("{} km", group_thousands(km));
            proptest::prop_assert_eq!(parse_distance_km(&text), Ok(f64::from(km)));
        }
    }

    fn group_thousands(n: u32) -> String {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn durations_counting_days_are_flagged() {
        let d = parse_duration("1 day 2 hours").expect("parses");
        assert_eq!(d.minutes, 26 * 60);
        assert!(d.has_days);
        assert!(!parse_duration("23 hours 59 mins").expect("parses").has_days);
    }

    #[test]
    fn malformed_durations_are_errors_not_zero() {
        assert!(parse_duration("").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3 fortnights").is_err());
        assert!(parse_duration("3").is_err());
        assert!(parse_duration("-3 hours").is_err());
    }

    #[test]
    fn distances_with_thousands_separators_parse_as_kilometres() {
        assert_eq!(parse_distance_km("1,144 km"), Ok(1144.0));
        assert_eq!(parse_distance_km("901 km"), Ok(901.0));
        assert_eq!(parse_distance_km("850 m"), Ok(0.85));
        assert!(parse_distance_km("far").is_err());
        assert!(parse_distance_km("-5 km").is_err());
    }

    #[test]
    fn pandas_floats_parse_as_whole_counts() {
        assert_eq!(parse_count("131.0"), Ok(131));
        assert_eq!(parse_count("2"), Ok(2));
        assert!(parse_count("2.5").is_err());
        assert!(parse_count("-1").is_err());
        assert!(parse_count("NaN").is_err());
        assert_eq!(parse_money("131.0"), Ok(131.0));
        assert!(parse_money("inf").is_err());
        assert!(parse_money("-10").is_err());
    }

    #[test]
    fn house_rules_split_on_ampersands_and_empty_forbids_nothing() {
        assert_eq!(
            parse_house_rules("No smoking & No parties"),
            Ok(vec![HouseRule::Parties, HouseRule::Smoking])
        );
        assert_eq!(
            parse_house_rules("No children under 10"),
            Ok(vec![HouseRule::ChildrenUnder10])
        );
        assert_eq!(parse_house_rules(""), Ok(vec![]));
        assert!(parse_house_rules("No dancing").is_err());
    }

    #[test]
    fn cuisine_lists_split_on_commas() {
        assert_eq!(
            parse_cuisines("Tea, Pizza, Indian, Seafood"),
            vec!["Tea", "Pizza", "Indian", "Seafood"]
        );
        assert_eq!(parse_cuisines("Cafe,  Cafe ,"), vec!["Cafe"]);
    }

    #[test]
    fn flight_dates_may_be_dates_weekdays_or_daily() {
        assert_eq!(
            parse_schedule("2022-03-01"),
            Ok(FlightSchedule::On {
                date: NaiveDate::from_ymd_opt(2022, 3, 1).expect("date")
            })
        );
        assert_eq!(
            parse_schedule("Fri|Mon|Wed"),
            Ok(FlightSchedule::Weekly {
                days: vec![Weekday::Mon, Weekday::Wed, Weekday::Fri]
            })
        );
        match parse_schedule("daily") {
            Ok(FlightSchedule::Weekly { days }) => assert_eq!(days.len(), 7),
            other => panic!("expected weekly, got {other:?}"),
        }
        assert!(parse_schedule("2022-02-30").is_err());
        assert!(parse_schedule("someday").is_err());
    }

    #[test]
    fn cities_outside_the_us_get_their_country() {
        assert_eq!(country_of("New York"), "United States");
        assert_eq!(country_of("England"), "United Kingdom");
        assert_eq!(country_of("St. Thomas"), "U.S. Virgin Islands");
    }

    #[test]
    fn a_small_catalog_reads_with_every_quirk() {
        let (data, report) = read_texts(&texts(None), &options()).expect("reads");
        assert_eq!(data.cities.len(), 3);
        let stay = &data.stays[0];
        assert_eq!(stay.name, "Cozy, \"quiet\"\nroom");
        assert_eq!(stay.source_id, "tp:accommodations:0");
        assert_eq!(stay.forbids, vec![HouseRule::Parties, HouseRule::Smoking]);
        assert_eq!(stay.price, 131.0);
        let route = &data.ground_routes[0];
        assert_eq!((route.duration_min, route.distance_km), (655, 1144.0));
        assert_eq!(route.source_id, "tp:distance:2");
        assert_eq!(route.distance_text, "1,144 km");
        assert_eq!(data.flights[0].source_id, "tp:flights:F1:2022-03-01");
        assert_eq!(data.flights[0].duration_min, 133);
        assert_eq!(data.attractions[0].source_id, "tp:attractions:2");
        assert_eq!(data.restaurants[0].cuisines.len(), 4);
        assert!(report.files.iter().all(|f| f.imported == f.rows_read));
    }

    #[test]
    fn a_name_spanning_lines_keeps_later_line_numbers_right() {
        let stays = ",NAME,room type,price,minimum nights,review rate number,house_rules,maximum occupancy,city\n\
            0,\"two\nline name\",Private room,100,1,2,No pets,2,Detroit\n\
            1,Bad,Private room,cheap,1,2,No pets,2,Detroit\n";
        let (data, report) =
            read_texts(&texts(Some((CatalogFile::Stays, stays))), &options()).expect("reads");
        assert_eq!(data.stays.len(), 1);
        let file = report.file(CatalogFile::Stays).expect("stays report");
        assert_eq!(file.rejected.len(), 1);
        assert_eq!(file.rejected[0].line, 4);
        assert!(
            file.rejected[0].reason.contains("price"),
            "{:?}",
            file.rejected
        );
    }

    #[test]
    fn rows_with_empty_fields_are_left_out_unless_kept() {
        let stays = ",NAME,room type,price,minimum nights,review rate number,house_rules,maximum occupancy,city\n\
            0,Full,Private room,100,1,2,No pets,2,Detroit\n\
            1,No rules,Private room,100,1,2,,2,Detroit\n\
            2,,Private room,100,1,2,No pets,2,Detroit\n\
            3,No rating,Private room,100,,,No pets,2,Detroit\n";
        let texts = texts(Some((CatalogFile::Stays, stays)));
        let (data, report) = read_texts(&texts, &options()).expect("reads");
        assert_eq!(data.stays.len(), 1);
        let file = report.file(CatalogFile::Stays).expect("stays report");
        assert_eq!(file.incomplete.len(), 3);
        assert!(file.rejected.is_empty());

        let keep = ImportOptions {
            keep_incomplete: true,
            ..options()
        };
        let (data, report) = read_texts(&texts, &keep).expect("reads");
        let names: Vec<&str> = data.stays.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Full", "No rules", "No rating"]);
        assert!(data.stays[1].forbids.is_empty());
        assert_eq!(
            (data.stays[2].minimum_nights, data.stays[2].rating),
            (1, 0.0)
        );
        // A listing without a name stays out: no plan could cite it.
        let file = report.file(CatalogFile::Stays).expect("stays report");
        assert_eq!(file.incomplete.len(), 1);
        assert_eq!(file.incomplete[0].line, 4);
    }

    #[test]
    fn ground_routes_keep_the_first_row_and_drop_unusable_ones() {
        let distance = "origin,destination,cost,duration,distance\n\
            A,B,,1 hour 5 mins,100 km\n\
            A,B,,2 hours 5 mins,200 km\n\
            A,C,,,\n\
            A,C,,1 hour,90 km\n\
            A,D,,1 day 2 hours,\"2,500 km\"\n\
            A,E,,forever,10 km\n";
        let (data, report) = read_texts(
            &texts(Some((CatalogFile::GroundRoutes, distance))),
            &options(),
        )
        .expect("reads");
        assert_eq!(data.ground_routes.len(), 1);
        assert_eq!(data.ground_routes[0].duration_min, 65);
        let file = report.file(CatalogFile::GroundRoutes).expect("report");
        assert_eq!(
            file.duplicates.iter().map(|d| d.line).collect::<Vec<_>>(),
            [3, 5]
        );
        assert_eq!(
            file.unusable.iter().map(|d| d.line).collect::<Vec<_>>(),
            [4, 6]
        );
        assert_eq!(
            file.rejected.iter().map(|d| d.line).collect::<Vec<_>>(),
            [7]
        );
        assert_eq!(file.rows_read, 6);
    }

    #[test]
    fn a_missing_column_is_an_error_naming_it() {
        let flights = "Flight Number,Price\nF1,100\n";
        let err = read_texts(&texts(Some((CatalogFile::Flights, flights))), &options())
            .expect_err("must fail");
        assert!(err.to_string().contains("deptime"), "{err}");
    }

    #[test]
    fn rows_with_the_wrong_number_of_fields_are_rejected() {
        let restaurants = ",Name,City,Cuisines,Average Cost,Aggregate Rating\n\
            0,A,Binghamton,Tea,46\n\
            1,B,Binghamton,Tea,46,4.0\n";
        let (data, report) = read_texts(
            &texts(Some((CatalogFile::Restaurants, restaurants))),
            &options(),
        )
        .expect("reads");
        assert_eq!(data.restaurants.len(), 1);
        let file = report.file(CatalogFile::Restaurants).expect("report");
        assert_eq!(file.rejected[0].line, 2);
    }

    #[test]
    fn demo_options_mark_samples_and_prefix_ids() {
        let demo = ImportOptions {
            id_prefix: "demo".to_owned(),
            sample: true,
            ..options()
        };
        let (data, _) = read_texts(&texts(None), &demo).expect("reads");
        assert!(
            data.stays
                .iter()
                .all(|s| s.sample && s.source_id.starts_with("demo:"))
        );
        assert!(data.cities.iter().all(|c| c.sample));
    }

    #[test]
    fn the_summary_lists_rejects_with_file_and_line() {
        let stays = ",NAME,room type,price,minimum nights,review rate number,house_rules,maximum occupancy,city\n\
            0,Bad,Castle,100,1,2,No pets,2,Detroit\n";
        let (_, report) =
            read_texts(&texts(Some((CatalogFile::Stays, stays))), &options()).expect("reads");
        let text = report.to_string();
        assert!(text.contains("accommodations.csv:2: room type"), "{text}");
    }
}
