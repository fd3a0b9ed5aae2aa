//! The BSON constructors mongosh adds to JavaScript for the types JS has no literal for:
//! `NumberDecimal` / `Decimal128` (and `Decimal128.fromString`), `Timestamp`, `UUID`,
//! `BinData`, `HexData`, `Binary.createFromBase64` / `createFromHexString`, `MinKey`,
//! `MaxKey`. Errors carry the bson library's wording.

use super::eval::{js_to_number, Js};
use super::ShellError;
use crate::mongo::decimal::{Decimal128, ParseError};
use crate::mongo::value::{base64_decode, parse_uuid, Document, Value};

fn bson_error(message: impl Into<String>) -> ShellError {
    ShellError::new("BSONError", message)
}

/// The text a JS value turns into when a constructor stringifies its argument.
fn text_of(v: &Js) -> String {
    match v {
        Js::Val(Value::String(s)) => s.clone(),
        Js::Val(v) => super::js::value_to_string(v),
        _ => "undefined".into(),
    }
}

/// `NumberDecimal(x)`, `Decimal128(x)`, `Decimal128.fromString(x)`: the argument's string
/// form parsed exactly; `NumberDecimal()` is zero.
pub fn decimal(arg: Option<&Js>) -> Result<Value, ShellError> {
    let text = match arg {
        None | Some(Js::Undefined) => return Ok(Value::Decimal128(Decimal128::ZERO)),
        Some(Js::Val(Value::Decimal128(d))) => return Ok(Value::Decimal128(*d)),
        Some(v) => text_of(v),
    };
    match Decimal128::parse(&text) {
        Ok(d) => Ok(Value::Decimal128(d)),
        Err(ParseError::Inexact) => Err(bson_error(format!(
            "\"{text}\" is not a valid Decimal128 string - inexact rounding"
        ))),
        Err(ParseError::Overflow) => Err(bson_error(format!(
            "\"{text}\" is not a valid Decimal128 string - overflow"
        ))),
        Err(ParseError::Invalid) => {
            Err(bson_error(format!("{text} not a valid Decimal128 string")))
        }
    }
}

/// `Timestamp({ t, i })`, `Timestamp(t, i)` (the legacy form) or `Timestamp()` (zero, which
/// an insert fills in with the current time).
pub fn timestamp(args: &[Js]) -> Result<Value, ShellError> {
    let part = |v: Option<&Value>, name: &str| -> Result<u32, ShellError> {
        match v {
            None | Some(Value::Undefined) => Ok(0),
            Some(n) if n.is_number() => {
                let x = js_to_number(n);
                if x.is_finite() && (0.0..=f64::from(u32::MAX)).contains(&x) {
                    Ok(x as u32)
                } else {
                    Err(bson_error(format!(
                        "Timestamp constructed from {{ t, i }} must provide {name} as a uint32 number"
                    )))
                }
            }
            Some(_) => Err(bson_error(format!(
                "Timestamp constructed from {{ t, i }} must provide {name} as a uint32 number"
            ))),
        }
    };
    match args {
        [] | [Js::Undefined] => Ok(Value::Timestamp { t: 0, i: 0 }),
        [Js::Val(Value::Document(d)), ..] => {
            let pick = |k: &str| d.get(k).filter(|v| !matches!(v, Value::Undefined));
            if pick("t").is_none() || pick("i").is_none() {
                return Err(bson_error(
                    "Timestamp constructed from { t, i } must provide t and i",
                ));
            }
            Ok(Value::Timestamp {
                t: part(pick("t"), "t")?,
                i: part(pick("i"), "i")?,
            })
        }
        [Js::Val(Value::Timestamp { t, i }), ..] => Ok(Value::Timestamp { t: *t, i: *i }),
        [Js::Val(Value::Int64(n)), ..] => Ok(Value::Timestamp {
            t: (*n as u64 >> 32) as u32,
            i: *n as u32,
        }),
        [Js::Val(t), rest @ ..] if t.is_number() => {
            let i = match rest.first() {
                Some(Js::Val(v)) => Some(v),
                _ => None,
            };
            Ok(Value::Timestamp {
                t: part(Some(t), "t")?,
                i: part(i, "i")?,
            })
        }
        _ => Err(bson_error(
            "Timestamp constructed from { t, i } must provide t and i",
        )),
    }
}

/// `UUID()` makes a random (version 4) UUID from the session's seeded generator; `UUID(s)`
/// parses 32 hex digits, with or without dashes.
pub fn uuid(arg: Option<&Js>, random: impl FnOnce() -> [u8; 16]) -> Result<Value, ShellError> {
    let bytes = match arg {
        None | Some(Js::Undefined) => {
            let mut b = random();
            b[6] = b[6] & 0x0f | 0x40;
            b[8] = b[8] & 0x3f | 0x80;
            b.to_vec()
        }
        Some(v) => parse_uuid(&text_of(v)).ok_or_else(|| {
            bson_error(
                "UUID string representation must be 32 hex digits or canonical hyphenated representation",
            )
        })?,
    };
    Ok(Value::Binary { subtype: 4, bytes })
}

fn subtype_of(v: Option<&Js>) -> Result<u8, ShellError> {
    match v {
        None | Some(Js::Undefined) => Ok(0),
        Some(Js::Val(n)) if n.is_number() => {
            let x = js_to_number(n);
            if x.fract() == 0.0 && (0.0..=255.0).contains(&x) {
                Ok(x as u8)
            } else {
                Err(bson_error("Invalid binary subtype"))
            }
        }
        Some(_) => Err(bson_error("Invalid binary subtype")),
    }
}

/// `Binary.createFromBase64(b64, subtype)` and `BinData(subtype, b64)`.
pub fn binary_from_base64(data: Option<&Js>, subtype: Option<&Js>) -> Result<Value, ShellError> {
    let subtype = subtype_of(subtype)?;
    let text = data.map(text_of).unwrap_or_default();
    let bytes =
        base64_decode(&text).ok_or_else(|| bson_error(format!("Invalid base64 string: {text}")))?;
    Ok(Value::Binary { subtype, bytes })
}

/// `Binary.createFromHexString(hex, subtype)` and `HexData(subtype, hex)`.
pub fn binary_from_hex(data: Option<&Js>, subtype: Option<&Js>) -> Result<Value, ShellError> {
    let subtype = subtype_of(subtype)?;
    let text = data.map(text_of).unwrap_or_default();
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) || !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(bson_error(format!("Invalid hex string: {text}")));
    }
    let bytes = digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).unwrap_or("00");
            u8::from_str_radix(s, 16).unwrap_or(0)
        })
        .collect();
    Ok(Value::Binary { subtype, bytes })
}

/// What the server does with a zero Timestamp among an inserted document's top-level
/// fields: it writes the current time, with an ordinal counting up within the second.
/// `last` is the (seconds, ordinal) handed out most recently.
pub fn fill_timestamps(doc: &mut Document, now_ms: u64, last: &mut (u32, u32)) {
    let secs = (now_ms / 1000).min(u64::from(u32::MAX)) as u32;
    for (k, v) in doc.iter_mut() {
        // An empty timestamp in `_id` is stored as it is.
        if k != "_id" && matches!(v, Value::Timestamp { t: 0, i: 0 }) {
            *last = if last.0 == secs {
                (secs, last.1.saturating_add(1))
            } else {
                (secs, 1)
            };
            *v = Value::Timestamp {
                t: last.0,
                i: last.1,
            };
        }
    }
}
