//! What a person would like beyond the hard constraints: how freely to
//! spend ([`BudgetLevel`]), how full the days should be ([`Pace`]) and what
//! they want to see ([`Interest`]). Soft wishes: they order the planner's
//! choices, never rule a plan out.

use serde::{Deserialize, Deserializer, Serialize};

/// Deserialises the wishes from their keys by hand: a derived enum
/// deserialiser is about half a kilobyte of the browser's bundle each,
/// where this reuses the string one (the bundle has little room).
macro_rules! from_key {
    ($t:ty, $keys:expr) => {
        impl $t {
            /// Every key, in [`Self::ALL`]'s order.
            pub const KEYS: &'static [&'static str] = &$keys;
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let key = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                <$t>::from_key(&key)
                    .ok_or_else(|| serde::de::Error::unknown_variant(&key, Self::KEYS))
            }
        }
    };
}
from_key!(BudgetLevel, ["budget", "moderate", "comfort", "luxury"]);
from_key!(Pace, ["relaxed", "balanced", "packed"]);
from_key!(
    Interest,
    [
        "culture",
        "art",
        "nature",
        "beaches",
        "food",
        "nightlife",
        "shopping",
        "family",
        "adventure"
    ]
);

/// How freely a trip spends, by money per person per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BudgetLevel {
    /// Hostels and street food: under $100 a person a day.
    Budget,
    /// Mid-range hotels: $100 to $250.
    Moderate,
    /// Upscale: $250 to $500.
    Comfort,
    /// The top end: $500 and more.
    Luxury,
}

impl BudgetLevel {
    pub const ALL: [BudgetLevel; 4] = [
        BudgetLevel::Budget,
        BudgetLevel::Moderate,
        BudgetLevel::Comfort,
        BudgetLevel::Luxury,
    ];

    /// The stored and form name (`"moderate"`).
    pub fn key(self) -> &'static str {
        match self {
            BudgetLevel::Budget => "budget",
            BudgetLevel::Moderate => "moderate",
            BudgetLevel::Comfort => "comfort",
            BudgetLevel::Luxury => "luxury",
        }
    }

    /// The level of `per_person_day` dollars (thresholds $100, $250, $500).
    pub fn from_daily(per_person_day: f64) -> Self {
        if per_person_day < 100.0 {
            BudgetLevel::Budget
        } else if per_person_day < 250.0 {
            BudgetLevel::Moderate
        } else if per_person_day < 500.0 {
            BudgetLevel::Comfort
        } else {
            BudgetLevel::Luxury
        }
    }

    /// The level named `key` ([`BudgetLevel::key`]).
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.key() == key)
    }
}

/// How full the days should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    /// Two visits on a full day.
    Relaxed,
    /// Three.
    Balanced,
    /// Four: as much as fits.
    Packed,
}

impl Pace {
    pub const ALL: [Pace; 3] = [Pace::Relaxed, Pace::Balanced, Pace::Packed];

    pub fn key(self) -> &'static str {
        match self {
            Pace::Relaxed => "relaxed",
            Pace::Balanced => "balanced",
            Pace::Packed => "packed",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// Something a person wants to see or do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Interest {
    /// Museums, history, architecture.
    Culture,
    Art,
    /// Parks, gardens, hiking, the outdoors.
    Nature,
    Beaches,
    /// Restaurants, markets, wine.
    Food,
    /// Music, theatre, bars.
    Nightlife,
    Shopping,
    /// Zoos, aquariums, places for children.
    Family,
    /// Hikes, climbs, thrills.
    Adventure,
}

impl Interest {
    pub const ALL: [Interest; 9] = [
        Interest::Culture,
        Interest::Art,
        Interest::Nature,
        Interest::Beaches,
        Interest::Food,
        Interest::Nightlife,
        Interest::Shopping,
        Interest::Family,
        Interest::Adventure,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Interest::Culture => "culture",
            Interest::Art => "art",
            Interest::Nature => "nature",
            Interest::Beaches => "beaches",
            Interest::Food => "food",
            Interest::Nightlife => "nightlife",
            Interest::Shopping => "shopping",
            Interest::Family => "family",
            Interest::Adventure => "adventure",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.key() == key)
    }

