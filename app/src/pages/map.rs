//! Route maps drawn as inline SVG from the plan's coordinates: no map
//! tiles, no request of their own, so they work offline and print.
//!
//! [`RouteMap`] shows a day: its attractions as numbered dots in visiting
//! order joined by a line, and its meals and stay where the catalog knows
//! where they are. [`TripMap`] shows the trip's cities in order, from the
//! origin and back. Neither draws anything when fewer than two places are
//! located (plans stored before coordinates were kept have none).
//!
//! The projection is equirectangular with longitude scaled by the cosine of
//! the mean latitude: fine at a city's or a country's scale, and the maps
//! say they are sketches, not to scale.

// Until plan.rs places the maps (then this line can go).

use leptos::prelude::*;
use wayfare_domain::itinerary::{GeoPoint, Itinerary, ItineraryDay};

/// The viewBox width; the height follows the points' shape within limits.
const WIDTH: f64 = 320.0;
const MIN_HEIGHT: f64 = 150.0;
const MAX_HEIGHT: f64 = 240.0;
/// Room around the points for the dots and their labels.
const MARGIN: f64 = 24.0;

/// Points projected into a viewBox of `width` × `height`, in their order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Frame {
    pub width: f64,
    pub height: f64,
    pub points: Vec<(f64, f64)>,
}

impl Frame {
    fn view_box(&self) -> String {
        format!("0 0 {} {}", num(self.width), num(self.height))
    }
}

/// Projects coordinates into a viewBox, north up, keeping their order and
/// the map's proportions. `None` for fewer than two points, or when any is
/// not a finite coordinate.
pub(crate) fn project(points: &[GeoPoint]) -> Option<Frame> {
    if points.len() < 2
        || points
            .iter()
            .any(|p| !p.lat.is_finite() || !p.lon.is_finite())
    {
        return None;
    }
    let mean_lat = points.iter().map(|p| p.lat).sum::<f64>() / points.len() as f64;
    let k = cos_of_latitude(mean_lat).max(0.01);
    // Plane coordinates: x east, y south.
    let plane: Vec<(f64, f64)> = points.iter().map(|p| (p.lon * k, -p.lat)).collect();
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in &plane {
        min_x = min_x.min(x);
        max_x = max_x.max(x);
        min_y = min_y.min(y);
        max_y = max_y.max(y);
    }
    // About a metre: points closer than that are one place.
    const TINY: f64 = 1e-5;
    let (span_x, span_y) = ((max_x - min_x).max(TINY), (max_y - min_y).max(TINY));
    let inner_w = WIDTH - 2.0 * MARGIN;
    let height = (inner_w * span_y / span_x + 2.0 * MARGIN).clamp(MIN_HEIGHT, MAX_HEIGHT);
    let inner_h = height - 2.0 * MARGIN;
    let scale = (inner_w / span_x).min(inner_h / span_y);
    // Centred in the frame along the axis with room to spare.
    let off_x = MARGIN + (inner_w - (max_x - min_x) * scale) / 2.0;
    let off_y = MARGIN + (inner_h - (max_y - min_y) * scale) / 2.0;
    let points = plane
        .into_iter()
        .map(|(x, y)| ((x - min_x) * scale + off_x, (y - min_y) * scale + off_y))
        .collect();
    Some(Frame {
        width: WIDTH,
        height,
        points,
    })
}

/// The cosine of a latitude in degrees (clamped to ±90°), from its Taylor
/// series: within 1e-8 of `f64::cos` there, and without libm's general
/// range reduction, several kilobytes of the WebAssembly bundle.
fn cos_of_latitude(degrees: f64) -> f64 {
    let x = degrees.clamp(-90.0, 90.0).to_radians();
    let x2 = x * x;
    // 1 - x²/2! + x⁴/4! - … + x¹²/12!, by Horner's rule.
    let mut sum = 1.0;
    for n in (1..=6).rev() {
        let (a, b) = (2 * n - 1, 2 * n);
        sum = 1.0 - x2 / f64::from(a * b) * sum;
    }
    sum
}

/// A coordinate for an SVG attribute: one decimal is plenty.
fn num(v: f64) -> String {
    super::fixed(v, 1)
}

