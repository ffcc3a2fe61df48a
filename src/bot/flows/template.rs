//! Message templates: text with `{name}` placeholders, parsed and checked at load so that a
//! flow can never say "{ordr_no}" to a customer.
//!
//! A placeholder names a slot (`{order_no}`), the ticket an earlier action opened
//! (`{ticket_id}`) or a field of the last HTTP answer (`{result.status}`). `{{` and `}}` write
//! literal braces.

use std::collections::BTreeMap;

/// The longest placeholder name; longer "names" are a typo or garbage.
const MAX_NAME_CHARS: usize = 64;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Placeholder(String),
}

/// What a template may refer to at its place in a flow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// Every slot of the flow, in order.
    pub all_slots: &'a [String],
    /// How many of them are filled by then (the first `filled`).
    pub filled: usize,
    /// A ticket action runs before.
    pub ticket: bool,
    /// An HTTP action runs before.
    pub result: bool,
}

impl Template {
    /// Parses `text`; the error says what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) if name.chars().count() < MAX_NAME_CHARS => name.push(c),
                            Some(_) => return Err("a placeholder name is too long".to_owned()),
                            None => {
                                return Err(
                                    "a '{' is not closed (write '{{' for a brace)".to_owned()
                                )
                            }
                        }
                    }
                    if !valid_name(&name) {
                        return Err(format!(
                            "'{{{name}}}' is not a placeholder (letters, digits, '_' and '.')"
                        ));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Placeholder(name));
                }
                '}' => return Err("a lone '}' (write '}}' for a brace)".to_owned()),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Self { parts })
    }

    /// The placeholders, in order of appearance.
    pub(crate) fn placeholders(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// What is wrong with the placeholders at a place with this scope (empty: nothing).
    pub(crate) fn check(&self, scope: Scope<'_>) -> Vec<String> {
        self.placeholders()
            .filter_map(|name| check_name(name, scope))
            .collect()
    }

    /// The text with each placeholder replaced by its value from `slots`, then `vars`
    /// (missing values, e.g. a field the service did not return, become empty), each value
    /// passed through `encode` (identity for messages, percent-encoding for URL paths).
    pub(crate) fn render(
        &self,
        slots: &BTreeMap<String, String>,
        vars: &BTreeMap<String, String>,
        encode: fn(&str) -> String,
    ) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Placeholder(name) => {
                    if let Some(value) = slots.get(name).or_else(|| vars.get(name)) {
                        out.push_str(&encode(value));
                    }
                }
            }
        }
        out
    }
}

impl Template {
    /// The first placeholder whose value cannot stand as a path segment of its own: empty,
    /// "." or "..", which URL parsers resolve (even percent-encoded) and so would change the
    /// path a flow calls.
    pub(crate) fn unfit_path_value(
        &self,
        slots: &BTreeMap<String, String>,
        vars: &BTreeMap<String, String>,
    ) -> Option<&str> {
        self.parts.iter().find_map(|part| match part {
            Part::Placeholder(name) => {
                let value = slots.get(name).or_else(|| vars.get(name))?;
                matches!(value.as_str(), "" | "." | "..").then_some(name.as_str())
            }
            Part::Literal(_) => None,
        })
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

fn check_name(name: &str, scope: Scope<'_>) -> Option<String> {
    if name == "ticket_id" {
        return (!scope.ticket)
            .then(|| "{ticket_id}: no ticket action runs before this text".to_owned());
    }
    if let Some(field) = name.strip_prefix("result.") {
        if field.is_empty() || field.contains('.') {
            return Some(format!(
                "{{{name}}}: write {{result.<field>}} with a top-level field"
            ));
        }
        return (!scope.result)
            .then(|| format!("{{{name}}}: no http action runs before this text"));
    }
    match scope.all_slots.iter().position(|s| s == name) {
        Some(i) if i < scope.filled => None,
        Some(_) => Some(format!(
            "{{{name}}}: slot '{name}' is not filled yet at this point"
        )),
        None => Some(format!("{{{name}}}: not a slot of this flow")),
    }
}

/// The identity encoding, for messages.
pub(crate) fn plain(value: &str) -> String {
    value.to_owned()
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so that a slot value
/// (say, "a/../b") stays one path segment.
pub(crate) fn path_segment(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots() -> Vec<String> {
        vec!["order_no".to_owned(), "reason".to_owned()]
    }

    #[test]
    fn a_template_renders_slots_vars_and_escaped_braces() {
        let t = Template::parse("订单 {order_no}：{result.status} {{ok}}").unwrap();
        let s = BTreeMap::from([("order_no".to_owned(), "SB12345678".to_owned())]);
        let v = BTreeMap::from([("result.status".to_owned(), "已发货".to_owned())]);
        assert_eq!(t.render(&s, &v, plain), "订单 SB12345678：已发货 {ok}");
    }

    #[test]
    fn a_missing_value_renders_empty() {
        let t = Template::parse("a{result.eta}b").unwrap();
        assert_eq!(t.render(&BTreeMap::new(), &BTreeMap::new(), plain), "ab");
    }

    #[test]
    fn malformed_templates_are_refused() {
        for bad in ["{", "a}b", "{}", "{order no}", "{a-b}", "x{unclosed"] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn placeholders_are_checked_against_the_scope() {
        let all = slots();
        let scope = Scope {
            all_slots: &all,
            filled: 1,
            ticket: false,
            result: false,
        };
        let t =
            Template::parse("{order_no} {reason} {nope} {ticket_id} {result.x} {result.}").unwrap();
        let problems = t.check(scope);
        assert_eq!(problems.len(), 5, "{problems:?}");
        let full = Scope {
            filled: 2,
            ticket: true,
            result: true,
            ..scope
        };
        let ok = Template::parse("{order_no} {reason} {ticket_id} {result.x}").unwrap();
        assert!(ok.check(full).is_empty());
    }

    #[test]
    fn path_values_are_percent_encoded() {
        assert_eq!(path_segment("SB123"), "SB123");
        assert_eq!(path_segment("a/../b c"), "a%2F..%2Fb%20c");
        assert_eq!(path_segment("北"), "%E5%8C%97");
    }

    #[test]
    fn dot_segments_and_empty_values_are_unfit_for_a_path() {
        let path = Template::parse("/orders/{order_no}/notes/{reason}").expect("valid");
        let mut values = BTreeMap::new();
        values.insert("order_no".to_owned(), "SB1".to_owned());
        values.insert("reason".to_owned(), "a..b".to_owned());
        assert_eq!(path.unfit_path_value(&values, &BTreeMap::new()), None);
        for bad in ["..", ".", ""] {
            values.insert("reason".to_owned(), bad.to_owned());
            assert_eq!(
                path.unfit_path_value(&values, &BTreeMap::new()),
                Some("reason"),
                "{bad:?}"
            );
        }
    }
}
