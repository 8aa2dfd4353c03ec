//! The utility objective: which valid plan a person would choose.
//!
//! The assembler first builds the cheapest plan that meets every hard
//! constraint (the same plan [`Objective::Cheapest`] starts from), then, under
//! [`Objective::Utility`], spends money on it in this order:
//!
//! 1. **Travel times** ([`leg_fits`](super::leg_fits)): on a travel day, a flight or drive
//!    that leaves room for a meal or a visit in the city reached (or left)
//!    is worth [`TRAVEL_SLOT_SHARE`] of a person-day's money per meal or
//!    visit that fits, for the whole party; legs may use at most
//!    [`LEG_SHARE`] of the money above the cheapest plan and the rooms of
//!    step 2. A drive or a taxi has no timetable: it leaves at the daytime
//!    hour that leaves the most room (after lunch on the way home, early
//!    for a long drive out), at no cost.
//! 2. **Room suited to the party** ([`room_fit`]): a party of two or more
//!    does not sleep in a shared dorm when a private room or an entire home
//!    fits the budget (the whole budget, not just the target). This comes
//!    before any optional spending (travel-day meals, upgrades), so the
//!    shared room stays only when the request asks for one ([`SharedNight::Asked`])
//!    or when even the plan's required spending leaves no room for a
//!    private one ([`SharedNight::Forced`]), and the stay's reason then
//!    says so ([`FORCED_BY_BUDGET`], [`FORCED_BY_REQUEST`]);
//!    [`shared_nights`] checks it.
//! 3. **Upgrades up to the target** ([`BudgetLevel::target_share`] of the
//!    budget): repeatedly the upgrade (a stay or a meal) with the most
//!    utility per extra dollar, while the total stays within the target;
//!    then, up to the budget itself, only upgrades whose points cost at most
//!    [`POINT_SHARE`] of the party's daily money each (good value beyond
//!    the target, e.g. a family's home for a few dollars more). A meal
//!    on a travel day is one of these purchases, not a filler: it adds
//!    [`travel_meal_points`] (its stars above the city's median, plus half
//!    a star for having a meal there at all), so one rated far below the
//!    city's median is left out rather than diluting the trip's meals.
//!
//! Utility is counted in points; a night in a stay rated 5 is worth
//! [`W_STAY`] point, a meal rated 5 [`W_MEAL`] points (a night's rest
//! shapes a trip more than one meal, three meals a day weigh about a night).
//! The room type adds [`room_fit`] per night (a couple in dorm beds: −1.5, a
//! whole home for a group: +0.3). Each cuisine the person named that a
//! day's meals serve adds [`W_CUISINE`] (once a day, a meal counting for one
//! cuisine: [`cuisines_served`]); "food" among the interests multiplies the
//! meal rating weight by [`FOOD_LOVER`]. Attractions have no price nor rating in the
//! catalog: interest matches come first in each city's route (which is a
//! nearest-neighbour walk, so a day's visits stay close), up to three a
//! full day (two when the person asks for a relaxed trip), and on travel
//! days only in the hours the timing rules leave free.
//!
//! [`Objective::Utility`]: crate::agents::Objective::Utility
//! [`Objective::Cheapest`]: crate::agents::Objective::Cheapest

use wayfare_domain::catalog::{Attraction, Restaurant, RoomType};
use wayfare_domain::intent::RoomRequirement;
use wayfare_domain::itinerary::Itinerary;
pub use wayfare_domain::preferences::BudgetLevel;
use wayfare_domain::preferences::{Interest, Pace};

use crate::agents::accommodation::{AccommodationAgent, StayOption};
use crate::agents::{Candidate, Objective, TripSpec};
use crate::catalog::Catalog;

