//! The home page: describe a trip (and, optionally, fill in details), and
//! go to the trip's page at once while the agents plan it.

use leptos::prelude::*;
use leptos_meta::Title;
use wayfare_domain::request::MAX_QUERY_BYTES;

use crate::api::{PlanFields, PlanTrip};
use crate::error::AppError;

/// Requests that plan on the demo catalog: one city, several cities of a
/// state, and one with constraints. (Checked by the browser tests.)
pub const EXAMPLES: [(&str, &str); 3] = [
    (
        "A weekend in Denver",
        "A 3-day trip from Seattle to Denver, May 14-16, 2027, for two of us with a budget \
         of $2,000. We love Italian food.",
    ),
    (
        "Two cities in California",
        "Please plan a 5-day trip from Chicago to California, visiting 2 cities, from June 3rd \
         to June 7th, 2027, for 3 people with a budget of $6,000.",
    ),
    (
        "Road trip with a dog",
        "Plan a 3-day trip from San Francisco to Los Angeles from July 10th to July 12th, 2027, \
         for 4 people with a budget of $3,500. We need an entire home that allows pets, and no \
         flights please.",
    ),
];

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Plan a trip — Wayfare" />
        <PlanForm />
        <section class="how card muted-card" aria-labelledby="how">
            <h2 id="how">"How it works"</h2>
            <ol class="steps">
                <li><strong>"Understand. "</strong>"Your words become dates, places, people, budget and rules."</li>
                <li><strong>"Plan. "</strong>"Agents for routes, transport, stays, dining and visits work in parallel; you watch them."</li>
                <li><strong>"Check. "</strong>"A verifier tests the plan against every constraint before you see it."</li>
                <li><strong>"Adjust. "</strong>"Change any stay, meal, visit or leg; only what depends on it is re-planned."</li>
            </ol>
        </section>
    }
}

