//! GEO fields: points written `"lon,lat"` (or `"lon lat"`) in a hash field or a JSON string,
//! queried with `@field:[lon lat radius unit]` and FT.SEARCH's GEOFILTER. A point is kept as
//! the 52-bit geohash the module stores it as, and a radius holds it when the great-circle
//! distance from the centre (the GEO commands' formula) is at most the radius.

use crate::redis::types::geo as points;

/// A radius query: centre, radius as written and in metres, and the unit as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Radius {
    pub lon: f64,
    pub lat: f64,
    pub radius: f64,
    pub unit: String,
    pub meters: f64,
}

const LAT_LIMIT: f64 = 85.05112878;

/// Metres per unit; the module takes the unit in any case.
fn unit_meters(unit: &str) -> Option<f64> {
    match unit.to_ascii_lowercase().as_str() {
        "m" => Some(1.0),
        "km" => Some(1000.0),
        "mi" => Some(1609.34),
        "ft" => Some(0.3048),
        _ => None,
    }
}

impl Radius {
    /// Checks a radius as the module does (unit, then position, then radius), with its
    /// errors. `unit_error` is the wording of the caller (the query or GEOFILTER).
    pub fn new(
        lon: f64,
        lat: f64,
        radius: f64,
        unit: &str,
        unit_error: String,
    ) -> Result<Radius, String> {
        let per = unit_meters(unit).ok_or(unit_error)?;
        if !(-180.0..=180.0).contains(&lon) || !(-LAT_LIMIT..=LAT_LIMIT).contains(&lat) {
            return Err("Invalid GeoFilter lat/lon".into());
        }
        if radius.is_nan() || radius <= 0.0 {
            return Err("Invalid GeoFilter radius".into());
        }
        Ok(Radius {
            lon,
            lat,
            radius,
            unit: unit.to_string(),
            meters: radius * per,
        })
    }

    pub fn holds(&self, (lon, lat): (f64, f64)) -> bool {
        points::distance(self.lon, self.lat, lon, lat) <= self.meters
    }

    /// FT.EXPLAIN's line for it.
    pub fn explain(&self, field: &str) -> String {
        format!(
            "GEO {field}:{{{:.6},{:.6} --> {:.6} {}}}",
            self.lon, self.lat, self.radius, self.unit
        )
    }
}

/// A point as the index stores it, or `None` for a value the module fails to index.
pub fn parse_point(text: &str) -> Option<(f64, f64)> {
    let (lon, lat) = parse_lon_lat(text)?;
    points::point_of(points::score_of(lon, lat)?)
}

/// `"lon,lat"` (or `"lon lat"`) as written, within the range geohashes cover.
pub fn parse_lon_lat(text: &str) -> Option<(f64, f64)> {
    let (lon, lat) = text.trim().split_once([',', ' '])?;
    let lon: f64 = lon.trim().parse().ok()?;
    let lat: f64 = lat.trim().parse().ok()?;
    points::score_of(lon, lat).map(|_| (lon, lat))
}

/// GEOFILTER field lon lat radius unit, from `args` (the words after the keyword).
pub fn geofilter(args: &[Vec<u8>]) -> Result<(String, Radius), String> {
    let [field, lon, lat, radius, unit, ..] = args else {
        return Err("GEOFILTER requires 5 arguments".into());
    };
    let text = |a: &[u8]| String::from_utf8_lossy(a).into_owned();
    let number = |a: &[u8], what: &str| {
        text(a).trim().parse::<f64>().map_err(|_| {
            format!("Bad arguments for <{what}>: Could not convert argument to expected type")
        })
    };
    let (lon, lat, radius) = (
        number(lon, "lon")?,
        number(lat, "lat")?,
        number(radius, "radius")?,
    );
    let unit = text(unit);
    let error = format!("Unknown distance unit {unit}");
    Ok((text(field), Radius::new(lon, lat, radius, &unit, error)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_parse_as_the_module_indexes_them() {
        assert!(parse_point("13.361389,38.115556").is_some());
        assert!(parse_point("13.361389 38.115556").is_some());
        for bad in ["foo", "200,10", "10,86", "1,", ",1", "nan,1"] {
            assert_eq!(parse_point(bad), None, "{bad}");
        }
    }

    #[test]
    fn radius_errors_come_in_the_module_order() {
        let e =
            |lon, lat, r, unit: &str| Radius::new(lon, lat, r, unit, "unit".into()).unwrap_err();
        assert_eq!(e(200.0, 37.0, -1.0, "xx"), "unit");
        assert_eq!(e(200.0, 37.0, -1.0, "km"), "Invalid GeoFilter lat/lon");
        assert_eq!(e(15.0, 37.0, 0.0, "KM"), "Invalid GeoFilter radius");
        let r = Radius::new(15.0, 37.0, 200.0, "km", String::new()).unwrap();
        assert!(r.holds(parse_point("13.361389,38.115556").unwrap()));
        assert!(!r.holds(parse_point("100,50").unwrap()));
    }
}
