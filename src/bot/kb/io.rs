//! Knowledge-base import and export: JSON (a [`KbDocument`], or a bare array of entries) and
//! CSV for people who keep their FAQ in a spreadsheet.
//!
//! Pure functions over text; the HTTP layer and the CLI do the reading and writing. Imports
//! report every problem at once, each with its place: `entries[3].answer.zh` for JSON,
//! `row 5: answer_zh` for CSV.
//!
//! # CSV format
//!
//! One header row, then one row per entry. Columns, in any order on import:
//!
//! `id,status,intent,skill,tags,title_zh,title_en,questions_zh,questions_en,keywords_zh,
//! keywords_en,answer_zh,answer_en,answer_sms_zh,answer_sms_en`
//!
//! plus `answer_<channel>_<lang>` for any other channel's own answer (`answer_wechat_zh`).
//! `id`, one `questions_*` and one `answer_*` column are required; the others may be left out.
//! An unknown column is an error (a misspelt one would otherwise lose its data silently).
//!
//! - List cells (`tags`, `questions_*`, `keywords_*`) hold items separated by `|`; items are
//!   trimmed and empty ones dropped. A question cannot contain a literal `|` in CSV (use JSON
//!   for those); tags cannot contain one at all.
//! - Other cells are trimmed; an empty cell is "none" (`status` empty: `published`).
//! - Rows are numbered as a spreadsheet shows them: the header is row 1, the first entry
//!   row 2, whatever line breaks quoted cells contain.
//! - A UTF-8 byte-order mark at the start is skipped (Excel writes one with "CSV UTF-8"), and
//!   [`to_csv`] writes one, so Excel shows exported Chinese text correctly.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::entry::{duplicate_ids, EntryStatus, KbDocument, KbEntry, Texts, Variants};
use crate::domain::Problem;
use crate::domain::{Channel, Language};

/// Largest import, in bytes.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Most entries in one import.
pub const MAX_IMPORT_ENTRIES: usize = 5000;

/// The fixed CSV columns, in export order.
pub const CSV_COLUMNS: [&str; 15] = [
    "id",
    "status",
    "intent",
    "skill",
    "tags",
    "title_zh",
    "title_en",
    "questions_zh",
    "questions_en",
    "keywords_zh",
    "keywords_en",
    "answer_zh",
    "answer_en",
    "answer_sms_zh",
    "answer_sms_en",
];

/// The path of problems about a whole JSON document.
const DOCUMENT: &str = "document";
/// The path of problems about the CSV header.
const HEADER: &str = "header";
/// Separates the items of a list cell.
const ITEM_SEPARATOR: char = '|';
/// Excel's UTF-8 byte-order mark.
const BOM: char = '\u{feff}';

/// Reads a JSON knowledge base: a [`KbDocument`] object or a bare array of entries. Checks
/// the size and count limits, each entry's shape (a serde problem at `entries[i]`), then
/// [`KbDocument::validate`].
pub fn from_json(text: &str) -> Result<KbDocument, Vec<Problem>> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(vec![too_large(DOCUMENT)]);
    }
    let value: Value = serde_json::from_str(text.strip_prefix(BOM).unwrap_or(text))
        .map_err(|error| vec![Problem::new(DOCUMENT, error.to_string())])?;
    let mut problems = Vec::new();
    let (out_of_scope, items) = match value {
        Value::Array(items) => (Vec::new(), items),
        Value::Object(mut fields) => {
            let out_of_scope = match fields.remove("out_of_scope") {
                None => Vec::new(),
                Some(value) => serde_json::from_value(value).unwrap_or_else(|error| {
                    problems.push(Problem::new("out_of_scope", error.to_string()));
                    Vec::new()
                }),
            };
            let items = match fields.remove("entries") {
                Some(Value::Array(items)) => items,
                Some(_) => {
                    problems.push(Problem::new("entries", "expected an array of entries"));
                    Vec::new()
                }
                None => {
                    problems.push(Problem::new("entries", "missing field `entries`"));
                    Vec::new()
                }
            };
            for name in fields.keys() {
                problems.push(Problem::new(
                    name.as_str(),
                    format!("unknown field `{name}`, expected `out_of_scope` or `entries`"),
                ));
            }
            (out_of_scope, items)
        }
        _ => {
            return Err(vec![Problem::new(
                DOCUMENT,
                "expected an object with `entries`, or an array of entries",
            )])
        }
    };
    if items.len() > MAX_IMPORT_ENTRIES {
        problems.push(too_many("entries"));
        return Err(problems);
    }
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<KbEntry>(item) {
            Ok(entry) => entries.push(entry.trimmed()),
            Err(error) => problems.push(Problem::new(format!("entries[{i}]"), error.to_string())),
        }
    }
    if !problems.is_empty() {
        // Indices of later entries would be off by the unreadable ones: stop at shape.
        return Err(problems);
    }
    let doc = KbDocument {
        out_of_scope,
        entries,
    };
    let problems = doc.validate();
    if problems.is_empty() {
        Ok(doc)
    } else {
        Err(problems)
    }
}