/// Points for a night in a stay rated 5 (0 for rated 0).
pub const W_STAY: f64 = 1.0;
/// Points for a meal rated 5.
pub const W_MEAL: f64 = 0.5;
/// Points for each cuisine the person named that a day's meals serve (half
/// a star of one meal): a wish, not a rule (a cuisine they require is a
/// hard constraint, covered first). It was 0.2 for every meal serving one
/// (two stars): "we love Italian food" then filled three of seven meals
/// with Italian places rated 3.8 to 4.3 where places rated 4.5 to 4.9 were
/// free.
pub const W_CUISINE: f64 = 0.05;
/// Meal rating weight multiplier when the person says they care about food.
pub const FOOD_LOVER: f64 = 1.5;
/// Share of one person-day's money a meal or visit on a travel day is worth.
pub const TRAVEL_SLOT_SHARE: f64 = 0.1;
/// Beyond the target (up to the budget), an upgrade is bought only when a
/// point of utility costs at most this share of the party's money for a
/// day: a night one star better (0.2 point) is then worth 40% of the
/// party's daily money, a meal one star better (0.1 point) 20% (a solo
/// traveller with $93 a day pays up to $19 more for it, a couple with $83
/// each $33). At a quarter (5% and 2.5%), a party of six with $194 a
/// person a day left $120 of its budget unspent while it ate at a place
/// rated 4.4 where one rated 4.8 cost $14 a person more, and a couple in
/// Tacoma kept $100 of $500 with a breakfast rated 4.0 where one rated 4.2
/// cost $6 more (at a tenth, the party of six ate at a place rated 3.5).
pub const POINT_SHARE: f64 = 2.0;
/// Share of the money above the cheapest plan that better travel times may use.
pub const LEG_SHARE: f64 = 0.25;
/// Money a person-day is assumed to have when the request states no budget.
pub const DEFAULT_PER_PERSON_DAY: f64 = 200.0;
/// At most this many upgrades per plan (keeps the search bounded).
pub const MAX_UPGRADES: usize = 200;

/// The most a person who states `level` means to spend a person a day
/// (the upper bound of [`BudgetLevel::from_daily`]'s band); none for
/// luxury. A stated "shoestring" with a large budget is a wish to spend
/// little, not a budget to use up.
pub fn daily_cap(level: BudgetLevel) -> Option<f64> {
    match level {
        BudgetLevel::Budget => Some(100.0),
        BudgetLevel::Moderate => Some(250.0),
        BudgetLevel::Comfort => Some(500.0),
        BudgetLevel::Luxury => None,
    }
}

/// The share of the budget the plan aims to use at `level`: a budget
/// traveller keeps a margin, a luxury one spends nearly all of it. Never
/// more than the budget itself.
pub fn target_share(level: BudgetLevel) -> f64 {
    match level {
        BudgetLevel::Budget => 0.80,
        BudgetLevel::Moderate => 0.85,
        BudgetLevel::Comfort => 0.90,
        BudgetLevel::Luxury => 0.95,
    }
}

/// What the utility knows about the person, computed once per plan.
#[derive(Debug, Clone)]
pub struct Context {
    pub level: BudgetLevel,
    /// The level came from the person's words, not from the money.
    pub stated: bool,
    /// Money per person per day (the default when no budget is stated).
    pub per_person_day: f64,
    /// The budget, or infinity.
    pub budget: f64,
    /// What the plan aims to spend: the level's share of the budget.
    pub target: f64,
    /// The most the upgrades may bring the plan to: the budget, or less
    /// when the person stated a spending style ([`BudgetLevel::daily_cap`]).
    pub spend_cap: f64,
    pub people: u32,
    /// A shared room is what the request asks for (or allows outright).
    pub shared_asked: bool,
    /// Lower-case cuisines the person named (constraints and preferences).
    pub cuisines: Vec<String>,
    pub food_lover: bool,
    pub pace: Pace,
    /// Lower-case keywords an attraction's name may contain to match an
    /// interest, with the interest's label.
    pub interest_keywords: Vec<(String, &'static str)>,
}

/// The keywords in attraction names that an interest stands for.
fn interest_keywords(interest: Interest) -> &'static [&'static str] {
    match interest {
        Interest::Culture => &[
            "museum",
            "historic",
            "history",
            "memorial",
            "monument",
            "cathedral",
            "church",
            "library",
            "capitol",
        ],
        Interest::Art => &["art", "gallery", "museum"],
        Interest::Nature => &[
            "park", "garden", "trail", "lake", "falls", "forest", "botanic", "nature", "mountain",
            "river",
        ],
        Interest::Beaches => &["beach", "bay", "pier", "island"],
        Interest::Family => &["zoo", "aquarium", "children", "science", "park"],
        Interest::Nightlife => &["music", "theatre", "theater", "hall", "jazz", "opera"],
        Interest::Shopping => &["market", "mall", "shop"],
        Interest::Food => &["market", "winery", "brewery"],
        Interest::Adventure => &["trail", "climb", "adventure", "falls", "canyon", "mountain"],
    }
}

