//! Plain-text tables for the terminal.

/// Renders rows under headers with columns padded to their widest cell.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
        let mut first = true;
        for (i, c) in cells.enumerate() {
            if !first {
                out.push_str("  ");
            }
            first = false;
            out.push_str(c);
            if i + 1 < widths.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count()));
            }
        }
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
    };
    line(&mut headers.iter().copied(), &mut out);
    for row in rows {
        line(&mut row.iter().map(|s| s.as_str()), &mut out);
    }
    out
}

/// `62, 63, 127`.
pub fn ttl_list(v: &[u8]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// The columns every result listing shares, in order:
/// subscriber, router, connections, TTLs, TTL status, level, action.
pub const RESULT_HEADERS: [&str; 7] = [
    "SUBSCRIBER",
    "ROUTER",
    "CONNS",
    "TTLS",
    "TTL STATUS",
    "LEVEL",
    "ACTION",
];

/// The [`RESULT_HEADERS`] cells of one result.
pub fn result_cells(r: &shareguard_detect::SubscriberResult) -> Vec<String> {
    vec![
        r.subscriber.clone(),
        r.nas.clone(),
        r.connections.to_string(),
        ttl_list(&r.ttl_values),
        r.ttl_status.as_str().into(),
        if r.whitelisted {
            format!("{} (whitelisted)", r.level)
        } else {
            r.level.to_string()
        },
        r.recommended_action.as_str().into(),
    ]
}

/// Prints a listing as pretty JSON (`json`) or as a table of `headers` with
/// one row per item from `row`: the one shape of every `list` command.
pub fn print_listing<T: serde::Serialize>(
    json: bool,
    items: &[T],
    headers: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> Result<(), crate::exit::Failure> {
    if json {
        let text = serde_json::to_string_pretty(items)
            .map_err(|e| crate::exit::Failure::new(crate::exit::OTHER, e.to_string()))?;
        println!("{text}");
    } else {
        let cells: Vec<Vec<String>> = items.iter().map(row).collect();
        print!("{}", render(headers, &cells));
    }
    Ok(())
}
