//! How a plan spends beyond its cheapest valid choice, by objective: the
//! cheapest objective's even upgrades ([`upgrade_cheapest`]), and the
//! utility objective's steps — a room suited to the party first
//! ([`room_for_party`]), then upgrades by utility per dollar up to the
//! budget level's target and beyond it at good value ([`spend_on_utility`]).
//! The search that finds valid plans is `assemble`'s own (`mod.rs`).

use std::collections::{HashMap, HashSet};

use wayfare_domain::catalog::{Restaurant, RoomType};

use super::utility::{self, Context};
use super::{Proposals, Slot, UPGRADE_FACTOR};
use crate::agents::accommodation::StayOption;
use crate::agents::{Candidate, Skeleton};

/// The cheapest objective's upgrades: up to half the slack, shared out
/// evenly, on better rated stays of good value (at most `UPGRADE_FACTOR`
/// times the cheapest), then the rest, shared out over the meals, on
/// better rated restaurants.
pub(super) fn upgrade_cheapest(
    sk: &Skeleton,
    p: &Proposals,
    budget: f64,
    stays: &mut [Candidate<StayOption>],
    slots: &mut [Slot],
    total: &mut f64,
    used: &mut HashSet<(String, String)>,
) {
    let n_cities = sk.cities.len();
    for (i, (city, nights)) in sk.cities.iter().zip(&sk.nights).enumerate() {
        let share = (budget - *total) / 2.0 / (n_cities - i) as f64;
        if !share.is_finite() || share <= 0.0 {
            break;
        }
        let cap = stays[i].cost * UPGRADE_FACTOR;
        if let Some(better) = p.stays.get(&(city.clone(), *nights)).and_then(|opts| {
            opts.iter()
                .filter(|o| {
                    o.cost <= cap
                        && o.cost - stays[i].cost <= share
                        && o.item.stay.rating > stays[i].item.stay.rating
                })
                .max_by(|a, b| {
                    a.item
                        .stay
                        .rating
                        .total_cmp(&b.item.stay.rating)
                        .then(b.cost.total_cmp(&a.cost))
                })
        }) {
            *total += better.cost - stays[i].cost;
            stays[i] = better.clone();
        }
    }
    // …then the rest, shared out over the meals, on better rated restaurants.
    let mut upgradable = slots
        .iter()
        .filter(|s| !s.locked && s.choice.is_some())
        .count();
    for slot in slots.iter_mut() {
        if slot.locked {
            continue;
        }
        let Some(current) = slot.choice.clone() else {
            continue;
        };
        let slack = (budget - *total) / upgradable.max(1) as f64;
        upgradable = upgradable.saturating_sub(1);
        if !slack.is_finite() {
            break;
        }
        let city = slot.city.clone();
        if let Some(better) = p.meals.get(&city).and_then(|opts| {
            opts.iter()
                .filter(|c| {
                    c.item.rating > current.item.rating
                        && c.cost <= current.cost * UPGRADE_FACTOR
                        && c.cost - current.cost <= slack + 1e-9
                        && !used.contains(&(c.item.name.clone(), city.clone()))
                })
                .max_by(|a, b| {
                    a.item
                        .rating
                        .total_cmp(&b.item.rating)
                        .then(b.cost.total_cmp(&a.cost))
                })
        }) {
            used.remove(&(current.item.name.clone(), city.clone()));
            used.insert((better.item.name.clone(), city.clone()));
            *total += better.cost - current.cost;
            slot.choice = Some(better.clone());
        }
    }
}

/// One upgrade the utility search may make.
#[derive(Debug, Clone, Copy)]
enum Move {
    /// City `i`'s stay becomes option `j`.
    Stay(usize, usize),
    /// Slot `s`'s restaurant becomes option `j` of its city.
    Meal(usize, usize),
    /// Empty travel-day slot `s` gets option `j` of its city.
    Add(usize, usize),
}

/// What the utility's first step did to each city's stay: a room of the
/// party's own bought, or a shared room kept because none fits.
#[derive(Debug, Clone, Default)]
pub(super) struct RoomStep {
    /// A private room or home replaced dorm beds.
    upgraded: Vec<bool>,
    /// Dorm beds kept although the party is two or more and did not ask
    /// for them: `Some(extra)` when the cheapest private room or home
    /// would take the plan over the budget, `None` when no private room or
    /// home meets the request.
    forced: Vec<Option<Option<f64>>>,
}