/// Writes a knowledge base as pretty JSON that [`from_json`] reads back unchanged.
pub fn to_json(doc: &KbDocument) -> String {
    // Plain structs with string keys: serialising them cannot fail.
    serde_json::to_string_pretty(doc).unwrap_or_default()
}

/// Reads entries from CSV (see the module docs for the format).
pub fn from_csv(text: &str) -> Result<Vec<KbEntry>, Vec<Problem>> {
    if text.len() > MAX_IMPORT_BYTES {
        return Err(vec![too_large(HEADER)]);
    }
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(error)) => return Err(vec![Problem::new(HEADER, csv_message(&error))]),
        None => return Err(vec![Problem::new(HEADER, "the file is empty")]),
    };
    let columns = read_header(&header)?;

    let mut problems = Vec::new();
    let mut entries = Vec::new();
    // Spreadsheet row of each entry.
    let mut rows = Vec::new();
    for (i, record) in records.enumerate() {
        let row = i + 2;
        if entries.len() == MAX_IMPORT_ENTRIES {
            problems.push(too_many(&format!("row {row}")));
            break;
        }
        match record {
            Ok(record) => {
                if record.iter().all(|cell| cell.trim().is_empty()) {
                    // Spreadsheets often leave blank rows at the end.
                    continue;
                }
                let (entry, row_problems) = read_row(&columns, &record);
                problems.extend(row_problems.into_iter().chain(entry.validate()).map(|p| {
                    Problem::new(format!("row {row}: {}", column_of(&p.path)), p.message)
                }));
                entries.push(entry);
                rows.push(row);
            }
            Err(error) => problems.push(Problem::new(format!("row {row}"), csv_message(&error))),
        }
    }
    for (later, first) in duplicate_ids(&entries) {
        problems.push(Problem::new(
            format!("row {}: id", rows[later]),
            format!(
                "id '{}' is already used in row {}",
                entries[later].id, rows[first]
            ),
        ));
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

/// Writes entries as CSV that [`from_csv`] reads back unchanged (for entries that pass
/// validation and have no `|` in their questions or keywords, nor leading or trailing
/// whitespace in their texts). Starts with a UTF-8 byte-order mark for Excel.
pub fn to_csv(entries: &[KbEntry]) -> String {
    // Writing to memory cannot fail, and the csv crate writes valid UTF-8 given UTF-8.
    write_csv(entries).unwrap_or_default()
}

fn write_csv(entries: &[KbEntry]) -> Result<String, Box<dyn std::error::Error>> {
    let channels: BTreeSet<&str> = entries
        .iter()
        .flat_map(|e| e.channel_answers.keys())
        .map(String::as_str)
        .filter(|name| *name != Channel::Sms.as_str())
        .collect();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
    for channel in &channels {
        for lang in [Language::Zh, Language::En] {
            header.push(format!("answer_{channel}_{}", lang.as_str()));
        }
    }
    writer.write_record(&header)?;
    for e in entries {
        let list = |items: &[String]| {
            items
                .iter()
                .map(|item| escape_item(item))
                .collect::<Vec<_>>()
                .join(&ITEM_SEPARATOR.to_string())
        };
        let text = |t: Option<&String>| t.cloned().unwrap_or_default();
        let sms = e.channel_answers.get(Channel::Sms.as_str());
        let mut row = vec![
            e.id.clone(),
            e.status.as_str().to_owned(),
            text(e.intent.as_ref()),
            text(e.skill.as_ref()),
            list(&e.tags),
            text(e.title.zh.as_ref()),
            text(e.title.en.as_ref()),
            list(&e.questions.zh),
            list(&e.questions.en),
            list(&e.keywords.zh),
            list(&e.keywords.en),
            text(e.answer.zh.as_ref()),
            text(e.answer.en.as_ref()),
            text(sms.and_then(|t| t.zh.as_ref())),
            text(sms.and_then(|t| t.en.as_ref())),
        ];
        for channel in &channels {
            let own = e.channel_answers.get(*channel);
            row.push(text(own.and_then(|t| t.zh.as_ref())));
            row.push(text(own.and_then(|t| t.en.as_ref())));
        }
        writer.write_record(row.into_iter().map(protect_cell))?;
    }
    let bytes = writer.into_inner().map_err(|error| error.into_error())?;
    Ok(format!("{BOM}{}", String::from_utf8(bytes)?))
}

/// A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` as a formula ("- 打开订单"
/// as an error, `=HYPERLINK(…)` as a live link) and saves the result back: such a cell, and one
/// that starts with the quote itself, is written behind a `'` (what spreadsheets show as text),
/// which the import takes off again.
fn protect_cell(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r', FORMULA_GUARD]) {
        format!("{FORMULA_GUARD}{cell}")
    } else {
        cell
    }
}