    /// What a person reads: "museums and history".
    pub fn label(self) -> &'static str {
        match self {
            Interest::Culture => "museums and history",
            Interest::Art => "art",
            Interest::Nature => "parks and nature",
            Interest::Beaches => "beaches",
            Interest::Food => "food and wine",
            Interest::Nightlife => "music and nightlife",
            Interest::Shopping => "shopping and markets",
            Interest::Family => "family outings",
            Interest::Adventure => "adventure",
        }
    }

    /// The interest a word of a request stands for ("museums" → culture,
    /// "hiking" → nature); `None` for a word that names none.
    pub fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "museum" | "museums" | "history" | "historic" | "culture" | "cultural"
            | "architecture" | "sightseeing" => Interest::Culture,
            "art" | "arts" | "gallery" | "galleries" => Interest::Art,
            "nature" | "park" | "parks" | "hiking" | "hike" | "hikes" | "outdoors" | "outdoor"
            | "gardens" => Interest::Nature,
            "beach" | "beaches" => Interest::Beaches,
            "food" | "foodie" | "foodies" | "wine" | "wines" => Interest::Food,
            "nightlife" | "music" | "bars" | "clubs" | "theatre" | "theater" | "concerts" => {
                Interest::Nightlife
            }
            "shopping" | "shops" | "markets" => Interest::Shopping,
            "family" | "kids" | "children" | "zoo" | "zoos" | "aquarium" | "aquariums" => {
                Interest::Family
            }
            "adventure" | "adventures" | "thrills" => Interest::Adventure,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_match_the_serde_names() {
        assert_eq!(BudgetLevel::KEYS, BudgetLevel::ALL.map(BudgetLevel::key));
        assert_eq!(Pace::KEYS, Pace::ALL.map(Pace::key));
        assert_eq!(Interest::KEYS, Interest::ALL.map(Interest::key));
        for l in BudgetLevel::ALL {
            assert_eq!(BudgetLevel::from_key(l.key()), Some(l));
            assert_eq!(
                serde_json::to_string(&l).expect("serialises"),
                format!("\"{}\"", l.key())
            );
        }
        for p in Pace::ALL {
            assert_eq!(Pace::from_key(p.key()), Some(p));
            assert_eq!(
                serde_json::to_string(&p).expect("serialises"),
                format!("\"{}\"", p.key())
            );
        }
        for i in Interest::ALL {
            assert_eq!(Interest::from_key(i.key()), Some(i));
            assert_eq!(Interest::from_word(i.key()), Some(i));
            assert_eq!(
                serde_json::to_string(&i).expect("serialises"),
                format!("\"{}\"", i.key())
            );
        }
        assert_eq!(BudgetLevel::from_key("cheap"), None);
        let refused = serde_json::from_str::<Pace>("\"frantic\"")
            .expect_err("not a pace")
            .to_string();
        assert!(
            refused.contains("`relaxed`, `balanced`, `packed`"),
            "{refused}"
        );
        assert_eq!(
            serde_json::from_str::<Vec<Interest>>(r#"["food","art"]"#).expect("keys"),
            [Interest::Food, Interest::Art]
        );
    }

    #[test]
    fn levels_follow_the_money_a_person_has_a_day() {
        assert_eq!(BudgetLevel::from_daily(60.0), BudgetLevel::Budget);
        assert_eq!(BudgetLevel::from_daily(100.0), BudgetLevel::Moderate);
        assert_eq!(BudgetLevel::from_daily(333.0), BudgetLevel::Comfort);
        assert_eq!(BudgetLevel::from_daily(500.0), BudgetLevel::Luxury);
    }
}
