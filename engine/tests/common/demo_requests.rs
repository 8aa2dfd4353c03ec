//! The objective benchmark's requests on the demo catalog, across budget
//! levels and party sizes (`benches/objective.rs` prints their figures;
//! `tests/plan_travel_days.rs` holds the utility's restaurants at or above
//! the cheapest plan's on them).

pub const DEMO: &[&str] = &[
    "3 days from Seattle to Denver, March 5th to March 7th 2027, two of us, $2,000, we love Italian food",
    "A 3-day trip from Seattle to Denver, June 5th to June 7th 2027, solo, budget $700.",
    "A 4-day trip for two from Chicago to New York, May 3rd to May 6th 2027, budget $1,600.",
    "A 4-day trip for a family of 4 from Chicago to New York, May 3rd to May 6th 2027, budget $6,000.",
    "A 3-day trip from Los Angeles to San Francisco, April 9th to April 11th 2027, solo, budget $500.",
    "A 5-day trip for two from New York to Los Angeles, September 1st to September 5th 2027, budget $8,000.",
    "Plan a 5-day trip from Seattle visiting 2 cities in Colorado, July 10th to July 14th 2027, solo, budget $1,500.",
    "Plan a 5-day trip for 3 people from Seattle visiting 2 cities in Colorado, July 10th to July 14th 2027, budget $4,500.",
    "A 3-day trip for 6 people from San Diego to Seattle, August 6th to August 8th 2027, budget $3,500.",
    "A 4-day trip for two from Portland to Chicago, October 1st to October 4th 2027, budget $1,700, museums and parks.",
    "A 3-day trip for two from Denver to San Diego, June 11th to June 13th 2027, budget $1,000.",
    "A 4-day trip for two from Chicago to Seattle, May 20th to May 23rd 2027, budget $3,000, we like museums and good food.",
    "A 3-day trip for two from Seattle to Tacoma, June 5th to June 7th 2027, budget $500.",
    "A 3-day trip from Seattle to Spokane, June 7th to June 9th 2027, solo, budget $280, no flights.",
];