/// The mark in front of a cell a spreadsheet would take for a formula.
const FORMULA_GUARD: char = '\'';

/// A list item in a cell: `\` and the separator are escaped (`\\`, `\|`), so an item may
/// contain them ("A|B 套餐怎么选").
fn escape_item(item: &str) -> String {
    item.replace('\\', "\\\\").replace(ITEM_SEPARATOR, "\\|")
}

/// The items of a list cell: split at unescaped separators, `\|` and `\\` unescaped (any other
/// backslash is kept as written), blank items dropped.
fn split_items(cell: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut item = String::new();
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some(&'\\') | Some(&ITEM_SEPARATOR)) => {
                item.extend(chars.next());
            }
            ITEM_SEPARATOR => items.push(std::mem::take(&mut item)),
            _ => item.push(c),
        }
    }
    items.push(item);
    items
        .into_iter()
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty())
        .collect()
}

/// What a CSV column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Id,
    Status,
    Intent,
    Skill,
    Tags,
    Title(Language),
    Questions(Language),
    Keywords(Language),
    Answer(Language),
    ChannelAnswer(Channel, Language),
}

/// The meaning of each header cell, or every problem of the header.
fn read_header(header: &csv::StringRecord) -> Result<Vec<Column>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut columns = Vec::new();
    let mut seen = BTreeSet::new();
    for name in header.iter() {
        let name = name.trim().to_lowercase();
        match parse_column(&name) {
            Some(column) => {
                if !seen.insert(name.clone()) {
                    problems.push(Problem::new(
                        HEADER,
                        format!("column `{name}` appears twice"),
                    ));
                }
                columns.push(column);
            }
            None => problems.push(Problem::new(
                HEADER,
                format!(
                    "unknown column `{name}` (known: {})",
                    CSV_COLUMNS.join(", ")
                ),
            )),
        }
    }
    let has = |f: &dyn Fn(&Column) -> bool| columns.iter().any(f);
    if !has(&|c| *c == Column::Id) {
        problems.push(Problem::new(HEADER, "missing column `id`"));
    }
    if !has(&|c| matches!(c, Column::Questions(_))) {
        problems.push(Problem::new(
            HEADER,
            "missing column `questions_zh` or `questions_en`",
        ));
    }
    if !has(&|c| matches!(c, Column::Answer(_))) {
        problems.push(Problem::new(
            HEADER,
            "missing column `answer_zh` or `answer_en`",
        ));
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems)
    }
}

