//! The pages of the app, one module each.

mod agents;
mod dashboard;
mod home;
mod icons;
mod map;
mod plan;
mod timeline;
mod trip;
mod trips;

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_params_map;

pub use agents::AgentsPage;
pub use dashboard::DashboardPage;
pub use home::HomePage;
pub use trip::TripPage;
pub use trips::TripsPage;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><a href="/">"Plan a trip"</a></p>
        </section>
    }
}

/// `/requests/:id`, the address of a plan before trips lived on the
/// runtime: now `/trips/:id`.
/// Only a well-formed id is redirected (the `Location` header must be a
/// valid header value: anything from the URL is checked first).
#[component]
pub fn RequestRedirect() -> impl IntoView {
    let params = use_params_map();
    let id = params.with_untracked(|p| p.get("id").unwrap_or_default());
    let well_formed = id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if well_formed {
        view! { <Redirect path=format!("/trips/{id}") /> }.into_any()
    } else {
        view! { <NotFound /> }.into_any()
    }
}

/// `$1,234` (whole dollars).
pub fn money(usd: f64) -> String {
    let whole = usd.round() as i64;
    let digits = whole.abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if whole < 0 {
        format!("−${grouped}")
    } else {
        format!("${grouped}")
    }
}

/// `+$40` / `−$12` / `same price`.
pub fn money_delta(delta: f64) -> String {
    if delta.abs() < 0.5 {
        "same price".to_owned()
    } else if delta > 0.0 {
        format!("+{}", money(delta))
    } else {
        money(delta)
    }
}

/// "Friday 5 March" (with `year`: "Friday 5 March 2027"), as chrono's
/// `%A %-d %B %Y` writes it. By hand: chrono's format strings would bring
/// its strftime parser and formatter into the WebAssembly bundle.
pub fn long_date(date: chrono::NaiveDate, year: bool) -> String {
    use chrono::Datelike;
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let weekday = DAYS[date.weekday().num_days_from_monday() as usize];
    let month = MONTHS[date.month0() as usize];
    if year {
        format!("{weekday} {} {month} {}", date.day(), date.year())
    } else {
        format!("{weekday} {} {month}", date.day())
    }
}

/// "09:05" (chrono's `%H:%M`, by hand: see [`long_date`]).
pub fn hh_mm(time: chrono::NaiveTime) -> String {
    use chrono::Timelike;
    format!("{:02}:{:02}", time.hour(), time.minute())
}

/// `v` with `decimals` digits after the point ("12.5", "40"), as
/// `format!("{v:.1}")` writes it for the figures the pages show (halves
/// round away from zero). By hand: the standard formatter's exact-precision
/// float code is several kilobytes of the WebAssembly bundle.
pub fn fixed(v: f64, decimals: u32) -> String {
    if !v.is_finite() {
        return "0".to_owned();
    }
    let scale = 10_i64.pow(decimals);
    let n = (v * scale as f64).round() as i64;
    let sign = if n < 0 { "-" } else { "" };
    let (whole, frac) = (
        n.unsigned_abs() / scale as u64,
        n.unsigned_abs() % scale as u64,
    );
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac:0width$}", width = decimals as usize)
    }
}

/// "1 traveller", "3 travellers".
pub fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A table of figures that scrolls sideways on a narrow screen (the
/// scrolling box a focusable region read out as `label`), headed by
/// `columns`; `children` are the rows of its body.
#[component]
pub fn WideTable<const N: usize>(
    label: &'static str,
    class: &'static str,
    testid: &'static str,
    columns: [&'static str; N],
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap" tabindex="0" role="region" aria-label=label>
            <table class=class data-testid=testid>
                <thead>
                    <tr>{columns.map(|column| view! { <th scope="col">{column}</th> })}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands_and_signs_deltas() {
        assert_eq!(money(1234.4), "$1,234");
        assert_eq!(money(999.0), "$999");
        assert_eq!(money(1_000_000.0), "$1,000,000");
        assert_eq!(money_delta(40.0), "+$40");
        assert_eq!(money_delta(-12.0), "−$12");
        assert_eq!(money_delta(0.2), "same price");
        assert_eq!(plural(1, "day", "days"), "1 day");
        assert_eq!(plural(3, "day", "days"), "3 days");
    }

    #[test]
    fn fixed_writes_what_the_standard_formatter_writes() {
        for v in [
            0.0, 1.0, 12.34, 99.96, 100.0, 5.55555, 1234.5678, -2.46, 0.04, 7.0e6,
        ] {
            assert_eq!(fixed(v, 0), format!("{v:.0}").replace("-0", "0"), "{v}");
            assert_eq!(fixed(v, 1), format!("{v:.1}"), "{v}");
            assert_eq!(fixed(v, 3), format!("{v:.3}"), "{v}");
        }
        assert_eq!(fixed(f64::NAN, 1), "0");
        assert_eq!(fixed(-0.04, 1), "0.0");
    }

    #[test]
    fn dates_and_times_read_as_chrono_formats_them() {
        let mut date = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
        // Every weekday and month, against chrono's own formatter.
        for _ in 0..400 {
            assert_eq!(
                long_date(date, true),
                date.format("%A %-d %B %Y").to_string()
            );
            assert_eq!(long_date(date, false), date.format("%A %-d %B").to_string());
            date = date.succ_opt().expect("next day");
        }
        assert_eq!(long_date(date, true), "Saturday 5 February 2028");
        for (h, m) in [(0, 0), (9, 5), (23, 59)] {
            let time = chrono::NaiveTime::from_hms_opt(h, m, 30).expect("time");
            assert_eq!(hh_mm(time), time.format("%H:%M").to_string());
        }
    }
}
