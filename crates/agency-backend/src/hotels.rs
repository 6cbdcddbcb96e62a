//! Hotels near a point, for the `hotel-finder` sample: a travel agency's
//! catalogue of Hangzhou hotels, each with where it is, its price per night
//! and the rooms it has left, answered as JSON, nearest first.
//!
//! `GET /hotels?lat=30.2741&lon=120.1551&limit=5` answers
//! `{"hotels":[{"id":"...","name":"...","address":"...","distance_m":420,"price_fen":68000,"rooms":3}, ...]}`:
//! the hotels within [`RADIUS_M`] of the point, at most `limit` (default and
//! at most 10). Rooms left are derived from the hotel and the point asked
//! from, so the same question always gets the same answer.

/// How far a hotel may be from the point asked about, in metres.
pub const RADIUS_M: f64 = 5_000.0;
/// The most hotels one answer lists.
pub const MAX_LIMIT: usize = 10;

/// One hotel of the catalogue.
#[derive(Debug)]
pub struct Hotel {
    /// The agency's id of the hotel.
    pub id: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Its street address.
    pub address: &'static str,
    /// Latitude, degrees (WGS 84).
    pub lat: f64,
    /// Longitude, degrees (WGS 84).
    pub lon: f64,
    /// The price of a night, in fen.
    pub price_fen: u64,
}

/// The catalogue.
pub const HOTELS: [Hotel; 7] = [
    Hotel {
        id: "west-lake-inn",
        name: "West Lake Inn",
        address: "18 Nanshan Rd, Xihu District",
        lat: 30.2466,
        lon: 120.1607,
        price_fen: 68_000,
    },
    Hotel {
        id: "wulin-garden",
        name: "Wulin Garden Hotel",
        address: "5 Tiyuchang Rd, Xiacheng District",
        lat: 30.2769,
        lon: 120.1647,
        price_fen: 45_000,
    },
    Hotel {
        id: "hubin-suites",
        name: "Hubin Suites",
        address: "99 Hubin Rd, Shangcheng District",
        lat: 30.2589,
        lon: 120.1642,
        price_fen: 92_000,
    },
    Hotel {
        id: "qiantang-view",
        name: "Qiantang River View",
        address: "1 Binjiang Ave, Binjiang District",
        lat: 30.2104,
        lon: 120.2109,
        price_fen: 53_000,
    },
    Hotel {
        id: "xixi-wetland-lodge",
        name: "Xixi Wetland Lodge",
        address: "518 Tianmushan Rd, Xihu District",
        lat: 30.2711,
        lon: 120.0817,
        price_fen: 76_000,
    },
    Hotel {
        id: "east-station-express",
        name: "East Station Express",
        address: "2 Tiancheng Rd, Shangcheng District",
        lat: 30.2907,
        lon: 120.2126,
        price_fen: 29_000,
    },
    Hotel {
        id: "future-sci-tech",
        name: "Future Sci-Tech City Hotel",
        address: "1 Wenyi West Rd, Yuhang District",
        lat: 30.2835,
        lon: 119.9985,
        price_fen: 39_000,
    },
];

/// The great-circle distance between two points, in metres.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_000.0;
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().asin()
}

/// A hotel near the point asked about.
#[derive(Debug)]
pub struct Nearby {
    /// The hotel.
    pub hotel: &'static Hotel,
    /// How far it is, in whole metres.
    pub distance_m: u64,
    /// Rooms left tonight (1 to 6).
    pub rooms: u32,
}

/// The hotels within [`RADIUS_M`] of (`lat`, `lon`), nearest first, at most `limit`.
pub fn near(lat: f64, lon: f64, limit: usize) -> Vec<Nearby> {
    let mut found: Vec<Nearby> = HOTELS
        .iter()
        .map(|hotel| {
            let d = distance_m(lat, lon, hotel.lat, hotel.lon);
            // Whole metres: the distance is at most half the earth's circumference.
            let distance_m = d.round() as u64;
            let h = crate::records::hash(&format!("{}:{lat:.3}:{lon:.3}", hotel.id));
            Nearby {
                hotel,
                distance_m,
                rooms: 1 + (h % 6) as u32,
            }
        })
        .filter(|n| (n.distance_m as f64) <= RADIUS_M)
        .collect();
    found.sort_by_key(|n| n.distance_m);
    found.truncate(limit.min(MAX_LIMIT));
    found
}

/// A coordinate of the query: a finite number within ±`bound`.
pub fn coordinate(text: Option<&String>, bound: f64) -> Option<f64> {
    text.and_then(|t| t.parse::<f64>().ok())
        .filter(|v| v.is_finite() && v.abs() <= bound)
}

/// `s` as a JSON string.
fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The JSON answer for `hotels`.
pub fn to_json(hotels: &[Nearby]) -> String {
    let items: Vec<String> = hotels
        .iter()
        .map(|n| {
            format!(
                "{{\"id\":{},\"name\":{},\"address\":{},\"distance_m\":{},\"price_fen\":{},\"rooms\":{}}}",
                json_string(n.hotel.id),
                json_string(n.hotel.name),
                json_string(n.hotel.address),
                n.distance_m,
                n.hotel.price_fen,
                n.rooms
            )
        })
        .collect();
    format!("{{\"hotels\":[{}]}}\n", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotels_near_the_lake_come_nearest_first_within_the_radius() {
        // Near Wulin Square.
        let found = near(30.2741, 120.1551, 10);
        let ids: Vec<&str> = found.iter().map(|n| n.hotel.id).collect();
        assert_eq!(ids.first(), Some(&"wulin-garden"), "{ids:?}");
        assert!(found.windows(2).all(|w| w[0].distance_m <= w[1].distance_m));
        assert!(found.iter().all(|n| n.distance_m as f64 <= RADIUS_M));
        // Future Sci-Tech City is some 15 km west.
        assert!(!ids.contains(&"future-sci-tech"), "{ids:?}");
        assert!(found.iter().all(|n| (1..=6).contains(&n.rooms)));
        assert_eq!(near(30.2741, 120.1551, 2).len(), 2);
        // The same question, the same answer.
        assert_eq!(to_json(&found), to_json(&near(30.2741, 120.1551, 10)));
    }

    #[test]
    fn nothing_is_near_a_point_far_away() {
        assert!(near(39.9042, 116.4074, 10).is_empty());
    }

    #[test]
    fn distances_are_great_circle_metres() {
        // One degree of latitude is about 111 km.
        let d = distance_m(30.0, 120.0, 31.0, 120.0);
        assert!((d - 111_195.0).abs() < 100.0, "{d}");
    }
}