/// The money a party of two or more needs on top of the cheapest stays to
/// sleep in rooms of its own (0 when it asked for a shared room or the
/// cheapest stays already are private).
pub(super) fn room_extra(ctx: &Context, sk: &Skeleton, p: &Proposals) -> f64 {
    if ctx.people < 2 || ctx.shared_asked {
        return 0.0;
    }
    sk.cities
        .iter()
        .zip(&sk.nights)
        .filter_map(|(c, n)| p.stays.get(&(c.clone(), *n)))
        .filter_map(|list| {
            let cheapest = list.first()?;
            if cheapest.item.stay.room_type != RoomType::SharedRoom {
                return None;
            }
            let private = list
                .iter()
                .find(|o| o.item.stay.room_type != RoomType::SharedRoom)?;
            Some(private.cost - cheapest.cost)
        })
        .sum()
}

/// The utility's first step, before any optional spending (travel-day
/// meals, upgrades): a party of two or more does not sleep in dorm beds
/// when a private room or a home meets the request within the budget. The
/// cities needing the smallest extra go first, so that as many nights as
/// the budget allows are private.
pub(super) fn room_for_party(
    ctx: &Context,
    sk: &Skeleton,
    p: &Proposals,
    stays: &mut [Candidate<StayOption>],
    total: &mut f64,
) -> RoomStep {
    let mut step = RoomStep {
        upgraded: vec![false; stays.len()],
        forced: vec![None; stays.len()],
    };
    if ctx.people < 2 || ctx.shared_asked {
        return step;
    }
    let mut wanted: Vec<(usize, Option<&Candidate<StayOption>>)> = Vec::new();
    for (i, (city, nights)) in sk.cities.iter().zip(&sk.nights).enumerate() {
        if stays[i].item.stay.room_type != RoomType::SharedRoom {
            continue;
        }
        let list = p.stays.get(&(city.clone(), *nights));
        let better = list.and_then(|l| {
            l.iter()
                .filter(|o| o.item.stay.room_type != RoomType::SharedRoom)
                .min_by(|a, b| {
                    a.cost
                        .total_cmp(&b.cost)
                        .then(ctx.stay_utility(b).total_cmp(&ctx.stay_utility(a)))
                })
        });
        wanted.push((i, better));
    }
    wanted.sort_by(|a, b| {
        let extra = |w: &(usize, Option<&Candidate<StayOption>>)| {
            w.1.map_or(f64::INFINITY, |o| o.cost - stays[w.0].cost)
        };
        extra(a).total_cmp(&extra(b))
    });
    for (i, better) in wanted {
        match better {
            Some(o) if *total + o.cost - stays[i].cost <= ctx.budget + 1e-6 => {
                *total += o.cost - stays[i].cost;
                stays[i] = o.clone();
                step.upgraded[i] = true;
            }
            Some(o) => step.forced[i] = Some(Some(o.cost - stays[i].cost)),
            None => step.forced[i] = Some(None),
        }
    }
    step
}