/// The request box, the examples and the details (an island: the rest of
/// the page is static). Without JavaScript the form posts to the server
/// function, which answers with a redirect to the new trip's page.
#[island]
fn PlanForm() -> impl IntoView {
    let submit = ServerAction::<PlanTrip>::new();
    // The server function answers with a redirect to the trip's page.
    let _ = leptos::server_fn::redirect::set_redirect_hook(|to: &str| {
        let _ = window().location().set_href(to);
    });
    // With JavaScript the form is sent through the action (the page stays,
    // and so does the text if the server refuses it); without, it posts to
    // the same server function. Read by hand rather than with `ActionForm`,
    // whose form decoding (serde_qs) would be compiled into the bundle.
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form: leptos::web_sys::HtmlFormElement = event_target(&ev);
        let Ok(data) = leptos::web_sys::FormData::new_with_form(&form) else {
            return;
        };
        let value = |name: &str| data.get(name).as_string().unwrap_or_default();
        let field = |name: &str| Some(value(&format!("fields[{name}]"))).filter(|v| !v.is_empty());
        let fields = PlanFields {
            origin: field("origin"),
            destination: field("destination"),
            start_date: field("start_date"),
            days: field("days"),
            travellers: field("travellers"),
            budget: field("budget"),
            room: field("room"),
            house_rule: field("house_rule"),
            cuisines: field("cuisines"),
            transport: field("transport"),
            style: field("style"),
            pace: field("pace"),
            interests: field("interests"),
            children: field("children"),
        };
        submit.dispatch(PlanTrip {
            query: value("query"),
            fields: Some(fields),
        });
    };
    let (text, set_text) = signal(String::new());
    let details_open = RwSignal::new(false);

    let bytes = move || text.with(|t| t.trim().len());
    let too_long = move || bytes() > MAX_QUERY_BYTES;
    let error = move || submit.value().get().and_then(Result::err);
    // A request that needs more: open the details so they can be given.
    Effect::new(move |_| {
        if matches!(error(), Some(AppError::Unplannable(_))) {
            details_open.set(true);
        }
    });

    view! {
        <section class="card hero">
            <h1>"Where to next?"</h1>
            <p class="lede">
                "Describe your trip in your own words: where from and to, when, how many of you, "
                "your budget, and anything you need or love. Wayfare's agents plan it and check "
                "every constraint."
            </p>
            <div class="examples" role="group" aria-label="Example requests">
                <span class="muted">"Try one:"</span>
                {EXAMPLES
                    .iter()
                    .map(|(label, example)| {
                        let example = *example;
                        view! {
                            <button
                                type="button"
                                class="chip"
                                title=example
                                on:click=move |_| set_text.set(example.to_owned())
                            >
                                {*label}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <form action={<PlanTrip as leptos::server_fn::ServerFn>::url()} method="post" class="plan-form" on:submit=on_submit>
                <label for="query" class="field-label">"Describe your trip"</label>
                <textarea
                    id="query"
                    name="query"
                    rows="4"
                    placeholder=EXAMPLES[0].1
                    required
                    aria-describedby="query-counter"
                    on:input=move |ev| set_text.set(event_target_value(&ev))
                    prop:value=text
                ></textarea>
                <details class="more" prop:open=move || details_open.get()>
                    <summary>"Add details (optional): they win over the text"</summary>
                    <div class="fields">
                        <Field name="origin" label="From" placeholder="Seattle" />
                        <Field name="destination" label="To (a city or a state)" placeholder="Denver" />
                        <Field name="start_date" label="First day" kind="date" />
                        <Field name="days" label="Days" kind="number" placeholder="3" min="2" max="30" />
                        <Field name="travellers" label="Travellers" kind="number" placeholder="2" min="1" max="20" />
                        <Field name="children" label="Of whom children" kind="number" placeholder="0" min="0" max="20" />
                        <Field name="budget" label="Budget (USD)" kind="number" placeholder="2000" min="1" />
                        <Choice name="room" label="Room" options=ROOMS />
                        <Choice name="house_rule" label="The stay must allow" options=HOUSE_RULES />
                        <Field name="cuisines" label="Cuisines to include" placeholder="Italian, Thai" />
                        <Choice name="style" label="Spending" options=STYLES />
                        <Choice name="pace" label="Pace" options=PACES />
                        <Field name="interests" label="Interests" placeholder="museums, parks, food" />
                        <Choice name="transport" label="Getting there" options=TRANSPORT />
                    </div>
                </details>
                <div class="form-row">
                    <span id="query-counter" class="counter" data-testid="counter" class:over=too_long>
                        {move || format!("{} / {} characters", bytes(), MAX_QUERY_BYTES)}
                    </span>
                    <button type="submit" class="primary" disabled=move || submit.pending().get()>
                        {move || if submit.pending().get() { "Starting…" } else { "Plan my trip" }}
                    </button>
                </div>
                {move || error().map(|err| view! { <SubmitError err /> })}
            </form>
        </section>
    }
}

#[component]
fn SubmitError(err: AppError) -> impl IntoView {
    match err {
        AppError::Unplannable(questions) => view! {
            <div class="error-box" role="alert" data-testid="questions">
                <p><strong>"Wayfare needs a little more to plan this trip:"</strong></p>
                <ul>{questions.into_iter().map(|q| view! { <li>{q}</li> }).collect_view()}</ul>
                <p class="muted">"Add it to your description, or fill in the details above, and plan again."</p>
            </div>
        }
        .into_any(),
        other => view! { <p class="error-box" role="alert">{other.to_string()}</p> }.into_any(),
    }
}

/// The `N` options of a [`Choice`]: `(value, text)`, the first one the
/// empty value that leaves it to Wayfare. (An array, not a slice: Leptos
/// renders it without the hydration marker a list of any length needs.)
type Options<const N: usize> = [(&'static str, &'static str); N];

/// `fields[room]`: the kinds of room a stay may be.
const ROOMS: Options<5> = [
    ("", "Any"),
    ("entire", "Entire home"),
    ("private", "Private room"),
    ("not_shared", "Not shared"),
    ("shared", "Shared room"),
];

/// `fields[house_rule]`: what the stay must allow.
const HOUSE_RULES: Options<6> = [
    ("", "Nothing special"),
    ("pets", "Pets"),
    ("children", "Children under 10"),
    ("visitors", "Visitors"),
    ("parties", "Parties"),
    ("smoking", "Smoking"),
];

/// `fields[style]`: how much to spend.
const STYLES: Options<5> = [
    ("", "Wayfare decides from the budget"),
    ("budget", "As little as possible"),
    ("moderate", "Moderate"),
    ("comfort", "Comfortable"),
    ("luxury", "Luxury"),
];

/// `fields[pace]`: how many visits a day.
const PACES: Options<3> = [
    ("", "Balanced: three visits a day"),
    ("relaxed", "Relaxed: two visits a day"),
    ("packed", "Packed: four visits a day"),
];

/// `fields[transport]`: the ways of getting there to leave out.
const TRANSPORT: Options<3> = [
    ("", "Any way"),
    ("no_flight", "No flights"),
    ("no_self_driving", "No driving myself"),
];

/// One optional text field of the form, named `fields[<name>]`.
#[component]
fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(optional)] kind: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    #[prop(optional)] min: Option<&'static str>,
    #[prop(optional)] max: Option<&'static str>,
) -> impl IntoView {
    let id = format!("f-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=format!("fields[{name}]")
                type=kind.unwrap_or("text")
                placeholder=placeholder
                min=min
                max=max
                autocomplete="off"
            />
        </div>
    }
}

/// One optional choice of the form, a `<select>` named `fields[<name>]`.
#[component]
fn Choice<const N: usize>(
    name: &'static str,
    label: &'static str,
    options: Options<N>,
) -> impl IntoView {
    let id = format!("f-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <select id=id name=format!("fields[{name}]")>
                {options.map(|(value, text)| view! { <option value=value>{text}</option> })}
            </select>
        </div>
    }
}