fn parse_column(name: &str) -> Option<Column> {
    let fixed = match name {
        "id" => Some(Column::Id),
        "status" => Some(Column::Status),
        "intent" => Some(Column::Intent),
        "skill" => Some(Column::Skill),
        "tags" => Some(Column::Tags),
        _ => None,
    };
    if fixed.is_some() {
        return fixed;
    }
    let (stem, lang) = name.rsplit_once('_')?;
    let lang = match lang {
        "zh" => Language::Zh,
        "en" => Language::En,
        _ => return None,
    };
    match stem {
        "title" => Some(Column::Title(lang)),
        "questions" => Some(Column::Questions(lang)),
        "keywords" => Some(Column::Keywords(lang)),
        "answer" => Some(Column::Answer(lang)),
        _ => {
            let channel = Channel::parse(stem.strip_prefix("answer_")?).ok()?;
            Some(Column::ChannelAnswer(channel, lang))
        }
    }
}

/// The entry of one row, and problems of cells that validation would not see (with entry
/// paths, like validation's).
fn read_row(columns: &[Column], record: &csv::StringRecord) -> (KbEntry, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut entry = KbEntry {
        id: String::new(),
        title: Texts::default(),
        questions: Variants::default(),
        keywords: Variants::default(),
        answer: Texts::default(),
        channel_answers: BTreeMap::new(),
        tags: Vec::new(),
        skill: None,
        intent: None,
        status: EntryStatus::Published,
    };
    for (column, cell) in columns.iter().zip(record.iter()) {
        let cell = cell.trim();
        let cell = cell.strip_prefix(FORMULA_GUARD).unwrap_or(cell);
        let text = (!cell.is_empty()).then(|| cell.to_owned());
        let list = || split_items(cell);
        match column {
            Column::Id => entry.id = cell.to_owned(),
            Column::Status if cell.is_empty() => {}
            Column::Status => match EntryStatus::parse(&cell.to_lowercase()) {
                Some(status) => entry.status = status,
                None => problems.push(Problem::new(
                    "status",
                    format!("'{cell}' is not a status (draft, published, archived)"),
                )),
            },
            Column::Intent => entry.intent = text,
            Column::Skill => entry.skill = text,
            Column::Tags => entry.tags = list(),
            Column::Title(lang) => *texts_mut(&mut entry.title, *lang) = text,
            Column::Questions(lang) => *variants_mut(&mut entry.questions, *lang) = list(),
            Column::Keywords(lang) => *variants_mut(&mut entry.keywords, *lang) = list(),
            Column::Answer(lang) => *texts_mut(&mut entry.answer, *lang) = text,
            Column::ChannelAnswer(channel, lang) => {
                if text.is_some() {
                    let own = entry
                        .channel_answers
                        .entry(channel.as_str().to_owned())
                        .or_default();
                    *texts_mut(own, *lang) = text;
                }
            }
        }
    }
    (entry, problems)
}

fn texts_mut(texts: &mut Texts, lang: Language) -> &mut Option<String> {
    match lang {
        Language::Zh => &mut texts.zh,
        Language::En => &mut texts.en,
    }
}

fn variants_mut(variants: &mut Variants, lang: Language) -> &mut Vec<String> {
    match lang {
        Language::Zh => &mut variants.zh,
        Language::En => &mut variants.en,
    }
}

/// The CSV column of an entry path: `answer.zh` → `answer_zh`, `questions.en[3]` →
/// `questions_en`, `channel_answers.sms.zh` → `answer_sms_zh`, `tags[2]` → `tags`.
fn column_of(path: &str) -> String {
    let mut plain = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            '.' if !in_index => plain.push('_'),
            _ if !in_index => plain.push(c),
            _ => {}
        }
    }
    match plain.strip_prefix("channel_answers_") {
        Some(rest) => format!("answer_{rest}"),
        None => plain,
    }
}