/// The utility objective's spending (see [`utility`]): a room suited to the
/// party within the budget, then the upgrades with the most utility per
/// extra dollar while the total stays within the level's target. Writes
/// each stay's and meal's reason.
#[allow(clippy::too_many_arguments)]
pub(super) fn spend_on_utility(
    ctx: &Context,
    sk: &Skeleton,
    p: &Proposals,
    stays: &mut [Candidate<StayOption>],
    slots: &mut [Slot],
    total: &mut f64,
    room: &RoomStep,
    stay_reasons: &mut [Option<String>],
    meal_reasons: &mut [Option<String>],
) {
    const EMPTY_STAYS: &[Candidate<StayOption>] = &[];
    const EMPTY_MEALS: &[Candidate<Restaurant>] = &[];
    let lists: Vec<&[Candidate<StayOption>]> = sk
        .cities
        .iter()
        .zip(&sk.nights)
        .map(|(c, n)| {
            p.stays
                .get(&(c.clone(), *n))
                .map_or(EMPTY_STAYS, Vec::as_slice)
        })
        .collect();
    let su: Vec<Vec<f64>> = lists
        .iter()
        .map(|l| l.iter().map(|c| ctx.stay_utility(c)).collect())
        .collect();
    let mut stay_idx: Vec<usize> = stays
        .iter()
        .zip(&lists)
        .map(|(s, l)| {
            l.iter()
                .position(|c| c.item.stay.source_id == s.item.stay.source_id)
                .unwrap_or(0)
        })
        .collect();

    // 2. Restaurants by index, one use per restaurant and city; each
    // option's rating utility and named-cuisine bits; the points of the
    // rating a travel-day meal must beat (`utility::travel_meal_bar`).
    let meal_list = |city: &str| p.meals.get(city).map_or(EMPTY_MEALS, Vec::as_slice);
    let mut mu: HashMap<&str, (Vec<f64>, Vec<u64>)> = HashMap::new();
    let mut bars: HashMap<&str, (f64, f64)> = HashMap::new();
    let mut used: HashMap<&str, Vec<bool>> = HashMap::new();
    let mut slot_idx: Vec<Option<usize>> = Vec::with_capacity(slots.len());
    for slot in slots.iter() {
        let list = meal_list(&slot.city);
        let key = sk
            .cities
            .iter()
            .find(|c| **c == slot.city)
            .map_or("", String::as_str);
        mu.entry(key).or_insert_with(|| {
            (
                list.iter()
                    .map(|c| ctx.meal_rating_utility(&c.item))
                    .collect(),
                list.iter().map(|c| ctx.cuisine_mask(&c.item)).collect(),
            )
        });
        bars.entry(key).or_insert_with(|| {
            let bar = utility::travel_meal_bar(list.iter().map(|c| c.item.rating))
                .unwrap_or(f64::INFINITY);
            // An empty slot's points, so that filling it with a meal adds
            // `travel_meal_points` (a meal rated 0 would add minus this).
            (bar, -utility::travel_meal_points(ctx, 0.0, bar))
        });
        let flags = used.entry(key).or_insert_with(|| vec![false; list.len()]);
        let idx = slot
            .choice
            .as_ref()
            .and_then(|c| list.iter().position(|o| o.item.name == c.item.name));
        if let Some(j) = idx {
            flags[j] = true;
        }
        slot_idx.push(idx);
    }
    let city_key = |city: &str| {
        sk.cities
            .iter()
            .find(|c| *c == city)
            .map_or("", String::as_str)
    };

    // 3. Best utility per dollar first, within the target; then, up to the
    // budget, only upgrades worth their price at the level's rate for a
    // point (a home for a family at $38 more when the plan is already over
    // the target).
    let phases = [(ctx.target, 0.0), (ctx.spend_cap, 1.0 / ctx.point_value())];
    let mut steps = 0;
    for (cap, min_ratio) in phases {
        while steps < utility::MAX_UPGRADES {
            steps += 1;
            let room = cap - *total;
            let mut best: Option<(f64, Move)> = None;
            let consider = |du: f64, dc: f64, m: Move, best: &mut Option<(f64, Move)>| {
                if du <= 1e-9 || dc > room + 1e-9 || (dc > 1e-9 && du / dc < min_ratio) {
                    return;
                }
                // Better and no dearer comes first; then utility per dollar.
                let key = if dc <= 1e-9 { 1e12 + du } else { du / dc };
                if best.as_ref().is_none_or(|(k, _)| key > *k) {
                    *best = Some((key, m));
                }
            };
            for (i, list) in lists.iter().enumerate() {
                let cur = stay_idx[i];
                let Some(c) = list.get(cur) else { continue };
                for (j, o) in list.iter().enumerate() {
                    consider(
                        su[i][j] - su[i][cur],
                        o.cost - c.cost,
                        Move::Stay(i, j),
                        &mut best,
                    );
                }
            }
            for (si, slot) in slots.iter().enumerate() {
                // An empty slot is an optional travel-day meal: worth
                // planning only above the city's bar.
                let cur = match slot_idx[si] {
                    Some(cur) => Some(cur),
                    None if !slot.required => None,
                    None => continue,
                };
                let key = city_key(&slot.city);
                let (Some((u, masks)), Some(flags)) = (mu.get(key), used.get(key)) else {
                    continue;
                };
                // The named cuisines of the day's other meals: a cuisine
                // counts once a day, a meal for one cuisine.
                let mut day_masks: Vec<u64> = slots
                    .iter()
                    .zip(&slot_idx)
                    .enumerate()
                    .filter(|(sj, (s, _))| *sj != si && s.day == slot.day)
                    .filter_map(|(_, (s, idx))| {
                        let m = mu.get(city_key(&s.city))?;
                        m.1.get((*idx)?).copied()
                    })
                    .filter(|m| *m != 0)
                    .collect();
                let wc = utility::W_CUISINE;
                let without = wc * f64::from(utility::cuisines_served(&day_masks));
                let mut bonus = |m: u64| {
                    if m == 0 {
                        return without;
                    }
                    day_masks.push(m);
                    let n = utility::cuisines_served(&day_masks);
                    day_masks.pop();
                    wc * f64::from(n)
                };
                // Empty, the slot is worth the bar (a meal found by
                // chance) and costs nothing.
                let list = meal_list(&slot.city);
                let (here, here_cost) = match cur {
                    Some(cur) => (u[cur] + bonus(masks[cur]), list[cur].cost),
                    None => (bars.get(key).map_or(f64::INFINITY, |b| b.1) + without, 0.0),
                };
                for (j, o) in list.iter().enumerate() {
                    let there = u[j] + bonus(masks[j]);
                    if flags[j] || there <= here + 1e-9 {
                        continue;
                    }
                    if !slot
                        .covers
                        .iter()
                        .all(|w| o.item.cuisines.iter().any(|x| x.eq_ignore_ascii_case(w)))
                    {
                        continue;
                    }
                    let m = match cur {
                        Some(_) => Move::Meal(si, j),
                        None => Move::Add(si, j),
                    };
                    consider(there - here, o.cost - here_cost, m, &mut best);
                }
            }
            match best {
                None => break,
                Some((_, Move::Stay(i, j))) => {
                    *total += lists[i][j].cost - lists[i][stay_idx[i]].cost;
                    stay_idx[i] = j;
                }
                Some((_, Move::Add(si, j))) => {
                    let list = meal_list(&slots[si].city);
                    if let Some(flags) = used.get_mut(city_key(&slots[si].city)) {
                        *total += list[j].cost;
                        flags[j] = true;
                        slot_idx[si] = Some(j);
                    }
                }
                Some((_, Move::Meal(si, j))) => {
                    let list = meal_list(&slots[si].city);
                    let key = city_key(&slots[si].city);
                    if let (Some(cur), Some(flags)) = (slot_idx[si], used.get_mut(key)) {
                        *total += list[j].cost - list[cur].cost;
                        flags[cur] = false;
                        flags[j] = true;
                        slot_idx[si] = Some(j);
                    }
                }
            }
        }
    }

    // 4. The choices and their reasons.
    let within = ctx.level_text();
    for (i, list) in lists.iter().enumerate() {
        let j = stay_idx[i];
        let (Some(c), Some(cheapest)) = (list.get(j), list.first()) else {
            continue;
        };
        stays[i] = c.clone();
        let s = &c.item.stay;
        let mut why = format!(
            "{} rated {}, {} unit(s) at ${}/night",
            s.room_type.label(),
            s.rating,
            c.item.units,
            s.price
        );
        let extra = c.cost - cheapest.cost;
        if extra > 0.5 {
            why.push_str(&format!(
                "; {} ({}, {} rated {}), within {within}",
                utility::price_gap(extra),
                cheapest.item.stay.name,
                cheapest.item.stay.room_type.label().to_lowercase(),
                cheapest.item.stay.rating
            ));
        } else {
            why.push_str("; the cheapest that fits");
        }
        if room.upgraded[i] {
            let room = match s.room_type {
                RoomType::EntireHome => "an entire home",
                _ => "a private room",
            };
            why.push_str(&format!(
                "; {room} for the {} of you rather than beds in a shared room",
                ctx.people
            ));
        } else if let Some(gap) = room.forced[i] {
            match gap {
                Some(more) if ctx.budget.is_finite() => why.push_str(&format!(
                    "; {}: the cheapest private room or home would cost ${more:.0} more, over your {} budget",
                    utility::FORCED_BY_BUDGET,
                    utility::usd(ctx.budget)
                )),
                _ => why.push_str(&format!("; {}", utility::FORCED_BY_REQUEST)),
            }
        } else if ctx.shared_asked {
            why.push_str("; a shared room, as you asked");
        }
        // The runner-up by utility, when it was better but beyond the target.
        if let Some((r, ru)) = su[i]
            .iter()
            .enumerate()
            .filter(|(r, _)| *r != j)
            .max_by(|a, b| a.1.total_cmp(b.1))
            && *ru > su[i][j] + 1e-9
            && list[r].cost > c.cost
        {
            let more = list[r].cost - c.cost;
            let limit = if *total + more > ctx.budget + 1e-6 {
                format!("over your {} budget", utility::usd(ctx.budget))
            } else {
                format!("beyond what {within} aims to spend")
            };
            why.push_str(&format!(
                "; {} (rated {}) would cost ${more:.0} more, {limit}",
                list[r].item.stay.name, list[r].item.stay.rating
            ));
        }
        stay_reasons[i] = Some(why);
    }
    for (si, slot) in slots.iter_mut().enumerate() {
        let Some(j) = slot_idx[si] else { continue };
        let list = meal_list(&slot.city);
        let (Some(c), Some(cheapest)) = (list.get(j), list.first()) else {
            continue;
        };
        slot.choice = Some(c.clone());
        let r = &c.item;
        let mut why = format!(
            "{} (rated {}), ${} a person; {}",
            r.cuisines.join(", "),
            r.rating,
            r.average_cost,
            utility::price_gap(c.cost - cheapest.cost)
        );
        if c.cost - cheapest.cost > 0.5 {
            why.push_str(&format!(", within {within}"));
        }
        if !slot.covers.is_empty() {
            why.push_str(&format!(
                "; serves {}, which you asked for",
                slot.covers.join(", ")
            ));
        } else if let Some(cuisine) = ctx.serves_wanted(r) {
            why.push_str(&format!("; serves {cuisine}, which you like"));
        }
        if !slot.required
            && !slot.locked
            && let Some((bar, _)) = bars.get(city_key(&slot.city))
        {
            why.push_str(&format!(
                "; on a travel day, planned because it beats the {} restaurants' median rating of {bar:.1}",
                slot.city
            ));
        }
        // The runner-up: the best rated restaurant left unused in the
        // city, when it is rated higher and dearer (why it lost).
        let key = city_key(&slot.city);
        if let (Some((u, _)), Some(flags)) = (mu.get(key), used.get(key))
            && let Some(k) = (0..list.len())
                .filter(|k| !flags[*k] && u[*k] > u[j] + 1e-9)
                .filter(|k| {
                    slot.covers.iter().all(|w| {
                        list[*k]
                            .item
                            .cuisines
                            .iter()
                            .any(|x| x.eq_ignore_ascii_case(w))
                    })
                })
                .max_by(|a, b| {
                    u[*a]
                        .total_cmp(&u[*b])
                        .then(list[*b].cost.total_cmp(&list[*a].cost))
                })
            && list[k].cost > c.cost + 0.5
        {
            let more = list[k].cost - c.cost;
            let limit = if *total + more > ctx.budget + 1e-6 {
                Some(format!("over your {} budget", utility::usd(ctx.budget)))
            } else if *total + more > ctx.spend_cap + 1e-6 {
                Some(format!("more than {within} spends"))
            } else if *total + more > ctx.target + 1e-6 {
                Some(format!(
                    "beyond what {within} aims to spend, and not worth that much more"
                ))
            } else {
                // Within the target, a better meal lost only to a named
                // cuisine served that day: the reason already says so.
                None
            };
            if let Some(limit) = limit {
                why.push_str(&format!(
                    "; {} (rated {}) would cost ${more:.0} more, {limit}",
                    list[k].item.name, list[k].item.rating
                ));
            }
        }
        meal_reasons[si] = Some(why);
    }
}