fn polyline(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .map(|&(x, y)| format!("{},{}", num(x), num(y)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a day's marker stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// The n-th attraction (1-based, as listed).
    Visit(usize),
    Meal(&'static str),
    Stay,
}

/// A day's route: numbered attractions in visiting order, and its meals and
/// stay where they are located. Nothing when fewer than two are.
#[component]
pub fn RouteMap(day: ItineraryDay) -> impl IntoView {
    route_map(&day)
}

fn route_map(day: &ItineraryDay) -> Option<AnyView> {
    let mut marks: Vec<(Mark, String, GeoPoint)> = Vec::new();
    for (i, item) in day.attractions.iter().enumerate() {
        if let Some(p) = day.point_of(item) {
            marks.push((Mark::Visit(i + 1), item.name.clone(), p));
        }
    }
    for (kind, item) in day.meals() {
        if let Some((item, p)) = item.and_then(|m| day.point_of(m).map(|p| (m, p))) {
            marks.push((Mark::Meal(kind.label()), item.name.clone(), p));
        }
    }
    if let Some((item, p)) = day
        .accommodation
        .as_ref()
        .and_then(|s| day.point_of(s).map(|p| (s, p)))
    {
        marks.push((Mark::Stay, item.name.clone(), p));
    }
    let points: Vec<GeoPoint> = marks.iter().map(|m| m.2).collect();
    let frame = project(&points)?;
    let route: Vec<(f64, f64)> = marks
        .iter()
        .zip(&frame.points)
        .filter(|(m, _)| matches!(m.0, Mark::Visit(_)))
        .map(|(_, &xy)| xy)
        .collect();
    let describe = |(mark, name, _): &(Mark, String, GeoPoint)| match mark {
        Mark::Visit(n) => format!("{n}. {name}"),
        Mark::Meal(kind) => format!("{kind}: {name}"),
        Mark::Stay => format!("stay: {name}"),
    };
    let title = format!("Day {} route map, {}", day.day, day.city);
    let label = format!(
        "{title}: {}",
        marks.iter().map(describe).collect::<Vec<_>>().join("; ")
    );
    let markers = marks
        .iter()
        .zip(&frame.points)
        .map(|(mark, &(x, y))| {
            let what = describe(mark);
            let (cx, cy) = (num(x), num(y));
            match mark.0 {
                Mark::Visit(n) => view! {
                    <g class="route-map-stop">
                        <title>{what}</title>
                        <circle cx=cx.clone() cy=cy.clone() r="10" />
                        <text x=cx y=cy text-anchor="middle" dominant-baseline="central">{n.to_string()}</text>
                    </g>
                }
                .into_any(),
                Mark::Meal(kind) => {
                    let letter = kind.chars().next().unwrap_or('M').to_ascii_uppercase();
                    view! {
                        <g class="route-map-meal">
                            <title>{what}</title>
                            <circle cx=cx.clone() cy=cy.clone() r="8" />
                            <text x=cx y=cy text-anchor="middle" dominant-baseline="central">{letter.to_string()}</text>
                        </g>
                    }
                    .into_any()
                }
                Mark::Stay => view! {
                    <g class="route-map-stay">
                        <title>{what}</title>
                        <rect x=num(x - 9.0) y=num(y - 9.0) width="18" height="18" rx="3" />
                        <text x=cx y=cy text-anchor="middle" dominant-baseline="central">"S"</text>
                    </g>
                }
                .into_any(),
            }
        })
        .collect_view();
    let line = (route.len() >= 2)
        .then(|| view! { <polyline class="route-map-line" points=polyline(&route) /> });
    let svg = map_svg(&frame, (title, label), line, markers);
    Some(view! {
        <figure class="route-map" data-testid="route-map">
            {svg}
            <figcaption class="route-map-note">"Sketch of the day's route, not to scale"</figcaption>
        </figure>
    }
    .into_any())
}

/// The trip's cities in order: the origin, the visited cities and the
/// origin again. Nothing when fewer than two cities are located.
#[component]
pub fn TripMap(itinerary: Itinerary) -> impl IntoView {
    trip_map(&itinerary)
}

fn trip_map(itinerary: &Itinerary) -> Option<AnyView> {
    let route: Vec<(String, GeoPoint)> = itinerary
        .route()
        .into_iter()
        .filter_map(|city| {
            let p = itinerary.city_coords.get(&city).copied()?;
            Some((city, p))
        })
        .collect();
    // Each city once for the dots (the origin closes the loop).
    let mut places: Vec<(String, GeoPoint)> = Vec::new();
    for (city, p) in &route {
        if !places.iter().any(|(c, _)| c == city) {
            places.push((city.clone(), *p));
        }
    }
    if places.len() < 2 {
        return None;
    }
    let frame = project(&route.iter().map(|r| r.1).collect::<Vec<_>>())?;
    let xy_of = |city: &str| {
        route
            .iter()
            .zip(&frame.points)
            .find(|((c, _), _)| c == city)
            .map(|(_, &xy)| xy)
    };
    let title = format!("Route map of the trip from {}", itinerary.origin);
    let label = format!(
        "{title}: {}",
        route
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    );
    let half = frame.width / 2.0;
    let markers = places
        .into_iter()
        .filter_map(|(city, _)| {
            let (x, y) = xy_of(&city)?;
            let class = if city == itinerary.origin {
                "route-map-origin"
            } else {
                "route-map-stop"
            };
            // Labels point inwards, so they stay within the frame.
            let (anchor, dx) = if x > half {
                ("end", -12.0)
            } else {
                ("start", 12.0)
            };
            let what = if city == itinerary.origin {
                format!("{city}, where the trip starts and ends")
            } else {
                city.clone()
            };
            Some(view! {
                <g class=class>
                    <title>{what}</title>
                    <circle cx=num(x) cy=num(y) r="7" />
                    <text class="route-map-label" x=num(x + dx) y=num(y) text-anchor=anchor dominant-baseline="central">{city}</text>
                </g>
            })
        })
        .collect_view();
    let line = view! { <polyline class="route-map-line" points=polyline(&frame.points) /> };
    let svg = map_svg(&frame, (title, label), line, markers);
    Some(
        view! { <figure class="route-map trip-map" data-testid="trip-map">{svg}</figure> }
            .into_any(),
    )
}

/// The `<svg>` both maps are drawn in: `frame`'s size, titled `title` and
/// read out as `label`, with the route `line` and the `markers` over the
/// background.
fn map_svg(
    frame: &Frame,
    (title, label): (String, String),
    line: impl IntoView + 'static,
    markers: impl IntoView + 'static,
) -> impl IntoView + 'static {
    view! {
        <svg
            role="img"
            aria-label=label
            viewBox=frame.view_box()
            preserveAspectRatio="xMidYMid meet"
            width="100%"
        >
            <title>{title}</title>
            <rect class="route-map-bg" x="0" y="0" width=num(frame.width) height=num(frame.height) rx="8" />
            {line}
            {markers}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint { lat, lon }
    }

    fn inside(frame: &Frame, &(x, y): &(f64, f64)) -> bool {
        let e = 1e-9;
        (MARGIN - e..=frame.width - MARGIN + e).contains(&x)
            && (MARGIN - e..=frame.height - MARGIN + e).contains(&y)
    }

    #[test]
    fn the_bounding_box_maps_into_the_view_box_in_order_north_up() {
        // Seattle, Denver, Chicago, New York.
        let pts = [
            p(47.6062, -122.3321),
            p(39.7392, -104.9903),
            p(41.8781, -87.6298),
            p(40.7128, -74.0060),
        ];
        let frame = project(&pts).expect("a map");
        assert_eq!(frame.width, WIDTH);
        assert!((MIN_HEIGHT..=MAX_HEIGHT).contains(&frame.height));
        assert_eq!(frame.points.len(), pts.len());
        assert!(frame.points.iter().all(|xy| inside(&frame, xy)));
        // Order kept: west to east here, so x grows.
        assert!(frame.points.windows(2).all(|w| w[0].0 < w[1].0));
        // North up: Seattle is the highest, Denver the lowest.
        let ys: Vec<f64> = frame.points.iter().map(|xy| xy.1).collect();
        assert!(ys[0] < ys[2] && ys[2] < ys[3] && ys[3] < ys[1]);
        // The wider extent fills the frame: west edge and east edge on the margins.
        assert!((frame.points[0].0 - MARGIN).abs() < 1e-6);
        assert!((frame.points[3].0 - (WIDTH - MARGIN)).abs() < 1e-6);
    }

    #[test]
    fn proportions_are_kept_and_a_tall_route_is_centred() {
        // Due north: one longitude, the height capped, x centred.
        let frame = project(&[p(30.0, -100.0), p(40.0, -100.0)]).expect("a map");
        assert_eq!(frame.height, MAX_HEIGHT);
        for &(x, _) in &frame.points {
            assert!((x - WIDTH / 2.0).abs() < 1e-6);
        }
        assert!(
            frame.points[0].1 > frame.points[1].1,
            "the northern one is higher"
        );
        assert!(frame.points.iter().all(|xy| inside(&frame, xy)));
        // A degree square near the equator stays (nearly) square.
        let sq = project(&[p(-0.5, 0.0), p(0.5, 1.0)]).expect("a map");
        let (dx, dy) = (
            sq.points[1].0 - sq.points[0].0,
            sq.points[0].1 - sq.points[1].1,
        );
        assert!((dx / dy - 1.0).abs() < 1e-6, "{dx} vs {dy}");
        // At 60°N a degree of longitude is half a degree of latitude.
        let north = project(&[p(59.5, 0.0), p(60.5, 1.0)]).expect("a map");
        let (dx, dy) = (
            north.points[1].0 - north.points[0].0,
            north.points[0].1 - north.points[1].1,
        );
        assert!((dx / dy - 0.5).abs() < 0.01, "{dx} vs {dy}");
    }

    #[test]
    fn one_point_or_none_gives_no_map_and_one_place_twice_is_centred() {
        assert_eq!(project(&[]), None);
        assert_eq!(project(&[p(47.6, -122.3)]), None);
        assert_eq!(project(&[p(f64::NAN, 0.0), p(1.0, 1.0)]), None);
        let same = project(&[p(47.6, -122.3), p(47.6, -122.3)]).expect("a map");
        for &(x, y) in &same.points {
            assert!((x - WIDTH / 2.0).abs() < 1e-6 && (y - same.height / 2.0).abs() < 1e-6);
        }
    }

    fn visit(n: usize, name: &str) -> wayfare_domain::itinerary::PlanItem {
        wayfare_domain::itinerary::PlanItem {
            id: format!("d2.attraction{n}"),
            name: name.into(),
            city: "Seattle".into(),
            source_id: Some(format!("demo:attractions:{n}")),
            cost: 0.0,
            reason: String::new(),
        }
    }

    #[test]
    fn a_day_with_two_located_visits_renders_an_accessible_map_and_one_renders_nothing() {
        let mut day = ItineraryDay::new(2, None, "Seattle");
        day.attractions = vec![
            visit(1, "Space Needle"),
            visit(2, "Pike <Place> Market"),
            visit(3, "Nowhere known"),
        ];
        day.coords
            .insert("demo:attractions:1".into(), p(47.6205, -122.3493));
        let html = route_map(&day).map(|v| v.to_html());
        assert_eq!(html, None, "one located point: no map");

        day.coords
            .insert("demo:attractions:2".into(), p(47.6097, -122.3422));
        let html = route_map(&day).expect("a map").to_html();
        assert!(html.contains(r#"role="img""#), "{html}");
        assert!(html.contains("aria-label=\"Day 2 route map, Seattle: 1. Space Needle; 2. Pike &lt;Place&gt; Market\""), "{html}");
        assert!(
            html.contains("<title>Day 2 route map, Seattle</title>"),
            "{html}"
        );
        assert!(html.contains("<polyline"), "{html}");
        assert!(
            html.contains(r#"preserveAspectRatio="xMidYMid meet""#),
            "{html}"
        );
        assert_eq!(
            html.matches("<circle").count(),
            2,
            "the unlocated visit is left out"
        );
        assert!(
            html.contains(">1</text>") && html.contains(">2</text>"),
            "{html}"
        );
    }

    #[test]
    fn the_trip_map_draws_the_loop_through_located_cities() {
        let mut itinerary: Itinerary = serde_json::from_str(
            r#"{"origin":"Seattle","people":1,"days":[],
            "totals":{"transport":0,"accommodation":0,"meals":0,"attractions":0,"total":0},
            "verdict":{"checks":[]}}"#,
        )
        .expect("a plan");
        itinerary.days = vec![
            ItineraryDay::new(1, None, "Denver"),
            ItineraryDay::new(2, None, "Boulder"),
            ItineraryDay::new(3, None, "Seattle"),
        ];
        itinerary
            .city_coords
            .insert("Seattle".into(), p(47.6062, -122.3321));
        assert!(trip_map(&itinerary).is_none(), "one city located: no map");
        itinerary
            .city_coords
            .insert("Denver".into(), p(39.7392, -104.9903));
        itinerary
            .city_coords
            .insert("Boulder".into(), p(40.0150, -105.2705));
        let html = trip_map(&itinerary).expect("a map").to_html();
        assert!(
            html.contains("Seattle → Denver → Boulder → Seattle"),
            "{html}"
        );
        assert_eq!(html.matches("<circle").count(), 3, "each city once");
        assert!(html.contains("route-map-origin"), "{html}");
    }

    #[test]
    fn cos_of_latitude_matches_the_standard_cosine() {
        for tenth in -900..=900 {
            let lat = f64::from(tenth) / 10.0;
            let want = lat.to_radians().cos();
            assert!((cos_of_latitude(lat) - want).abs() < 1e-8, "{lat}");
        }
        assert!((cos_of_latitude(120.0) - 0.0).abs() < 1e-8);
    }

    #[test]
    fn polyline_points_are_short_and_ordered() {
        assert_eq!(polyline(&[(1.04, 2.0), (3.25, 4.96)]), "1.0,2.0 3.3,5.0");
    }
}