impl Context {
    pub fn new(trip: &TripSpec) -> Self {
        let days = trip.dates.len().max(1) as f64;
        let people = trip.people.max(1);
        let budget = trip.budget.filter(|b| b.is_finite() && *b > 0.0);
        let per_person_day =
            budget.map_or(DEFAULT_PER_PERSON_DAY, |b| b / days / f64::from(people));
        let stated = trip.budget_level;
        let level = stated.unwrap_or_else(|| BudgetLevel::from_daily(per_person_day));
        let budget = budget.unwrap_or(f64::INFINITY);
        // A stated style caps the spending at its band, whatever the budget.
        let spend_cap = match stated.and_then(daily_cap) {
            Some(daily) => (daily * days * f64::from(people)).min(budget),
            None => budget,
        };
        let target = if budget.is_finite() {
            budget * target_share(level)
        } else {
            DEFAULT_PER_PERSON_DAY * days * f64::from(people)
        }
        .min(spend_cap);
        let prefs: Vec<String> = trip
            .preferences
            .iter()
            .map(|p| p.trim().to_lowercase())
            .collect();
        // Cuisines: the required ones and any the wishes name ("thai food"
        // that no restaurant serves stays a wish).
        let mut cuisines: Vec<String> = trip
            .constraints
            .cuisines
            .iter()
            .map(|c| c.to_lowercase())
            .collect();
        cuisines.extend(prefs.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        cuisines.retain(|c| seen.insert(c.clone()));
        // A party with children looks for family outings too.
        let mut interests = trip.interests.clone();
        if trip.children > 0 && !interests.contains(&Interest::Family) {
            interests.push(Interest::Family);
        }
        let mut keywords: Vec<(String, &'static str)> = interests
            .iter()
            .flat_map(|i| {
                interest_keywords(*i)
                    .iter()
                    .map(|k| (k.to_string(), i.label()))
            })
            .collect();
        // Any other wish word is matched as itself (singular).
        for p in prefs.iter().filter(|p| p.len() > 3) {
            let word = p.strip_suffix('s').unwrap_or(p).to_string();
            keywords.push((word, "your interests"));
        }
        Self {
            level,
            stated: stated.is_some(),
            per_person_day,
            budget,
            spend_cap,
            target: target.min(budget),
            people,
            shared_asked: trip.constraints.room_type == Some(RoomRequirement::SharedRoom),
            cuisines,
            food_lover: interests.contains(&Interest::Food),
            pace: trip.pace.unwrap_or(Pace::Balanced),
            interest_keywords: keywords,
        }
    }

    /// Visits on a full day: two at a relaxed pace, three at a balanced
    /// one, four at a packed one.
    pub fn visits_per_full_day(&self) -> usize {
        match self.pace {
            Pace::Relaxed => 2,
            Pace::Balanced => 3,
            Pace::Packed => 4,
        }
    }

    /// Money a meal or visit that fits on a travel day is worth, for the party.
    pub fn travel_slot_value(&self) -> f64 {
        TRAVEL_SLOT_SHARE * self.per_person_day * f64::from(self.people)
    }

    /// Money one point of utility is worth beyond the target: [`POINT_SHARE`]
    /// of the party's money for a day (at least a dollar).
    pub fn point_value(&self) -> f64 {
        (POINT_SHARE * self.per_person_day * f64::from(self.people)).max(1.0)
    }

    /// "your comfort budget", "your low budget".
    pub fn level_text(&self) -> String {
        match self.level {
            BudgetLevel::Budget => "your low budget".into(),
            level => format!("your {} budget", level.key()),
        }
    }

    /// Points per night for the room type, for this party.
    pub fn room_fit(&self, room: RoomType) -> f64 {
        room_fit(room, self.people, self.shared_asked)
    }

    /// Utility of a stay for all its nights.
    pub fn stay_utility(&self, c: &Candidate<StayOption>) -> f64 {
        let nights = f64::from(c.item.nights.max(1));
        nights * (W_STAY * c.item.stay.rating / 5.0 + self.room_fit(c.item.stay.room_type))
    }

    /// Utility of one meal taken alone: its rating, and [`W_CUISINE`] when
    /// it serves a cuisine the person named (for ranking one meal's
    /// alternatives; a plan counts the cuisine once a day, see
    /// [`Context::cuisine_mask`]).
    pub fn meal_utility(&self, r: &Restaurant) -> f64 {
        self.meal_rating_utility(r)
            + if self.serves_wanted(r).is_some() {
                W_CUISINE
            } else {
                0.0
            }
    }

    /// The rating part of a meal's utility (no cuisine match).
    pub fn meal_rating_utility(&self, r: &Restaurant) -> f64 {
        let w = if self.food_lover {
            W_MEAL * FOOD_LOVER
        } else {
            W_MEAL
        };
        w * r.rating / 5.0
    }

    /// The cuisines the person named that `r` serves, one bit each (the
    /// first 64 named). A day's meals earn [`W_CUISINE`] per named cuisine
    /// among them, not per meal: "we love Italian food" asks for Italian
    /// on the trip, not for every meal at an Italian place whatever its
    /// rating.
    pub fn cuisine_mask(&self, r: &Restaurant) -> u64 {
        self.cuisines
            .iter()
            .take(64)
            .enumerate()
            .filter(|(_, w)| r.cuisines.iter().any(|c| c.eq_ignore_ascii_case(w)))
            .fold(0, |m, (i, _)| m | (1 << i))
    }

    /// Utility of one day's meals: ratings, plus [`W_CUISINE`] for each
    /// named cuisine served that day, a meal counting for one cuisine
    /// ([`cuisines_served`]).
    pub fn day_meals_utility<'a>(&self, meals: impl IntoIterator<Item = &'a Restaurant>) -> f64 {
        let mut rating = 0.0;
        let mut masks = Vec::new();
        for r in meals {
            rating += self.meal_rating_utility(r);
            masks.push(self.cuisine_mask(r));
        }
        rating + W_CUISINE * f64::from(cuisines_served(&masks))
    }

    /// The named cuisine `r` serves, if any.
    pub fn serves_wanted<'a>(&self, r: &'a Restaurant) -> Option<&'a str> {
        r.cuisines
            .iter()
            .find(|c| self.cuisines.iter().any(|w| c.eq_ignore_ascii_case(w)))
            .map(String::as_str)
    }

    /// The interest an attraction matches, if any ("museums").
    pub fn interest_of(&self, a: &Attraction) -> Option<&'static str> {
        let name = a.name.to_lowercase();
        self.interest_keywords
            .iter()
            .find(|(k, _)| name.contains(k.as_str()))
            .map(|(_, label)| *label)
    }
}

