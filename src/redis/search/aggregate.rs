//! FT.AGGREGATE: a pipeline over the documents a query matches. Steps run in the order
//! given: LOAD, GROUPBY with REDUCE, APPLY and FILTER expressions, SORTBY [MAX], LIMIT.

use indexmap::IndexMap;

use super::{documents, parse_count, text, upper, wrong_arity, Doc, FieldKind, Index};
use crate::redis::reply::{self, Reply};
use crate::redis::Server;

/// A value in a pipeline row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Num(f64),
    Str(String),
    List(Vec<String>),
    Null,
}

impl Cell {
    fn number(&self) -> f64 {
        match self {
            Cell::Num(n) => *n,
            Cell::Str(s) => s.trim().parse().unwrap_or(f64::NAN),
            _ => f64::NAN,
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Num(n) => format_number(*n),
            Cell::Str(s) => s.clone(),
            Cell::List(items) => items.join(","),
            Cell::Null => String::new(),
        }
    }

    fn reply(&self) -> Reply {
        match self {
            Cell::List(items) => {
                Reply::Array(items.iter().map(|i| Reply::bulk(i.as_str())).collect())
            }
            Cell::Null => Reply::Nil,
            other => Reply::bulk(other.text()),
        }
    }

    pub(super) fn truthy(&self) -> bool {
        match self {
            Cell::Num(n) => *n != 0.0 && !n.is_nan(),
            Cell::Str(s) => !s.is_empty(),
            Cell::List(items) => !items.is_empty(),
            Cell::Null => false,
        }
    }
}

pub(super) type Row = IndexMap<String, Cell>;

/// A number as the module's pipeline prints it: C's `%.12g`.
fn format_number(x: f64) -> String {
    crate::printf::format_g(x, 12)
}

// ---------------------------------------------------------------------------------------
// Expressions (APPLY, FILTER)
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub(super) enum Expr {
    Num(f64),
    Str(String),
    Field(String),
    Unary(char, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>),
}

struct ExprParser<'a> {
    chars: Vec<char>,
    at: usize,
    depth: usize,
    known: &'a dyn Fn(&str) -> bool,
}

const MAX_EXPR_DEPTH: usize = 100;

