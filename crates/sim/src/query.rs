//! The RouterOS API query language (`?name=value`, `?#|`, …) as a small
//! stack machine over any row that can look up a field by name.
//!
//! Evaluation takes a lookup closure instead of a concrete row type so the
//! same evaluator serves stored tables and connection rows that exist only
//! while they are being generated.

use std::borrow::Cow;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq(String, String),
    Lt(String, String),
    Gt(String, String),
    Has(String),
    Lacks(String),
    Or,
    And,
    Not,
    /// `.`: pushes a copy of the top value.
    Dup,
    /// A digit: pushes a copy of the value at that depth from the bottom.
    Pick(usize),
}

/// A compiled query; the empty query matches every row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    ops: Vec<Op>,
}

/// Why a query was refused (shown to the client in a `!trap`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl Query {
    /// Compiles the `?…` words of a command (without the leading `?`).
    /// Stack underflow is found here, since the stack depth does not depend on
    /// the rows, so evaluation itself cannot fail.
    pub fn parse<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<Self, QueryError> {
        let mut ops = Vec::new();
        let mut depth = 0usize;
        for w in words {
            if let Some(stack_ops) = w.strip_prefix('#') {
                for c in stack_ops.chars() {
                    let (op, need, delta): (Op, usize, isize) = match c {
                        '|' => (Op::Or, 2, -1),
                        '&' => (Op::And, 2, -1),
                        '!' => (Op::Not, 1, 0),
                        '.' => (Op::Dup, 1, 1),
                        d if d.is_ascii_digit() => {
                            let n = d as usize - '0' as usize;
                            (Op::Pick(n), n + 1, 1)
                        }
                        other => {
                            return Err(QueryError(format!("unknown query operation '{other}'")))
                        }
                    };
                    if depth < need {
                        return Err(QueryError("invalid query: stack underflow".into()));
                    }
                    depth = (depth as isize + delta) as usize;
                    ops.push(op);
                }
                continue;
            }
            let op = if let Some(rest) = w.strip_prefix('<') {
                let (k, v) = split_kv(rest)?;
                Op::Lt(k, v)
            } else if let Some(rest) = w.strip_prefix('>') {
                let (k, v) = split_kv(rest)?;
                Op::Gt(k, v)
            } else if let Some(rest) = w.strip_prefix('-') {
                Op::Lacks(rest.to_string())
            } else {
                // `?=name=value` is an accepted spelling of `?name=value`.
                let rest = w.strip_prefix('=').unwrap_or(w);
                match rest.split_once('=') {
                    Some((k, v)) => Op::Eq(k.to_string(), v.to_string()),
                    None => Op::Has(rest.to_string()),
                }
            };
            if matches!(&op, Op::Eq(k, _) | Op::Lt(k, _) | Op::Gt(k, _) | Op::Has(k) | Op::Lacks(k) if k.is_empty())
            {
                return Err(QueryError("invalid query: empty property name".into()));
            }
            depth += 1;
            ops.push(op);
        }
        Ok(Self { ops })
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Names of every property the query reads, so a row generator can tell
    /// whether it must compute expensive fields.
    pub fn properties(&self) -> impl Iterator<Item = &str> {
        self.ops.iter().filter_map(|op| match op {
            Op::Eq(k, _) | Op::Lt(k, _) | Op::Gt(k, _) | Op::Has(k) | Op::Lacks(k) => {
                Some(k.as_str())
            }
            _ => None,
        })
    }

    /// Evaluates the query against one row. Whatever is left on the stack at
    /// the end is combined with AND.
    pub fn matches<'r>(&self, mut get: impl FnMut(&str) -> Option<Cow<'r, str>>) -> bool {
        if self.ops.is_empty() {
            return true;
        }
        let mut stack: Vec<bool> = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let v = match op {
                Op::Eq(k, v) => get(k).is_some_and(|x| values_equal(&x, v)),
                Op::Lt(k, v) => get(k).is_some_and(|x| compare(&x, v) == Ordering::Less),
                Op::Gt(k, v) => get(k).is_some_and(|x| compare(&x, v) == Ordering::Greater),
                Op::Has(k) => get(k).is_some(),
                Op::Lacks(k) => get(k).is_none(),
                Op::Or | Op::And => {
                    let b = stack.pop().unwrap_or(true);
                    let a = stack.pop().unwrap_or(true);
                    if matches!(op, Op::Or) {
                        a || b
                    } else {
                        a && b
                    }
                }
                Op::Not => !stack.pop().unwrap_or(false),
                Op::Dup => stack.last().copied().unwrap_or(true),
                Op::Pick(n) => stack.get(*n).copied().unwrap_or(true),
            };
            stack.push(v);
        }
        stack.iter().all(|&b| b)
    }
}

fn split_kv(s: &str) -> Result<(String, String), QueryError> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(QueryError(format!("invalid query word '{s}'"))),
    }
}

fn as_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "yes" => Some(true),
        "false" | "no" => Some(false),
        _ => None,
    }
}

fn values_equal(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (as_bool(a), as_bool(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Numeric when both sides are numbers, otherwise byte-wise.
fn compare(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.parse::<i128>(), b.parse::<i128>()) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        if let Some(o) = x.partial_cmp(&y) {
            return o;
        }
    }
    a.cmp(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(fields: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<Cow<'a, str>> + 'a {
        move |k| {
            fields
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| Cow::Borrowed(*v))
        }
    }

    fn q(words: &[&str]) -> Query {
        Query::parse(words.iter().copied()).unwrap()
    }

    #[test]
    fn equality_presence_and_absence() {
        let r = [("name", "ether1"), ("mtu", "1500")];
        assert!(q(&[]).matches(row(&r)));
        assert!(q(&["name=ether1"]).matches(row(&r)));
        assert!(!q(&["name=ether2"]).matches(row(&r)));
        assert!(q(&["mtu"]).matches(row(&r)));
        assert!(!q(&["comment"]).matches(row(&r)));
        assert!(q(&["-comment"]).matches(row(&r)));
        assert!(q(&["=name=ether1"]).matches(row(&r)));
    }

    #[test]
    fn comparisons_are_numeric_when_both_sides_are_numbers() {
        let r = [("mtu", "1500"), ("name", "b")];
        assert!(q(&["<mtu=9000"]).matches(row(&r)));
        assert!(q(&[">mtu=200"]).matches(row(&r)));
        assert!(!q(&[">mtu=2000"]).matches(row(&r)));
        assert!(q(&["<name=c"]).matches(row(&r)));
        assert!(q(&[">name=a"]).matches(row(&r)));
    }

    #[test]
    fn stack_operations() {
        let r = [("list", "b")];
        assert!(q(&["list=a", "list=b", "#|"]).matches(row(&r)));
        assert!(!q(&["list=a", "list=b", "#&"]).matches(row(&r)));
        assert!(q(&["list=a", "#!"]).matches(row(&r)));
        // Implicit AND of what is left.
        assert!(!q(&["list=a", "list=b"]).matches(row(&r)));
        assert!(q(&["list=a", "list=c", "list=b", "#||"]).matches(row(&r)));
        assert!(q(&["list=b", "#.&"]).matches(row(&r)));
        assert!(q(&["list=b", "list=a", "#0|"]).matches(row(&[("list", "b")])));
    }

    #[test]
    fn malformed_queries_are_refused() {
        assert!(Query::parse(["#|"]).is_err());
        assert!(Query::parse(["a=1", "#&"]).is_err());
        assert!(Query::parse(["#x"]).is_err());
        assert!(Query::parse(["<=1"]).is_err());
        assert!(Query::parse([""]).is_err());
    }
}