/// How many named cuisines a day's meals serve when each meal counts for
/// one of the cuisines it serves (`masks`: [`Context::cuisine_mask`] of
/// each meal): a restaurant serving "Chinese, Mexican, American" is one
/// meal, not three matches. The most such an assignment reaches (a day
/// has a few meals and a request names a few cuisines: a small search).
pub fn cuisines_served(masks: &[u64]) -> u32 {
    fn best(masks: &[u64], taken: u64) -> u32 {
        let Some((first, rest)) = masks.split_first() else {
            return 0;
        };
        let mut most = best(rest, taken);
        let mut free = first & !taken;
        while free != 0 {
            let bit = free & free.wrapping_neg();
            most = most.max(1 + best(rest, taken | bit));
            free &= !bit;
        }
        most
    }
    best(masks, 0)
}

/// Points per night for a room type: a party of two or more in a shared
/// dorm loses 1.5 (more than the best rating earns: beds among strangers
/// are what a couple or a family avoids), an entire home earns 0.3 for a
/// group (space of its own); alone, a dorm loses 0.3 and a home earns 0.1.
/// When the request asks for a shared room, the type counts for nothing.
pub fn room_fit(room: RoomType, people: u32, shared_asked: bool) -> f64 {
    if shared_asked {
        return 0.0;
    }
    match (room, people >= 2) {
        (RoomType::SharedRoom, true) => -1.5,
        (RoomType::SharedRoom, false) => -0.3,
        (RoomType::PrivateRoom, _) => 0.0,
        (RoomType::EntireHome, true) => 0.3,
        (RoomType::EntireHome, false) => 0.1,
    }
}

/// What a stay's reason says when the budget keeps a party in a shared room.
pub const FORCED_BY_BUDGET: &str = "a shared room because the budget forces it";
/// What a stay's reason says when no private room or home meets the request.
pub const FORCED_BY_REQUEST: &str =
    "a shared room because no private room or home here meets the request";