/// A csv error without the position the row number already gives.
fn csv_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} cells where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        _ => error.to_string(),
    }
}

fn too_large(at: &str) -> Problem {
    Problem::new(
        at,
        format!(
            "the import is larger than {} MB",
            MAX_IMPORT_BYTES / (1024 * 1024)
        ),
    )
}

fn too_many(at: &str) -> Problem {
    Problem::new(
        at,
        format!("more than {MAX_IMPORT_ENTRIES} entries in one import"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEMO_KB: &str = include_str!("../../../config/demo/kb.json");

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    const MINIMAL: &str = "id,questions_en,answer_en\nhours,when are you open,9 to 5\n";

    #[test]
    fn the_demo_knowledge_base_round_trips_through_json_and_csv() {
        let doc = from_json(DEMO_KB).expect("the demo knowledge base imports");
        assert_eq!(from_json(&to_json(&doc)), Ok(doc.clone()));
        let csv = to_csv(&doc.entries);
        assert!(csv.starts_with('\u{feff}'));
        assert_eq!(from_csv(&csv), Ok(doc.entries));
    }

    #[test]
    fn csv_round_trips_separators_backslashes_and_would_be_formulas() {
        let text = r#"[{"id":"plans",
            "questions":{"zh":["A|B 套餐怎么选","路径 C:\\订单\\|备注"],"en":["- what is plan A|B?"]},
            "keywords":{"zh":["A|B"]},
            "answer":{"zh":"- 打开订单\n- 点击退款","en":"=HYPERLINK(\"http://x\",\"click\")"},
            "channel_answers":{"sms":{"zh":"+86 400 820 8820 咨询","en":"@support or 'quoted'"}}}]"#;
        let doc = from_json(text).expect("valid");
        let csv = to_csv(&doc.entries);
        // No cell starts a formula when a spreadsheet opens the file.
        let mut reader = csv::Reader::from_reader(csv.trim_start_matches(BOM).as_bytes());
        for record in reader.records() {
            for cell in record.expect("a record").iter() {
                assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
            }
        }
        assert_eq!(from_csv(&csv), Ok(doc.entries));
    }

    #[test]
    fn stored_entries_are_trimmed_as_a_csv_would_read_them() {
        let text =
            r#"[{"id":" a ","questions":{"en":[" q "]},"answer":{"en":"答案\n"},"tags":[" t "]}]"#;
        let doc = from_json(text).expect("valid");
        let e = &doc.entries[0];
        assert_eq!((e.id.as_str(), e.questions.en[0].as_str()), ("a", "q"));
        assert_eq!(e.answer.en.as_deref(), Some("答案"));
        assert_eq!(e.tags, ["t"]);
        assert_eq!(from_csv(&to_csv(&doc.entries)), Ok(doc.entries));
    }

    #[test]
    fn a_bare_array_of_entries_is_a_document_without_out_of_scope_examples() {
        let text = r#"[{"id":"a","questions":{"en":["q"]},"answer":{"en":"a"}}]"#;
        let doc = from_json(text).expect("imports");
        assert_eq!(doc.entries.len(), 1);
        assert!(doc.out_of_scope.is_empty());
    }

    #[test]
    fn json_shape_problems_name_their_entry() {
        let text = r#"{"entries":[
            {"id":"a","questions":{"en":["q"]},"answer":{"en":"a"}},
            {"id":"b","questions":{"en":["q"]}},
            {"id":"c","questions":{"en":["q"]},"answer":{"en":"a"},"colour":"red"}
        ], "extra": 1}"#;
        let problems = from_json(text).expect_err("refused");
        assert_eq!(paths(&problems), ["extra", "entries[1]", "entries[2]"]);
        assert!(problems[1].message.contains("answer"), "{problems:?}");
        assert!(problems[2].message.contains("colour"), "{problems:?}");
    }

    #[test]
    fn json_validation_problems_have_entry_paths() {
        let text = r#"{"out_of_scope":["", "weather"], "entries":[
            {"id":"a","questions":{"en":["q"]},"answer":{"en":"a"}},
            {"id":"a","questions":{"en":[]},"answer":{"zh":""}}
        ]}"#;
        let problems = from_json(text).expect_err("refused");
        assert_eq!(
            paths(&problems),
            [
                "out_of_scope[0]",
                "entries[1].answer.zh",
                "entries[1].questions",
                "entries[1].id"
            ]
        );
    }

    #[test]
    fn malformed_json_is_one_problem() {
        for text in ["", "{", "[1,", "42", "\"entries\""] {
            let problems = from_json(text).expect_err(text);
            assert_eq!(paths(&problems), ["document"], "{text}");
        }
        let problems = from_json(r#"{"entries": {}}"#).expect_err("refused");
        assert_eq!(paths(&problems), ["entries"]);
        let problems =
            from_json(r#"{"out_of_scope": "weather", "entries": []}"#).expect_err("refused");
        assert_eq!(paths(&problems), ["out_of_scope"]);
    }

    #[test]
    fn imports_over_the_limits_are_refused() {
        let huge = format!("[{}]", " ".repeat(MAX_IMPORT_BYTES));
        assert_eq!(paths(&from_json(&huge).expect_err("too big")), ["document"]);
        let huge = format!("{MINIMAL}{}", "\n".repeat(MAX_IMPORT_BYTES));
        assert_eq!(paths(&from_csv(&huge).expect_err("too big")), ["header"]);

        let one = r#"{"id":"a","questions":{"en":["q"]},"answer":{"en":"a"}}"#;
        let many = format!("[{}]", vec![one; MAX_IMPORT_ENTRIES + 1].join(","));
        assert_eq!(paths(&from_json(&many).expect_err("too many")), ["entries"]);
        let mut csv = "id,questions_en,answer_en\n".to_owned();
        for i in 0..=MAX_IMPORT_ENTRIES {
            csv.push_str(&format!("e{i},q,a\n"));
        }
        let problems = from_csv(&csv).expect_err("too many");
        assert_eq!(
            paths(&problems),
            [format!("row {}", MAX_IMPORT_ENTRIES + 2)]
        );
    }

    #[test]
    fn a_minimal_csv_imports_with_defaults() {
        let entries = from_csv(MINIMAL).expect("imports");
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.id, "hours");
        assert_eq!(e.questions.en, ["when are you open"]);
        assert_eq!(e.answer.en.as_deref(), Some("9 to 5"));
        assert_eq!(e.answer.zh, None);
        assert!(e.is_live());
        assert_eq!(e.intent(), "hours");
    }

    #[test]
    fn quoted_cells_keep_commas_newlines_and_quotes() {
        let csv = "id,questions_en,answer_en,tags,status\r\n\
                   a,\"hi, there | \"\"quoted\"\" one|  |\",\"Line 1, still\r\nLine \"\"2\"\"\", x | y ,Draft\r\n";
        let entries = from_csv(csv).expect("imports");
        let e = &entries[0];
        assert_eq!(e.questions.en, ["hi, there", "\"quoted\" one"]);
        assert_eq!(e.answer.en.as_deref(), Some("Line 1, still\r\nLine \"2\""));
        assert_eq!(e.tags, ["x", "y"]);
        assert_eq!(e.status, EntryStatus::Draft);
        assert_eq!(from_csv(&to_csv(&entries)), Ok(entries));
    }

    #[test]
    fn a_chinese_csv_saved_by_excel_imports() {
        // Excel's "CSV UTF-8": a byte-order mark, CRLF line ends, quotes only where needed,
        // columns in the sheet's own order, and a blank row at the end.
        let csv = "\u{feff}编号备注,id\r\n";
        assert_eq!(
            paths(&from_csv(csv).expect_err("unknown column")),
            ["header", "header", "header"]
        );
        let csv = "\u{feff}answer_zh,id,questions_zh,title_zh,answer_wechat_zh,tags\r\n\
                   \"退款流程：\r\n1）打开“我的订单”；\r\n2）点击“申请退款”。\",refund,怎么退款|钱能退回来吗|退款，多久到账,退款,微信里点“订单”即可申请退款,退款|售后\r\n\
                   ,,,,,\r\n";
        let entries = from_csv(csv).expect("imports");
        assert_eq!(entries.len(), 1);
        let e = &entries[0];
        assert_eq!(e.id, "refund");
        assert_eq!(
            e.questions.zh,
            ["怎么退款", "钱能退回来吗", "退款，多久到账"]
        );
        assert_eq!(e.title.zh.as_deref(), Some("退款"));
        assert!(e
            .answer
            .zh
            .as_deref()
            .unwrap_or_default()
            .contains("\r\n2）"));
        assert_eq!(
            e.render(Language::Zh, Channel::Wechat),
            "微信里点“订单”即可申请退款"
        );
        assert_eq!(e.tags, ["退款", "售后"]);
        let again = from_csv(&to_csv(&entries)).expect("round-trips");
        assert_eq!(again, entries);
    }

    #[test]
    fn export_adds_a_column_pair_per_overridden_channel() {
        let mut entries = from_csv(MINIMAL).expect("imports");
        let mut other = entries[0].clone();
        other.id = "other".to_owned();
        other.channel_answers.insert(
            "wechat".to_owned(),
            Texts {
                zh: Some("微信".to_owned()),
                en: None,
            },
        );
        other.channel_answers.insert(
            "ivr".to_owned(),
            Texts {
                zh: None,
                en: Some("Press 1".to_owned()),
            },
        );
        entries.push(other);
        let csv = to_csv(&entries);
        let header = csv
            .trim_start_matches('\u{feff}')
            .lines()
            .next()
            .unwrap_or_default();
        assert_eq!(
            header,
            format!(
                "{},answer_ivr_zh,answer_ivr_en,answer_wechat_zh,answer_wechat_en",
                CSV_COLUMNS.join(",")
            )
        );
        assert_eq!(from_csv(&csv), Ok(entries));
    }

    #[test]
    fn csv_header_problems_are_all_reported() {
        let problems = from_csv("ID, Tags ,answer_fax_zh,questions_fr,tags\n").expect_err("bad");
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(problems.iter().all(|p| p.path == "header"), "{problems:?}");
        assert_eq!(messages.len(), 5, "{messages:#?}");
        assert!(messages[0].contains("answer_fax_zh"));
        assert!(messages[1].contains("questions_fr"));
        assert!(messages[2].contains("`tags` appears twice"));
        assert!(messages[3..].iter().any(|m| m.contains("questions_zh")));
        assert!(messages[3..].iter().any(|m| m.contains("answer_zh")));
        assert_eq!(paths(&from_csv("").expect_err("empty")), ["header"]);
    }

    #[test]
    fn csv_row_problems_name_the_row_and_column() {
        let csv = "id,status,questions_zh,questions_en,answer_zh,answer_sms_en,tags\n\
                   ok,,问,,答,,\n\
                   Bad Id,gone,,,,,\n\
                   \"multi\nline\",,问,,答,,\n\
                   ok,,问,,答,sms,a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z|1|2|3|4|5|6|7\n\
                   short,row\n";
        let problems = from_csv(csv).expect_err("refused");
        assert_eq!(
            paths(&problems),
            [
                "row 3: status",
                "row 3: id",
                "row 3: questions",
                "row 3: answer",
                "row 4: id",
                "row 5: tags",
                "row 6",
                "row 5: id",
            ]
        );
        assert!(problems[6].message.contains("2 cells"), "{problems:?}");
        assert!(problems[7].message.contains("row 2"), "{problems:?}");
    }

    #[test]
    fn entry_paths_become_csv_columns() {
        for (path, column) in [
            ("id", "id"),
            ("answer.zh", "answer_zh"),
            ("questions.en[3]", "questions_en"),
            ("channel_answers.sms.zh", "answer_sms_zh"),
            ("channel_answers.wechat", "answer_wechat"),
            ("tags[2]", "tags"),
        ] {
            assert_eq!(column_of(path), column, "{path}");
        }
    }
}
