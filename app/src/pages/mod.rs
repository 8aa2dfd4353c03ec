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

/// "1 traveller", "3 travellers".
pub fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
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
}