/// Why a party of two or more spends a night in a shared room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SharedNight {
    /// The request asks for a shared room.
    Asked,
    /// No private room or home meets the request, or the cheapest one
    /// would take the plan over the budget, and the stay's reason says so.
    Forced,
    /// A private room or home would have fitted (or the plan does not say
    /// why it kept the shared room).
    Unforced,
}

/// Each night a party of two or more spends in a shared room in `plan`,
/// with why. "Forced" is checked, not taken on the plan's word: the stay's
/// reason must say so, and no private room or home in the city that meets
/// the request (house rules, room type, minimum nights, units for the
/// party) may fit in place of the shared room within the budget with the
/// rest of the plan unchanged.
pub fn shared_nights(trip: &TripSpec, plan: &Itinerary, catalog: &dyn Catalog) -> Vec<SharedNight> {
    if trip.people < 2 {
        return Vec::new();
    }
    let budget = trip.budget.unwrap_or(f64::INFINITY);
    let left = budget - plan.totals.total;
    let mut out = Vec::new();
    for day in &plan.days {
        let Some(item) = &day.accommodation else {
            continue;
        };
        let stays = catalog.stays_in(&item.city);
        let Some(stay) = stays.iter().find(|s| {
            item.source_id
                .as_deref()
                .map_or(s.name == item.name, |id| s.source_id == id)
        }) else {
            continue;
        };
        if stay.room_type != RoomType::SharedRoom {
            continue;
        }
        if trip.constraints.room_type == Some(RoomRequirement::SharedRoom) {
            out.push(SharedNight::Asked);
            continue;
        }
        let nights = plan
            .days
            .iter()
            .filter(|d| {
                d.accommodation
                    .as_ref()
                    .is_some_and(|a| a.id == item.id && a.source_id == item.source_id)
            })
            .count() as u32;
        let options = AccommodationAgent.options(trip, catalog, &item.city, nights.max(1));
        let current = item.cost * f64::from(nights.max(1));
        let fits = options.iter().any(|o| {
            o.item.stay.room_type != RoomType::SharedRoom && o.cost - current <= left + 1e-6
        });
        let said =
            item.reason.contains(FORCED_BY_BUDGET) || item.reason.contains(FORCED_BY_REQUEST);
        out.push(if said && !fits {
            SharedNight::Forced
        } else {
            SharedNight::Unforced
        });
    }
    out
}