impl ExprParser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn error(&self) -> String {
        let near: String = self.chars[self.at.min(self.chars.len())..]
            .iter()
            .take_while(|c| c.is_alphanumeric() || **c == '_')
            .collect();
        format!("Syntax error at offset {} near '{near}'", self.at)
    }

    fn eat(&mut self, op: &str) -> bool {
        self.skip();
        let matches = op
            .chars()
            .enumerate()
            .all(|(i, c)| self.chars.get(self.at + i) == Some(&c));
        if matches {
            self.at += op.chars().count();
        }
        matches
    }

    fn binary_level(
        &mut self,
        ops: &[&'static str],
        next: fn(&mut Self) -> Result<Expr, String>,
    ) -> Result<Expr, String> {
        let mut left = next(self)?;
        'outer: loop {
            for op in ops {
                if self.eat(op) {
                    let right = next(self)?;
                    left = Expr::Binary(op, Box::new(left), Box::new(right));
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn or(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_EXPR_DEPTH {
            return Err(self.error());
        }
        let result = self.binary_level(&["||"], Self::and);
        self.depth -= 1;
        result
    }

    fn and(&mut self) -> Result<Expr, String> {
        self.binary_level(&["&&"], Self::compare)
    }

    fn compare(&mut self) -> Result<Expr, String> {
        self.binary_level(&["==", "!=", "<=", ">=", "<", ">"], Self::sum)
    }

    fn sum(&mut self) -> Result<Expr, String> {
        self.binary_level(&["+", "-"], Self::product)
    }

    fn product(&mut self) -> Result<Expr, String> {
        self.binary_level(&["*", "/", "%"], Self::power)
    }

    fn power(&mut self) -> Result<Expr, String> {
        self.binary_level(&["^"], Self::unary)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.skip();
        match self.peek() {
            Some('-') if self.chars.get(self.at + 1) == Some(&'@') => {
                // The module negates numbers and groups, not properties.
                let at = self.at + 1;
                self.at += 2;
                Err(format!(
                    "Syntax error at offset {at} near '{}'",
                    self.name()
                ))
            }
            Some(c @ ('-' | '!')) => {
                self.at += 1;
                self.depth += 1;
                if self.depth > MAX_EXPR_DEPTH {
                    return Err(self.error());
                }
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Expr::Unary(c, Box::new(inner)))
            }
            _ => self.primary(),
        }
    }

    fn name(&mut self) -> String {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.' || c == '$')
        {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    fn primary(&mut self) -> Result<Expr, String> {
        self.skip();
        match self.peek() {
            Some('(') => {
                self.at += 1;
                let inner = self.or()?;
                if !self.eat(")") {
                    return Err(self.error());
                }
                Ok(inner)
            }
            Some('@') => {
                self.at += 1;
                let name = self.name();
                if name.is_empty() {
                    return Err(self.error());
                }
                if !(self.known)(&name) {
                    return Err(format!("Property `{name}` not loaded nor in pipeline"));
                }
                Ok(Expr::Field(name))
            }
            Some(q @ ('\'' | '"')) => {
                self.at += 1;
                let start = self.at;
                while self.peek().is_some_and(|c| c != q) {
                    self.at += 1;
                }
                if self.peek() != Some(q) {
                    return Err(self.error());
                }
                let s: String = self.chars[start..self.at].iter().collect();
                self.at += 1;
                Ok(Expr::Str(s))
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.at;
                while self
                    .peek()
                    .is_some_and(|c| c.is_ascii_digit() || c == '.' || c == 'e')
                {
                    self.at += 1;
                }
                let s: String = self.chars[start..self.at].iter().collect();
                s.parse().map(Expr::Num).map_err(|_| self.error())
            }
            Some(c) if c.is_alphabetic() => {
                let written = self.name();
                let name = written.to_ascii_lowercase();
                if !self.eat("(") {
                    return Err(format!("Unknown symbol '{written}'"));
                }
                let mut args = Vec::new();
                if !self.eat(")") {
                    loop {
                        args.push(self.or()?);
                        if self.eat(")") {
                            break;
                        }
                        if !self.eat(",") {
                            return Err(self.error());
                        }
                    }
                }
                Ok(Expr::Call(name, args))
            }
            _ => Err(self.error_after()),
        }
    }

    /// RediSearch's error when an operand is missing: the offset of the last operator and
    /// the word before it.
    fn error_after(&self) -> String {
        let before = &self.chars[..self.at.min(self.chars.len())];
        let mut offset = before.iter().rposition(|c| !c.is_whitespace()).unwrap_or(0);
        // A two-character operator is pointed at by its first character.
        let pair: String = before[offset.saturating_sub(1)..].iter().take(2).collect();
        if ["==", "!=", "<=", ">=", "&&", "||"].contains(&pair.as_str()) {
            offset -= 1;
        }
        let word: String = before[..offset]
            .iter()
            .rev()
            .skip_while(|c| !(c.is_alphanumeric() || **c == '_'))
            .take_while(|c| c.is_alphanumeric() || **c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("Syntax error at offset {offset} near '{word}'")
    }
}

pub(super) fn parse_expr(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Expr, String> {
    let mut parser = ExprParser {
        chars: text.chars().collect(),
        at: 0,
        depth: 0,
        known,
    };
    let expr = parser.or()?;
    parser.skip();
    if parser.at < parser.chars.len() {
        return Err(parser.error());
    }
    Ok(expr)
}

/// The module's errors for an expression over one row, found before evaluating it: an
/// operator or function (other than `exists`) given a property the row lacks, and arithmetic
/// on text that is not a number. Either fails the whole command.
pub(super) fn check(expr: &Expr, row: &Row) -> Result<(), String> {
    let present = |e: &Expr| match e {
        Expr::Field(name) if !row.contains_key(name) => Err(format!(
            "{name}: has no value, consider using EXISTS if applicable"
        )),
        _ => Ok(()),
    };
    let numeric = |e: &Expr| match eval(e, row) {
        Cell::Str(s) if s.trim().parse::<f64>().is_err() => {
            Err("Could not convert value to a number".to_string())
        }
        Cell::List(_) => Err("Could not convert value to a number".to_string()),
        _ => Ok(()),
    };
    match expr {
        Expr::Binary(op, a, b) => {
            check(a, row)?;
            check(b, row)?;
            present(a)?;
            present(b)?;
            if matches!(*op, "+" | "-" | "*" | "/" | "%" | "^") {
                numeric(a)?;
                numeric(b)?;
            }
            Ok(())
        }
        Expr::Unary(op, inner) => {
            check(inner, row)?;
            present(inner)?;
            if *op == '-' {
                numeric(inner)?;
            }
            Ok(())
        }
        Expr::Call(name, args) if name != "exists" => {
            args.iter().try_for_each(|a| {
                check(a, row)?;
                present(a)
            })?;
            if name == "geodistance" && geodistance(args, row).is_none() {
                return Err("Invalid geo string".into());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

pub(super) fn eval(expr: &Expr, row: &Row) -> Cell {
    let bool_cell = |b: bool| Cell::Num(if b { 1.0 } else { 0.0 });
    match expr {
        Expr::Num(n) => Cell::Num(*n),
        Expr::Str(s) => Cell::Str(s.clone()),
        Expr::Field(name) => row.get(name).cloned().unwrap_or(Cell::Null),
        Expr::Unary('-', inner) => Cell::Num(-eval(inner, row).number()),
        Expr::Unary(_, inner) => bool_cell(!eval(inner, row).truthy()),
        Expr::Binary(op, a, b) => {
            let (a, b) = (eval(a, row), eval(b, row));
            match *op {
                "||" => bool_cell(a.truthy() || b.truthy()),
                "&&" => bool_cell(a.truthy() && b.truthy()),
                "==" | "!=" | "<" | "<=" | ">" | ">=" => {
                    let (x, y) = (a.number(), b.number());
                    let order = if x.is_nan() || y.is_nan() {
                        a.text().partial_cmp(&b.text())
                    } else {
                        x.partial_cmp(&y)
                    };
                    use std::cmp::Ordering::*;
                    bool_cell(match (*op, order) {
                        ("==", Some(o)) => o == Equal,
                        ("!=", Some(o)) => o != Equal,
                        ("<", Some(o)) => o == Less,
                        ("<=", Some(o)) => o != Greater,
                        (">", Some(o)) => o == Greater,
                        (">=", Some(o)) => o != Less,
                        _ => false,
                    })
                }
                _ => {
                    let (x, y) = (a.number(), b.number());
                    Cell::Num(match *op {
                        "+" => x + y,
                        "-" => x - y,
                        "*" => x * y,
                        "/" if y == 0.0 => f64::NAN,
                        "/" => x / y,
                        "%" => (x as i64)
                            .checked_rem(y as i64)
                            .map_or(f64::NAN, |r| r as f64),
                        _ => x.powf(y),
                    })
                }
            }
        }
        Expr::Call(name, args) => {
            let arg = |i: usize| args.get(i).map_or(Cell::Null, |a| eval(a, row));
            match name.as_str() {
                "upper" => Cell::Str(arg(0).text().to_uppercase()),
                "lower" => Cell::Str(arg(0).text().to_lowercase()),
                "strlen" => Cell::Num(arg(0).text().len() as f64),
                "substr" => {
                    let s: Vec<char> = arg(0).text().chars().collect();
                    let len = s.len() as i64;
                    let from = (arg(1).number() as i64).clamp(0, len);
                    let count = arg(2).number() as i64;
                    let to = if count < 0 {
                        len + count + 1
                    } else {
                        from + count
                    }
                    .clamp(from, len);
                    Cell::Str(s[from as usize..to as usize].iter().collect())
                }
                "abs" => Cell::Num(arg(0).number().abs()),
                "floor" => Cell::Num(arg(0).number().floor()),
                "ceil" => Cell::Num(arg(0).number().ceil()),
                "sqrt" => Cell::Num(arg(0).number().sqrt()),
                "log" => Cell::Num(arg(0).number().ln()),
                "log2" => Cell::Num(arg(0).number().log2()),
                "exp" => Cell::Num(arg(0).number().exp()),
                "exists" => bool_cell(!matches!(arg(0), Cell::Null)),
                "startswith" => bool_cell(arg(0).text().starts_with(&arg(1).text())),
                "contains" => Cell::Num(arg(0).text().matches(&arg(1).text()).count() as f64),
                "geodistance" => geodistance(args, row).map_or(Cell::Null, Cell::Num),
                "split" => {
                    let text = arg(0).text();
                    let sep = args.get(1).map_or(",".to_string(), |_| arg(1).text());
                    let strip = args.get(2).map_or(" ".to_string(), |_| arg(2).text());
                    Cell::List(
                        text.split(|c| sep.contains(c))
                            .map(|p| p.trim_matches(|c| strip.contains(c)).to_string())
                            .filter(|p| !p.is_empty())
                            .collect(),
                    )
                }
                "format" => {
                    let mut out = String::new();
                    let mut next = 1;
                    let mut chars = arg(0).text().chars().collect::<Vec<_>>().into_iter();
                    while let Some(c) = chars.next() {
                        match (c, c == '%') {
                            (_, false) => out.push(c),
                            _ => match chars.next() {
                                Some('s') => {
                                    out.push_str(&arg(next).text());
                                    next += 1;
                                }
                                Some('%') => out.push('%'),
                                _ => return Cell::Null,
                            },
                        }
                    }
                    Cell::Str(out)
                }
                "timefmt" => {
                    let format = args.get(1).map_or("%FT%TZ".to_string(), |_| arg(1).text());
                    time_format(arg(0).number(), &format).map_or(Cell::Null, Cell::Str)
                }
                "minute" | "hour" | "day" => {
                    let t = arg(0).number().floor();
                    let unit = match name.as_str() {
                        "minute" => 60.0,
                        "hour" => 3600.0,
                        _ => 86400.0,
                    };
                    Cell::Num(t - t.rem_euclid(unit))
                }
                "dayofweek" | "dayofmonth" | "dayofyear" | "monthofyear" | "year" | "month" => {
                    let Some(date) = civil(arg(0).number()) else {
                        return Cell::Null;
                    };
                    Cell::Num(match name.as_str() {
                        "dayofweek" => date.weekday as f64,
                        "dayofmonth" => date.day as f64,
                        "dayofyear" => date.yday as f64,
                        "monthofyear" => (date.month - 1) as f64,
                        "year" => date.year as f64,
                        // `month`: the first second of the timestamp's month.
                        _ => date.days_before_month * 86400.0,
                    })
                }
                _ => Cell::Null,
            }
        }
    }
}

/// `geodistance(a, b)` or `geodistance(a, lon, lat)`: metres between two points written
/// `"lon,lat"`, rounded to centimetres; `None` for a point that does not parse.
fn geodistance(args: &[Expr], row: &Row) -> Option<f64> {
    // The function measures between the points as written, not as the index stores them.
    let point = |text: String| super::geo::parse_lon_lat(&text);
    let values: Vec<Cell> = args.iter().map(|a| eval(a, row)).collect();
    let (a, b) = match values.as_slice() {
        [a, b] => (point(a.text())?, point(b.text())?),
        [a, lon, lat] => (
            point(a.text())?,
            point(format!("{},{}", lon.text(), lat.text()))?,
        ),
        _ => return None,
    };
    let meters = crate::redis::types::geo::distance(a.0, a.1, b.0, b.1);
    Some((meters * 100.0).round() / 100.0)
}

/// A Unix time in seconds as a UTC calendar date.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// 0 = Sunday.
    weekday: u32,
    /// 0 = January 1st.
    yday: u32,
    /// Days from the epoch to the first of the month.
    days_before_month: f64,
}

fn civil(t: f64) -> Option<Civil> {
    if !t.is_finite() || t.abs() > 1e15 {
        return None;
    }
    let secs = t.floor() as i64;
    let days = secs.div_euclid(86400);
    let rest = secs.rem_euclid(86400) as u32;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    const BEFORE: [u32; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let yday = BEFORE[(month - 1) as usize] + day - 1 + u32::from(leap && month > 2);
    Some(Civil {
        year,
        month,
        day,
        hour: rest / 3600,
        minute: rest / 60 % 60,
        second: rest % 60,
        weekday: (days + 4).rem_euclid(7) as u32,
        yday,
        days_before_month: (days - i64::from(day) + 1) as f64,
    })
}

/// `timefmt`: strftime's common conversions over a UTC time.
fn time_format(t: f64, format: &str) -> Option<String> {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let d = civil(t)?;
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&d.year.to_string()),
            Some('y') => out.push_str(&format!("{:02}", d.year.rem_euclid(100))),
            Some('m') => out.push_str(&format!("{:02}", d.month)),
            Some('d') => out.push_str(&format!("{:02}", d.day)),
            Some('e') => out.push_str(&format!("{:2}", d.day)),
            Some('H') => out.push_str(&format!("{:02}", d.hour)),
            Some('M') => out.push_str(&format!("{:02}", d.minute)),
            Some('S') => out.push_str(&format!("{:02}", d.second)),
            Some('j') => out.push_str(&format!("{:03}", d.yday + 1)),
            Some('a') => out.push_str(DAYS.get(d.weekday as usize)?),
            Some('b') => out.push_str(MONTHS.get((d.month - 1) as usize)?),
            Some('F') => out.push_str(&format!("{}-{:02}-{:02}", d.year, d.month, d.day)),
            Some('T') => out.push_str(&format!("{:02}:{:02}:{:02}", d.hour, d.minute, d.second)),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------
// Reducers
// ---------------------------------------------------------------------------------------

fn reduce(name: &str, values: &[Cell], group_len: usize) -> Cell {
    let numbers = || values.iter().map(Cell::number).filter(|n| !n.is_nan());
    match name {
        "COUNT" => Cell::Num(group_len as f64),
        "SUM" => Cell::Num(numbers().sum()),
        "AVG" => {
            let n: Vec<f64> = numbers().collect();
            Cell::Num(if n.is_empty() {
                f64::NAN
            } else {
                n.iter().sum::<f64>() / n.len() as f64
            })
        }
        "MIN" => Cell::Num(numbers().fold(f64::INFINITY, f64::min)),
        "MAX" => Cell::Num(numbers().fold(f64::NEG_INFINITY, f64::max)),
        "COUNT_DISTINCT" | "COUNT_DISTINCTISH" => {
            let mut seen: Vec<String> = values.iter().map(Cell::text).collect();
            crate::sort::sort(&mut seen);
            seen.dedup();
            Cell::Num(seen.len() as f64)
        }
        "TOLIST" => {
            let mut seen: Vec<String> = Vec::new();
            for v in values.iter().filter(|v| !matches!(v, Cell::Null)) {
                let t = v.text();
                if !seen.contains(&t) {
                    seen.push(t);
                }
            }
            Cell::List(seen)
        }
        "FIRST_VALUE" => values.first().cloned().unwrap_or(Cell::Null),
        "STDDEV" => {
            let n: Vec<f64> = numbers().collect();
            if n.len() < 2 {
                return Cell::Num(0.0);
            }
            let mean = n.iter().sum::<f64>() / n.len() as f64;
            let sum: f64 = n.iter().map(|x| (x - mean) * (x - mean)).sum();
            Cell::Num((sum / (n.len() - 1) as f64).sqrt())
        }
        _ => Cell::Null,
    }
}

/// QUANTILE's value: the smallest with at least a `q` share of the values at or below it.
fn quantile(values: &[Cell], q: f64) -> Cell {
    let mut n: Vec<f64> = values
        .iter()
        .map(Cell::number)
        .filter(|n| !n.is_nan())
        .collect();
    if n.is_empty() {
        return Cell::Null;
    }
    crate::sort::sort_by(&mut n, |a, b| {
        a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
    });
    let at = ((q * n.len() as f64).ceil() as usize).saturating_sub(1);
    Cell::Num(n[at.min(n.len() - 1)])
}

const REDUCERS: &[&str] = &[
    "COUNT",
    "SUM",
    "AVG",
    "MIN",
    "MAX",
    "COUNT_DISTINCT",
    "COUNT_DISTINCTISH",
    "TOLIST",
    "FIRST_VALUE",
    "STDDEV",
    "QUANTILE",
    "RANDOM_SAMPLE",
];

// ---------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------

/// A field's value in a document, as a pipeline reads it: TAG values as the index
/// normalises them (lower-cased) when grouping and reducing, everything else as stored.
fn doc_cell(index: &Index, doc: &Doc, name: &str, grouping: bool) -> Cell {
    let field = index.field(name).map(|(_, f)| f);
    let identifier = field.map_or(name, |f| f.identifier.as_str());
    let raw = match index.source {
        super::Source::Hash => doc
            .content
            .iter()
            .find(|(k, _)| k == identifier)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned()),
        super::Source::Json => super::returned_json(doc, identifier),
    };
    match (raw, field.map(|f| &f.kind)) {
        (None, _) => Cell::Null,
        (
            Some(v),
            Some(FieldKind::Tag {
                case_sensitive: false,
                ..
            }),
        ) if grouping => Cell::Str(v.to_lowercase()),
        // NUMERIC fields load as numbers, so they sort as numbers.
        (Some(v), Some(FieldKind::Numeric)) => match v.trim().parse::<f64>() {
            Ok(n) => Cell::Num(n),
            Err(_) => Cell::Str(v),
        },
        (Some(v), _) => Cell::Str(v),
    }
}

fn field_name(arg: &[u8]) -> String {
    let t = text(arg);
    t.strip_prefix('@').map_or(t.clone(), str::to_string)
}

/// FT.AGGREGATE index query [LOAD n @field ...] [GROUPBY n @field ... [REDUCE fn n arg ...
/// [AS name]] ...] [APPLY expr AS name] [FILTER expr] [SORTBY n @field [ASC|DESC] ... [MAX n]]
/// [LIMIT offset num]
pub fn ft_aggregate(server: &mut Server, argv: &[Vec<u8>]) -> Reply {
    if argv.len() < 2 {
        return wrong_arity("FT.AGGREGATE");
    }
    if argv.len() < 3 {
        return reply::error("No query string provided");
    }
    let name = text(&argv[1]);
    let Some(index) = server.search.get(&name).cloned() else {
        return reply::error(&format!("{name}: no such index"));
    };
    let node = match index.parse_query(&text(&argv[2])) {
        Ok(n) => n,
        Err(e) => return reply::error(&e),
    };
    let stems = super::Stems::default();
    let docs: Vec<Doc> = documents(server, &index, true)
        .into_iter()
        .filter(|d| super::matches(&stems, &index, d, &node))
        .collect();
    let mut total = docs.len();
    let mut rows: Vec<(Row, Option<usize>)> =
        (0..docs.len()).map(|i| (Row::new(), Some(i))).collect();
    let mut names: Vec<String> = Vec::new();
    // Whether a SORTBY or GROUPBY counted every row, and the rows a LIMIT saw with its offset.
    let mut counted = false;
    let mut streamed = None;
    let mut i = 3;
    while let Some(word) = argv.get(i) {
        let step = upper(word);
        match step.as_str() {
            "LOAD" if argv.get(i + 1).is_some_and(|a| a.as_slice() == b"*") => {
                i += 2;
                for (row, doc) in &mut rows {
                    let Some(d) = doc.and_then(|d| docs.get(d)) else {
                        continue;
                    };
                    // SORTABLE fields come from the index first, then the key's own fields.
                    let sortable = index.fields.iter().filter(|f| f.sortable);
                    let own: Vec<String> = d.content.iter().map(|(k, _)| k.clone()).collect();
                    for name in sortable.map(|f| f.attribute.clone()).chain(own) {
                        if !row.contains_key(&name) {
                            let cell = doc_cell(&index, d, &name, false);
                            if cell != Cell::Null {
                                row.insert(name.clone(), cell);
                            }
                        }
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                }
            }
            "LOAD" => {
                let fields = match counted_fields(argv, i, "LOAD") {
                    Ok(f) => f,
                    Err(e) => return e,
                };
                i += 2 + fields.len();
                load(&index, &docs, &mut rows, &fields);
                names.extend(fields);
            }
            "GROUPBY" => {
                let keys = match counted_fields(argv, i, "GROUPBY") {
                    Ok(f) => f,
                    Err(e) => return e,
                };
                let count = keys.len();
                for k in &keys {
                    if index.field(k).is_none() && !names.contains(k) {
                        return reply::error(&format!("No such property `{k}`"));
                    }
                }
                i += 2 + count;
                let mut reducers: Vec<(String, Vec<String>, String)> = Vec::new();
                while argv
                    .get(i)
                    .is_some_and(|a| a.eq_ignore_ascii_case(b"REDUCE"))
                {
                    let function = argv.get(i + 1).map(|a| upper(a)).unwrap_or_default();
                    if !REDUCERS.contains(&function.as_str()) {
                        return reply::error(&format!("No such reducer: {function}"));
                    }
                    let nargs = match parse_count(argv, i + 2, "REDUCE") {
                        Ok(c) => c,
                        Err(e) => return e,
                    };
                    let args: Vec<String> = argv
                        .iter()
                        .skip(i + 3)
                        .take(nargs)
                        .map(|a| field_name(a))
                        .collect();
                    i += 3 + nargs;
                    let alias = if argv.get(i).is_some_and(|a| a.eq_ignore_ascii_case(b"AS")) {
                        i += 2;
                        argv.get(i - 1).map(|a| text(a)).unwrap_or_default()
                    } else {
                        format!(
                            "__generated_alias{}{}",
                            function.to_lowercase(),
                            args.concat()
                        )
                    };
                    reducers.push((function, args, alias));
                }
                let mut groups: IndexMap<Vec<String>, (Row, Vec<usize>)> = IndexMap::new();
                for (n, (row, doc)) in rows.iter().enumerate() {
                    let mut key_row = Row::new();
                    let key: Vec<String> = keys
                        .iter()
                        .map(|k| {
                            let cell = match (row.get(k), doc.and_then(|d| docs.get(d))) {
                                (Some(c), _) => c.clone(),
                                (None, Some(d)) => doc_cell(&index, d, k, true),
                                (None, None) => Cell::Null,
                            };
                            let t = cell.text();
                            key_row.insert(k.clone(), cell);
                            t
                        })
                        .collect();
                    groups
                        .entry(key)
                        .or_insert_with(|| (key_row, Vec::new()))
                        .1
                        .push(n);
                }
                let mut grouped = Vec::new();
                for (_, (mut out, members)) in groups {
                    for (function, args, alias) in &reducers {
                        let values: Vec<Cell> = members
                            .iter()
                            .filter_map(|m| rows.get(*m))
                            .map(|(row, doc)| {
                                let Some(arg) = args.first() else {
                                    return Cell::Null;
                                };
                                match (row.get(arg), doc.and_then(|d| docs.get(d))) {
                                    (Some(c), _) => c.clone(),
                                    (None, Some(d)) => doc_cell(&index, d, arg, true),
                                    (None, None) => Cell::Null,
                                }
                            })
                            .collect();
                        let second = args.get(1).and_then(|a| a.parse::<f64>().ok());
                        let cell = match function.as_str() {
                            "QUANTILE" => quantile(&values, second.unwrap_or(0.5)),
                            // The module samples at random; the sandbox keeps the first ones.
                            "RANDOM_SAMPLE" => Cell::List(
                                values
                                    .iter()
                                    .filter(|v| !matches!(v, Cell::Null))
                                    .take(second.unwrap_or(0.0) as usize)
                                    .map(Cell::text)
                                    .collect(),
                            ),
                            _ => reduce(function, &values, members.len()),
                        };
                        out.insert(alias.clone(), cell);
                    }
                    grouped.push((out, None));
                }
                names = keys;
                names.extend(reducers.into_iter().map(|(_, _, alias)| alias));
                total = grouped.len();
                counted = true;
                rows = grouped;
            }
            "APPLY" | "FILTER" => {
                let Some(source) = argv.get(i + 1) else {
                    return reply::error(&format!(
                        "Bad arguments for {step}: Expected an argument, but none provided"
                    ));
                };
                // Only SORTABLE fields come without a LOAD (from the index's sort table).
                let known = |n: &str| {
                    index.field(n).is_some_and(|(_, f)| f.sortable) || names.iter().any(|x| x == n)
                };
                let expr = match parse_expr(&text(source), &known) {
                    Ok(e) => e,
                    Err(e) => return reply::error(&e),
                };
                // Schema fields an expression names are read from the documents.
                let mut needed = Vec::new();
                collect_fields(&expr, &mut needed);
                if step == "APPLY" {
                    load(&index, &docs, &mut rows, &needed);
                    let alias = if argv
                        .get(i + 2)
                        .is_some_and(|a| a.eq_ignore_ascii_case(b"AS"))
                    {
                        let alias = argv.get(i + 3).map(|a| text(a)).unwrap_or_default();
                        i += 2;
                        alias
                    } else {
                        text(source)
                    };
                    for (row, _) in &mut rows {
                        if let Err(e) = check(&expr, row) {
                            return reply::error(&e);
                        }
                        let value = eval(&expr, row);
                        row.insert(alias.clone(), value);
                    }
                    names.push(alias);
                } else {
                    // The fields a FILTER reads stay in the rows, as the module shows them.
                    load(&index, &docs, &mut rows, &needed);
                    let mut keep = Vec::with_capacity(rows.len());
                    for (row, _) in &rows {
                        if let Err(e) = check(&expr, row) {
                            return reply::error(&e);
                        }
                        keep.push(eval(&expr, row).truthy());
                    }
                    let mut keep = keep.into_iter();
                    rows.retain(|_| keep.next().unwrap_or(false));
                }
                i += 2;
            }
            "SORTBY" => {
                counted = true;
                let count = match parse_count(argv, i + 1, "SORTBY") {
                    Ok(c) => c,
                    Err(e) => return e,
                };
                let words: Vec<&Vec<u8>> = argv.iter().skip(i + 2).take(count).collect();
                let mut keys: Vec<(String, bool)> = Vec::new();
                for w in words {
                    match upper(w).as_str() {
                        "ASC" => {}
                        "DESC" => {
                            if let Some(last) = keys.last_mut() {
                                last.1 = false;
                            }
                        }
                        _ => keys.push((field_name(w), true)),
                    }
                }
                i += 2 + count;
                let mut max = None;
                if argv.get(i).is_some_and(|a| a.eq_ignore_ascii_case(b"MAX")) {
                    max = argv.get(i + 1).and_then(|a| text(a).parse::<usize>().ok());
                    i += 2;
                }
                let names: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
                load(&index, &docs, &mut rows, &names);
                crate::sort::sort_by(&mut rows, |(a, _), (b, _)| {
                    for (k, ascending) in &keys {
                        use std::cmp::Ordering;
                        // Rows without the property come last either way; a property that
                        // is there but null sorts before every value.
                        let (x, y) = match (a.get(k), b.get(k)) {
                            (None, None) => continue,
                            (None, _) => return Ordering::Greater,
                            (_, None) => return Ordering::Less,
                            (Some(x), Some(y)) => (x, y),
                        };
                        let order = match (x, y) {
                            (Cell::Null, Cell::Null) => Ordering::Equal,
                            (Cell::Null, _) => Ordering::Less,
                            (_, Cell::Null) => Ordering::Greater,
                            (Cell::Num(m), Cell::Num(n)) => {
                                m.partial_cmp(n).unwrap_or(Ordering::Equal)
                            }
                            _ => x.text().cmp(&y.text()),
                        };
                        let order = if *ascending { order } else { order.reverse() };
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                    std::cmp::Ordering::Equal
                });
                if let Some(max) = max {
                    rows.truncate(max);
                }
                continue;
            }
            "LIMIT" => {
                let (Some(offset), Some(num)) = (
                    argv.get(i + 1).and_then(|a| text(a).parse::<usize>().ok()),
                    argv.get(i + 2).and_then(|a| text(a).parse::<usize>().ok()),
                ) else {
                    return reply::error("LIMIT needs two numeric arguments");
                };
                streamed = Some((rows.len(), offset));
                rows = rows.into_iter().skip(offset).take(num).collect();
                i += 3;
            }
            "DIALECT" | "TIMEOUT" => i += 2,
            "VERBATIM" => i += 1,
            _ => {
                return reply::error(&format!(
                    "Unknown argument `{}` at position {} for <main>",
                    text(word),
                    i - 2
                ))
            }
        }
    }
    // Without a SORTBY or GROUPBY the module streams the rows and reports how many it had
    // read when it sent the first: one past the LIMIT offset.
    if !counted {
        let (available, offset) = streamed.unwrap_or((rows.len(), 0));
        total = available.min(offset + 1);
    }
    let mut out = vec![Reply::Integer(total as i64)];
    for (row, _) in rows {
        out.push(Reply::Array(
            row.iter()
                .flat_map(|(k, v)| [Reply::bulk(k.as_str()), v.reply()])
                .collect(),
        ));
    }
    Reply::Array(out)
}

/// The `n @field ...` after the keyword at `i`, names without their `@`.
fn counted_fields(argv: &[Vec<u8>], i: usize, what: &str) -> Result<Vec<String>, Reply> {
    let count = parse_count(argv, i + 1, what)?;
    Ok(argv
        .iter()
        .skip(i + 2)
        .take(count)
        .map(|a| field_name(a))
        .collect())
}

/// Reads `fields` from each row's document into the rows that lack them.
fn load(index: &Index, docs: &[Doc], rows: &mut [(Row, Option<usize>)], fields: &[String]) {
    for (row, doc) in rows {
        let Some(d) = doc.and_then(|d| docs.get(d)) else {
            continue;
        };
        for f in fields {
            if !row.contains_key(f) {
                let cell = doc_cell(index, d, f, false);
                if cell != Cell::Null {
                    row.insert(f.clone(), cell);
                }
            }
        }
    }
}

pub(super) fn collect_fields(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Field(name) if !out.contains(name) => out.push(name.clone()),
        Expr::Unary(_, inner) => collect_fields(inner, out),
        Expr::Binary(_, a, b) => {
            collect_fields(a, out);
            collect_fields(b, out);
        }
        Expr::Call(_, args) => args.iter().for_each(|a| collect_fields(a, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_evaluate_like_redisearch() {
        let mut row = Row::new();
        row.insert("price".into(), Cell::Str("5.5".into()));
        row.insert("city".into(), Cell::Str("Rome".into()));
        let known = |n: &str| n == "price" || n == "city";
        let cases = [
            ("@price * 4", "22"),
            ("@price / 2", "2.75"),
            ("@price / 0", "nan"),
            ("upper(@city)", "ROME"),
            ("substr(@city, 0, 2)", "Ro"),
            ("@price > 5 && @city == 'Rome'", "1"),
            ("2 ^ 3", "8"),
            ("-(@price) + 1", "-4.5"),
            ("floor(@price) % 3", "2"),
        ];
        for (source, expected) in cases {
            let expr = parse_expr(source, &known).unwrap();
            assert_eq!(eval(&expr, &row).text(), expected, "{source}");
        }
        assert_eq!(
            parse_expr("@nope + 1", &known).unwrap_err(),
            "Property `nope` not loaded nor in pipeline"
        );
        assert_eq!(
            parse_expr("@price +", &known).unwrap_err(),
            "Syntax error at offset 7 near 'price'"
        );
        assert!(parse_expr(&"(".repeat(10_000), &known).is_err());
        assert_eq!(
            parse_expr("SCHEMA", &known).unwrap_err(),
            "Unknown symbol 'SCHEMA'"
        );
        assert!(parse_expr(&"-".repeat(10_000), &known).is_err());
    }

    #[test]
    fn numbers_print_as_c_g12() {
        for (x, text) in [
            (1.0 / 3.0, "0.333333333333"),
            (5.0 / 3.0, "1.66666666667"),
            (2.0f64.sqrt(), "1.41421356237"),
            (1024.0, "1024"),
            (-2.5, "-2.5"),
            (1e15, "1e+15"),
            (123456789012.0, "123456789012"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (f64::NAN, "nan"),
        ] {
            assert_eq!(format_number(x), text, "{x}");
        }
    }

    #[test]
    fn time_functions_read_utc_dates() {
        assert_eq!(
            time_format(1_700_000_000.0, "%FT%TZ").unwrap(),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            time_format(1_700_000_000.0, "%Y %m %d %H %M %S %j %a %b").unwrap(),
            "2023 11 14 22 13 20 318 Tue Nov"
        );
        assert_eq!(time_format(951_782_400.0, "%F").unwrap(), "2000-02-29");
        assert_eq!(time_format(-1.0, "%F %T").unwrap(), "1969-12-31 23:59:59");
        let d = civil(1_709_251_200.0).unwrap();
        assert_eq!((d.yday, d.weekday), (60, 5));
        assert!(civil(f64::INFINITY).is_none());
    }
}
