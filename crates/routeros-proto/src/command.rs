//! Request sentences, and their terminal-syntax rendering for previews.

use crate::sentence::encode_sentence;

/// One query word of a `print` (evaluated by the router as a stack machine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryOp {
    /// `?name=value`: property equals value.
    Eq(String, String),
    /// `?<name=value`: property is less than value.
    Lt(String, String),
    /// `?>name=value`: property is greater than value.
    Gt(String, String),
    /// `?name`: the item has the property.
    Has(String),
    /// `?-name`: the item lacks the property.
    Lacks(String),
    /// `?#|`: pops two results, pushes their OR.
    Or,
    /// `?#&`: pops two results, pushes their AND.
    And,
    /// `?#!`: negates the top result.
    Not,
}

impl QueryOp {
    pub fn to_word(&self) -> String {
        match self {
            Self::Eq(k, v) => format!("?{k}={v}"),
            Self::Lt(k, v) => format!("?<{k}={v}"),
            Self::Gt(k, v) => format!("?>{k}={v}"),
            Self::Has(k) => format!("?{k}"),
            Self::Lacks(k) => format!("?-{k}"),
            Self::Or => "?#|".into(),
            Self::And => "?#&".into(),
            Self::Not => "?#!".into(),
        }
    }
}

/// A command: `/menu/path/verb` with attributes, queries and an optional tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    path: String,
    attributes: Vec<(String, String)>,
    queries: Vec<QueryOp>,
    proplist: Option<Vec<String>>,
    tag: Option<String>,
}

impl Command {
    /// `path` is the API form, e.g. `/ip/firewall/mangle/add`.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            attributes: Vec::new(),
            queries: Vec::new(),
            proplist: None,
            tag: None,
        }
    }

    pub fn attr(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.push((key.into(), value.into()));
        self
    }

    pub fn query(mut self, op: QueryOp) -> Self {
        self.queries.push(op);
        self
    }

    /// Limits the returned fields: the single biggest lever on print speed.
    pub fn proplist<S: AsRef<str>>(mut self, fields: &[S]) -> Self {
        self.proplist = Some(fields.iter().map(|s| s.as_ref().to_string()).collect());
        self
    }

    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }

    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The words of this command in wire order.
    pub fn words(&self) -> Vec<String> {
        let mut words = Vec::with_capacity(2 + self.attributes.len() + self.queries.len());
        words.push(self.path.clone());
        for (k, v) in &self.attributes {
            words.push(format!("={k}={v}"));
        }
        if let Some(p) = &self.proplist {
            words.push(format!("=.proplist={}", p.join(",")));
        }
        for q in &self.queries {
            words.push(q.to_word());
        }
        if let Some(t) = &self.tag {
            words.push(format!(".tag={t}"));
        }
        words
    }

    /// Appends the wire form of this command to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        encode_sentence(self.words(), out);
    }

    /// The same command as an operator would type it in a RouterOS terminal,
    /// e.g. `/ip firewall mangle add chain=prerouting comment="shareguard"`.
    /// Used for previews: what is shown is what is sent.
    pub fn to_cli(&self) -> String {
        let path = self.path.trim_start_matches('/');
        let (menu, verb) = path.rsplit_once('/').unwrap_or(("", path));
        let mut out = format!("/{} {}", menu.replace('/', " "), verb);
        for (k, v) in &self.attributes {
            out.push(' ');
            // The API names items by `.id`; the terminal calls the same argument `numbers`.
            out.push_str(if k == ".id" { "numbers" } else { k });
            out.push('=');
            out.push_str(&cli_quote(v));
        }
        out
    }
}

/// Quotes a value for the RouterOS terminal when it needs it.
fn cli_quote(v: &str) -> String {
    // A leading `!` negates a matcher (`src-address-list=!list`) and is
    // typed as is; quoted, it would become part of the name.
    let bare = v.strip_prefix('!').unwrap_or(v);
    let plain = !bare.is_empty()
        && bare.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | ',' | '*')
        });
    if plain {
        v.to_string()
    } else {
        let escaped = v
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$");
        format!("\"{escaped}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_carry_attributes_proplist_queries_and_tag_in_order() {
        let c = Command::new("/ip/firewall/address-list/print")
            .proplist(&["list", "address"])
            .query(QueryOp::Eq("list".into(), "sg-ttl-63".into()))
            .query(QueryOp::Eq("list".into(), "sg-ttl-62".into()))
            .query(QueryOp::Or)
            .tag("7");
        assert_eq!(
            c.words(),
            vec![
                "/ip/firewall/address-list/print",
                "=.proplist=list,address",
                "?list=sg-ttl-63",
                "?list=sg-ttl-62",
                "?#|",
                ".tag=7"
            ]
        );
    }

    #[test]
    fn terminal_rendering_quotes_only_what_needs_it() {
        let c = Command::new("/ip/firewall/mangle/add")
            .attr("chain", "prerouting")
            .attr("ttl", "equal:63")
            .attr("comment", "shareguard ttl-probe");
        assert_eq!(
            c.to_cli(),
            "/ip firewall mangle add chain=prerouting ttl=equal:63 comment=\"shareguard ttl-probe\""
        );
        let c = Command::new("/ip/firewall/filter/add")
            .attr("src-address-list", "!sg-limited")
            .attr("regexp", "^(a\\x01$|b)");
        assert_eq!(
            c.to_cli(),
            "/ip firewall filter add src-address-list=!sg-limited regexp=\"^(a\\\\x01\\$|b)\""
        );
    }
}