/// The rating a meal on a travel day must beat to be planned: the median
/// of the city's restaurants (`ratings`, any order; `None` when there are
/// none). A full day's three meals are planned whatever their rating (the
/// plan must feed the person); a meal around a flight or a drive is
/// optional, and one rated below what a person finds by walking into any
/// place in the city adds a name to the plan, not a better meal. Counted
/// as worth nothing, the assembler spent the money on one more meal rated
/// 4.0 in Los Angeles where it could have made a 4.0 a 4.9: the demo
/// requests' mean restaurant rating fell from the cheapest plan's 4.51 to
/// 4.49 with twelve meals more. See [`travel_meal_points`].
pub fn travel_meal_bar(ratings: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = ratings.into_iter().filter(|r| r.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// The points a meal rated `rating` adds on a travel day in a city whose
/// [`travel_meal_bar`] is `bar`: its rating's points above the bar's, plus
/// what having a meal there at all is worth — the travel slot's money
/// ([`Context::travel_slot_value`], what a leg may cost more to make room
/// for it) at the rate of a point beyond the target
/// ([`Context::point_value`]): 0.05 point, half a star. So a meal rated
/// half a star below the median adds nothing and is left out, one rated
/// at the median is bought when a tenth of a person-day's money pays for
/// it, and a better one when its stars are worth its price.
pub fn travel_meal_points(ctx: &Context, rating: f64, bar: f64) -> f64 {
    let w = if ctx.food_lover {
        W_MEAL * FOOD_LOVER
    } else {
        W_MEAL
    };
    w * (rating - bar) / 5.0 + ctx.travel_slot_value() / ctx.point_value()
}

/// How an alternative (a meal or a stay) compares with the one in the
/// plan, for the alternative's reason: "rated 4.7 vs 4.3, $18 more"
/// ("same price" within 50 cents). The alternatives are ranked by the
/// same utility as the plan ([`Context::meal_utility`],
/// [`Context::stay_utility`]); this says what choosing one changes.
pub fn compared_with_chosen(
    rating: f64,
    cost: f64,
    chosen_rating: f64,
    chosen_cost: f64,
) -> String {
    let gap = cost - chosen_cost;
    let price = if gap > 0.5 {
        format!("${gap:.0} more")
    } else if gap < -0.5 {
        format!("${:.0} less", -gap)
    } else {
        "same price".into()
    };
    format!("rated {rating} vs {chosen_rating}, {price}")
}

/// "$40 more than the cheapest" / "the cheapest".
pub fn price_gap(extra: f64) -> String {
    if extra > 0.5 {
        format!("${extra:.0} more than the cheapest")
    } else {
        "the cheapest".into()
    }
}

/// How a plan used its budget, for the plan's summary, and what a little
/// more or less money would change (the first city's stay).
pub fn budget_note(trip: &TripSpec, plan: &Itinerary, catalog: &dyn Catalog) -> String {
    if trip.objective == Objective::Cheapest {
        return "objective: cheapest valid plan".into();
    }
    let ctx = Context::new(trip);
    let total = plan.totals.total;
    let used = if ctx.budget.is_finite() {
        format!(
            "budget level {} (${:.0} a person a day{}): ${total:.0} of ${:.0} used ({:.0}%; aiming at {:.0}%)",
            ctx.level.key(),
            ctx.per_person_day,
            if ctx.stated { ", as you said" } else { "" },
            ctx.budget,
            100.0 * total / ctx.budget,
            100.0 * target_share(ctx.level)
        )
    } else {
        format!(
            "no budget stated: planned as moderate (${DEFAULT_PER_PERSON_DAY:.0} a person a day), ${total:.0} in all"
        )
    };
    let mut note = match more_or_less(&ctx, trip, plan, catalog) {
        Some(what) => format!("{used}; {what}"),
        None => used,
    };
    // Well short of the target: say why the rest is not spent.
    if ctx.budget.is_finite() && total < ctx.target - 0.05 * ctx.budget {
        note.push_str(&format!(
            "; {}",
            super::summary::short_of_target(&ctx, trip, plan, catalog)
        ));
    }
    // A party kept in a shared room says so in the summary too.
    let mut forced: Vec<(&str, &str)> = Vec::new();
    for stay in plan.days.iter().filter_map(|d| d.accommodation.as_ref()) {
        let why = if stay.reason.contains(FORCED_BY_BUDGET) {
            "the budget allows no private room or home"
        } else if stay.reason.contains(FORCED_BY_REQUEST) {
            "no private room or home there meets the request"
        } else {
            continue;
        };
        if !forced.iter().any(|(c, _)| *c == stay.city) {
            forced.push((&stay.city, why));
        }
    }
    for (city, why) in forced {
        note.push_str(&format!("; a shared room in {city}: {why}"));
    }
    note
}

/// "with $120 more: X (entire home/apt, rated 5) in Denver; with $264 less: Y …".
fn more_or_less(
    ctx: &Context,
    trip: &TripSpec,
    plan: &Itinerary,
    catalog: &dyn Catalog,
) -> Option<String> {
    let stay = plan.days.iter().find_map(|d| d.accommodation.as_ref())?;
    let id = stay.source_id.as_deref()?;
    let nights = nights_at(plan, &stay.id);
    let options = AccommodationAgent.options(trip, catalog, &stay.city, nights);
    let current = options.iter().find(|o| o.item.stay.source_id == id)?;
    let u = ctx.stay_utility(current);
    let describe = |o: &Candidate<StayOption>| {
        format!(
            "{} ({}, rated {})",
            o.item.stay.name,
            o.item.stay.room_type.label().to_lowercase(),
            o.item.stay.rating
        )
    };
    let mut parts = Vec::new();
    if let Some(better) = options
        .iter()
        .filter(|o| o.cost > current.cost && ctx.stay_utility(o) > u + 1e-9)
        .min_by(|a, b| a.cost.total_cmp(&b.cost))
    {
        // Demo names end with their city ("… in Denver"): not twice.
        let place = if better.item.stay.name.contains(stay.city.as_str()) {
            String::new()
        } else {
            format!(" in {}", stay.city)
        };
        parts.push(format!(
            "with ${:.0} more: {}{place}",
            better.cost - current.cost,
            describe(better),
        ));
    }
    // With less: the best of the cheaper stays for this party (not simply
    // the cheapest: a couple is not offered dorm beds when a cheaper
    // private room exists).
    if let Some(cheaper) = options
        .iter()
        .filter(|o| o.cost < current.cost - 0.5)
        .max_by(|a, b| {
            ctx.stay_utility(a)
                .total_cmp(&ctx.stay_utility(b))
                .then(b.cost.total_cmp(&a.cost))
        })
    {
        parts.push(format!(
            "with ${:.0} less: {}",
            current.cost - cheaper.cost,
            describe(cheaper)
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Whole dollars as a person reads them: `$3,000`.
pub fn usd(v: f64) -> String {
    let whole = v.round() as i64;
    let digits = whole.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if whole < 0 { "-" } else { "" };
    format!("{sign}${grouped}")
}

/// How many nights `plan` spends at the stay whose component id is `id`.
pub fn nights_at(plan: &Itinerary, id: &str) -> u32 {
    plan.days
        .iter()
        .filter(|d| d.accommodation.as_ref().is_some_and(|a| a.id == id))
        .count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_are_grouped_by_thousands() {
        assert_eq!(usd(0.0), "$0");
        assert_eq!(usd(999.4), "$999");
        assert_eq!(usd(3000.0), "$3,000");
        assert_eq!(usd(1_234_567.0), "$1,234,567");
        assert_eq!(usd(-1500.0), "-$1,500");
    }

    #[test]
    fn a_spending_level_aims_at_a_share_of_the_budget_and_a_stated_one_caps_it() {
        let mut previous = 0.0;
        for level in BudgetLevel::ALL {
            let share = target_share(level);
            assert!((0.5..=1.0).contains(&share) && share > previous);
            previous = share;
        }
        assert_eq!(daily_cap(BudgetLevel::Budget), Some(100.0));
        assert_eq!(daily_cap(BudgetLevel::Luxury), None);
    }

    #[test]
    fn a_named_cuisine_counts_once_a_day_and_a_meal_for_one_cuisine() {
        // Bits: 1 Italian, 2 Chinese, 4 Mexican.
        assert_eq!(cuisines_served(&[]), 0);
        assert_eq!(cuisines_served(&[0, 0, 0]), 0);
        assert_eq!(cuisines_served(&[1, 1, 1]), 1);
        assert_eq!(cuisines_served(&[1 | 2 | 4]), 1);
        assert_eq!(cuisines_served(&[1 | 2, 1]), 2);
        assert_eq!(cuisines_served(&[1 | 2 | 4, 1 | 2, 1]), 3);
        assert_eq!(cuisines_served(&[2, 0, 1 | 2]), 2);
    }

    #[test]
    fn the_bar_for_a_travel_day_meal_is_the_citys_median_rating() {
        assert_eq!(travel_meal_bar([4.0, 3.0, 5.0]), Some(4.0));
        assert_eq!(travel_meal_bar([4.0, 3.0, 5.0, 4.4]), Some(4.2));
        assert_eq!(travel_meal_bar([]), None);
    }

    #[test]
    fn an_alternative_says_how_it_compares_with_the_choice() {
        assert_eq!(
            compared_with_chosen(4.7, 58.0, 4.3, 40.0),
            "rated 4.7 vs 4.3, $18 more"
        );
        assert_eq!(
            compared_with_chosen(4.0, 30.0, 4.3, 40.0),
            "rated 4 vs 4.3, $10 less"
        );
        assert_eq!(
            compared_with_chosen(4.5, 40.2, 4.5, 40.0),
            "rated 4.5 vs 4.5, same price"
        );
    }

    #[test]
    fn a_dorm_is_for_a_party_only_what_the_request_asks() {
        assert!(room_fit(RoomType::SharedRoom, 2, false) < -W_STAY);
        assert_eq!(room_fit(RoomType::SharedRoom, 2, true), 0.0);
        assert!(
            room_fit(RoomType::EntireHome, 4, false) > room_fit(RoomType::PrivateRoom, 4, false)
        );
        assert!(
            room_fit(RoomType::SharedRoom, 1, false) > room_fit(RoomType::SharedRoom, 2, false)
        );
    }
}
