//! Bulk import of staff accounts from a CSV file (`POST /v1/staff/import`): reading and checking
//! the file is the plain function [`check_import`], which reuses the checks of a single account
//! ([`check_new_staff`]) and adds what only a file has: the header, the cells' own formats
//! (`billing:4;refunds:2`, team names), usernames listed twice in the file, and usernames
//! already taken. Every problem of every row is reported at once, each with its row and column.
//! [`crate::services::staff::StaffService::import`] stores the accounts, all or none.
//!
//! The file: UTF-8 (a byte-order mark is skipped), a header row naming the columns in any
//! order (case and surrounding spaces ignored), then one account per row; blank rows are
//! skipped. Columns ([`COLUMNS`]):
//!
//! | column | |
//! |---|---|
//! | `username`, `display_name`, `role`, `password` | required, as for one account |
//! | `skills` | `billing:4;refunds:2` (name:level, names read in lowercase) |
//! | `languages` | `zh;en` |
//! | `chat_capacity`, `voice_capacity`, `ticket_capacity` | whole numbers; empty: the defaults |
//! | `teams` | team names, `;`-separated, whatever their case |
//! | `extension` | digits |
//!
//! Only the four required columns must be there; an empty cell is as if the column were not.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::domain::{Language, Problem, Role, TeamId};
use crate::services::staff::{
    check_new_staff, CapacityInput, MediaDefaults, NewStaff, SkillInput, ValidStaff, DEFAULT_CHATS,
};

/// Largest file taken (413 beyond).
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;
/// Most accounts in one file.
pub const MAX_IMPORT_ROWS: usize = 1000;
/// Rows of a dry run's preview.
pub const PREVIEW_ROWS: usize = 50;

/// Every column a file may have, in the order problems are listed within a row.
pub const COLUMNS: [&str; 11] = [
    "username",
    "display_name",
    "role",
    "password",
    "skills",
    "languages",
    "chat_capacity",
    "voice_capacity",
    "ticket_capacity",
    "teams",
    "extension",
];

/// The columns a file must have.
pub const REQUIRED_COLUMNS: [&str; 4] = ["username", "display_name", "role", "password"];

/// Separator of the items of a list cell (skills, languages, teams).
const ITEM_SEPARATOR: char = ';';

/// The `field` of a problem with a row as a whole (its cells, the number of rows).
pub const ROW: &str = "row";
/// The `field` of a problem with the file itself (empty, no header).
pub const HEADER: &str = "header";

/// One thing wrong with a file, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ImportProblem {
    /// The line of the file where the row starts: the header is 1, the first account usually
    /// 2 (a spreadsheet's row number, unless a cell holds a line break)
    pub row: usize,
    /// The column (`username`, `skills`…), `row` for the row as a whole, `header` for the file
    pub field: String,
    pub message: String,
}

impl ImportProblem {
    fn new(row: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row,
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A skill as read from a row (its level may be out of range in a row with problems).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PreviewSkill {
    pub name: String,
    pub level: i64,
}

/// Capacities as they will be stored (null: not readable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PreviewCapacity {
    #[schema(required = true)]
    pub chat: Option<i64>,
    #[schema(required = true)]
    pub voice: Option<i64>,
    #[schema(required = true)]
    pub ticket: Option<i64>,
}

/// One row of a dry run's preview: a valid row as it will be stored (defaults filled in, names
/// trimmed, languages normalised), a row with problems as far as it could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PreviewRow {
    /// The line of the file where the row starts
    pub row: usize,
    /// False when the row has a problem
    pub valid: bool,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub skills: Vec<PreviewSkill>,
    pub languages: Vec<String>,
    pub capacity: PreviewCapacity,
    /// Team names
    pub teams: Vec<String>,
    #[schema(required = true)]
    pub extension: Option<String>,
}

/// What the file holds, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportCheck {
    /// Account rows read (blank rows not counted)
    pub rows: usize,
    /// Rows without a problem
    pub valid: usize,
    /// Every problem, by row then column
    pub problems: Vec<ImportProblem>,
    /// The first [`PREVIEW_ROWS`] rows
    pub preview: Vec<PreviewRow>,
    /// Every account, in file order, when the file has no problem at all (else empty)
    pub accounts: Vec<ValidStaff>,
}

/// What a file is checked against: the teams (id and name) and the usernames that exist.
#[derive(Debug, Clone, Copy)]
pub struct ImportContext<'a> {
    pub teams: &'a [(TeamId, String)],
    /// Every username of a stored account (active or not), in lowercase
    pub taken: &'a BTreeSet<String>,
    /// Calls and tickets of an account that names none
    pub media: MediaDefaults,
}

/// Reads and checks a file: its accounts, or every problem of every row.
pub fn check_import(text: &str, context: &ImportContext<'_>) -> ImportCheck {
    let mut check = ImportCheck::default();
    if text.len() > MAX_IMPORT_BYTES {
        check.problems.push(ImportProblem::new(
            1,
            HEADER,
            format!(
                "the file is larger than {} MiB",
                MAX_IMPORT_BYTES / (1024 * 1024)
            ),
        ));
        return check;
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(error)) => {
            check
                .problems
                .push(ImportProblem::new(1, HEADER, csv_message(&error)));
            return check;
        }
        None => {
            check.problems.push(ImportProblem::new(
                1,
                HEADER,
                format!(
                    "the file is empty: its first row names the columns ({})",
                    REQUIRED_COLUMNS.join(",")
                ),
            ));
            return check;
        }
    };
    let columns = read_header(&header);
    let columns = match columns {
        Ok(columns) => Some(columns),
        Err(problems) => {
            check.problems.extend(problems);
            None
        }
    };
    let known: BTreeSet<TeamId> = context.teams.iter().map(|(id, _)| id.clone()).collect();
    // Lowercase username → the first row that has it.
    let mut first_row: BTreeMap<String, usize> = BTreeMap::new();
    let mut accounts = Vec::new();
    let mut lines = Lines::new(text);
    for (i, record) in records.enumerate() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let row = error.position().map_or(i + 2, |p| lines.of(p));
                check.rows += 1;
                check
                    .problems
                    .push(ImportProblem::new(row, ROW, csv_message(&error)));
                continue;
            }
        };
        let row = record.position().map_or(i + 2, |p| lines.of(p));
        if record.iter().all(|cell| cell.trim().is_empty()) {
            // Spreadsheets often leave blank rows, at the end especially.
            continue;
        }
        if check.rows == MAX_IMPORT_ROWS {
            check.problems.push(ImportProblem::new(
                row,
                ROW,
                format!("a file has at most {MAX_IMPORT_ROWS} accounts; split it and import the rest separately"),
            ));
            break;
        }
        check.rows += 1;
        let Some(columns) = &columns else {
            continue;
        };
        let read = read_row(columns, &record, row, context, &known);
        let mut problems = read.problems;
        let username = read.request.username.as_deref().unwrap_or_default();
        if !username.is_empty() {
            let folded = username.to_lowercase();
            if context.taken.contains(&folded) {
                problems.push(ImportProblem::new(
                    row,
                    "username",
                    format!("'{username}' is taken by an existing account"),
                ));
            }
            match first_row.get(&folded) {
                Some(first) => problems.push(ImportProblem::new(
                    row,
                    "username",
                    format!("'{username}' is also in row {first}"),
                )),
                None => {
                    first_row.insert(folded, row);
                }
            }
        }
        problems.sort_by_key(|p| column_rank(&p.field));
        if check.preview.len() < PREVIEW_ROWS {
            check.preview.push(preview_of(
                row,
                &read.request,
                read.valid.as_ref().filter(|_| problems.is_empty()),
                &read.team_names,
                context.media,
            ));
        }
        if problems.is_empty() {
            check.valid += 1;
            if let Some(valid) = read.valid {
                accounts.push(valid);
            }
        }
        check.problems.extend(problems);
    }
    if check.rows == 0 && columns.is_some() && check.problems.is_empty() {
        check.problems.push(ImportProblem::new(
            2,
            ROW,
            "the file has no accounts below its header",
        ));
    }
    if check.problems.is_empty() {
        check.accounts = accounts;
    }
    check
}

/// Lines of a text, counted forwards as the reader goes (one pass over the file).
struct Lines<'a> {
    bytes: &'a [u8],
    /// Bytes counted so far, and the line at that offset (1-based).
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The line where a record starts (1: the header). The reader's offset is where it started
    /// reading, before the blank lines it skipped (and its own line count skips them).
    fn of(&mut self, position: &csv::Position) -> usize {
        let mut start = usize::try_from(position.byte())
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        if start < self.at {
            (self.at, self.line) = (0, 1);
        }
        self.line += self
            .bytes
            .get(self.at..start)
            .map_or(0, |b| b.iter().filter(|c| **c == b'\n').count());
        self.at = start;
        self.line
    }
}

/// Where a problem of `field` goes among the problems of its row.
fn column_rank(field: &str) -> usize {
    COLUMNS
        .iter()
        .position(|c| *c == field)
        .map_or(0, |i| i + 1)
}

/// The columns of the header: name → index, or every problem (row 1). Empty cells at the end
/// of the header (a spreadsheet's untouched columns) are no columns.
fn read_header(
    header: &csv::StringRecord,
) -> Result<BTreeMap<&'static str, usize>, Vec<ImportProblem>> {
    let names: Vec<String> = header
        .iter()
        .map(|cell| cell.trim().trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let used = names
        .iter()
        .rposition(|n| !n.is_empty())
        .map_or(0, |i| i + 1);
    let mut problems = Vec::new();
    let mut columns = BTreeMap::new();
    for (i, name) in names.iter().take(used).enumerate() {
        if name.is_empty() {
            problems.push(ImportProblem::new(
                1,
                HEADER,
                format!("column {} of the header has no name", i + 1),
            ));
            continue;
        }
        let Some(known) = COLUMNS.iter().find(|c| **c == name.as_str()) else {
            problems.push(ImportProblem::new(
                1,
                name.clone(),
                format!(
                    "unknown column '{name}'; the columns are {}",
                    COLUMNS.join(", ")
                ),
            ));
            continue;
        };
        if columns.insert(*known, i).is_some() {
            problems.push(ImportProblem::new(
                1,
                *known,
                format!("the column '{known}' is in the header twice"),
            ));
        }
    }
    for required in REQUIRED_COLUMNS {
        if !columns.contains_key(required) {
            problems.push(ImportProblem::new(
                1,
                required,
                format!("the header has no '{required}' column (required)"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems)
    }
}

/// One row as read: the request it makes, the account if the checks of one account pass, the
/// problems found (without the file-wide ones), and the team names it gave.
struct ReadRow {
    request: NewStaff,
    valid: Option<ValidStaff>,
    problems: Vec<ImportProblem>,
    team_names: Vec<String>,
}

fn read_row(
    columns: &BTreeMap<&'static str, usize>,
    record: &csv::StringRecord,
    row: usize,
    context: &ImportContext<'_>,
    known: &BTreeSet<TeamId>,
) -> ReadRow {
    let mut problems = Vec::new();
    let width = columns.values().max().map_or(0, |i| i + 1);
    let extra = record
        .iter()
        .skip(width)
        .filter(|c| !c.trim().is_empty())
        .count();
    if extra > 0 {
        problems.push(ImportProblem::new(
            row,
            ROW,
            format!("this row has {extra} filled cell(s) beyond the header's {width} columns"),
        ));
    }
    let raw = |name: &str| columns.get(name).and_then(|&i| record.get(i));
    let cell = |name: &str| raw(name).map(str::trim).filter(|c| !c.is_empty());
    let items = |name: &str| -> Option<Vec<String>> {
        cell(name).map(|c| {
            c.split(ITEM_SEPARATOR)
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        })
    };

    // Skills: `name:level`; the text of each item the account checks see, for their messages.
    let mut skill_items = Vec::new();
    let skills = items("skills").map(|list| {
        let mut skills = Vec::new();
        for item in list {
            let Some((name, level)) = item.split_once(':') else {
                problems.push(ImportProblem::new(
                    row,
                    "skills",
                    format!("'{item}': write a skill as name:level, e.g. billing:3"),
                ));
                continue;
            };
            let Ok(level) = level.trim().parse::<i64>() else {
                problems.push(ImportProblem::new(
                    row,
                    "skills",
                    format!("'{item}': the level is a whole number from 1 to 5"),
                ));
                continue;
            };
            skills.push(SkillInput {
                name: name.trim().to_lowercase(),
                level,
            });
            skill_items.push(item);
        }
        skills
    });
    let mut count = |column: &'static str| -> Option<i64> {
        let text = cell(column)?;
        match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(ImportProblem::new(
                    row,
                    column,
                    format!("'{text}' is not a whole number"),
                ));
                None
            }
        }
    };
    let capacity = CapacityInput {
        chat: count("chat_capacity"),
        voice: count("voice_capacity"),
        ticket: count("ticket_capacity"),
    };
    let team_names = items("teams").unwrap_or_default();
    let mut teams = Vec::new();
    let mut seen = BTreeSet::new();
    for name in &team_names {
        let folded = name.to_lowercase();
        if !seen.insert(folded.clone()) {
            problems.push(ImportProblem::new(
                row,
                "teams",
                format!("'{name}' is listed twice"),
            ));
            continue;
        }
        match context
            .teams
            .iter()
            .find(|(_, team)| team.to_lowercase() == folded)
        {
            Some((id, _)) => teams.push(id.to_string()),
            None => problems.push(ImportProblem::new(
                row,
                "teams",
                format!("no team is named '{name}'"),
            )),
        }
    }
    let request = NewStaff {
        username: cell("username").map(str::to_owned),
        display_name: cell("display_name").map(str::to_owned),
        // A password is taken as written: spaces are characters too.
        password: raw("password").filter(|p| !p.is_empty()).map(str::to_owned),
        role: cell("role").map(str::to_lowercase),
        skills,
        languages: items("languages"),
        capacity: Some(capacity),
        teams: Some(teams),
        extension: cell("extension").map(str::to_owned),
    };
    let valid = match check_new_staff(&request, known) {
        Ok(valid) => Some(valid),
        Err(found) => {
            problems.extend(
                found
                    .iter()
                    .map(|p| from_account_problem(row, p, &skill_items)),
            );
            None
        }
    };
    ReadRow {
        request,
        valid,
        problems,
        team_names,
    }
}

/// A problem of the checks of one account (`skills[1].level`, `capacity.chat`…) as the
/// problem of a cell.
fn from_account_problem(row: usize, problem: &Problem, skill_items: &[String]) -> ImportProblem {
    let path = problem.path.as_str();
    let (field, index) = match path.split_once('[') {
        Some((field, rest)) => (
            field,
            rest.split(']').next().and_then(|i| i.parse::<usize>().ok()),
        ),
        None => (path, None),
    };
    let field = match field {
        "capacity.chat" => "chat_capacity",
        "capacity.voice" => "voice_capacity",
        "capacity.ticket" => "ticket_capacity",
        other => other,
    };
    let message = match (field, index.and_then(|i| skill_items.get(i))) {
        ("skills", Some(item)) => format!("'{item}': {}", problem.message),
        _ => problem.message.clone(),
    };
    ImportProblem::new(row, field, message)
}

/// A row as the preview shows it.
fn preview_of(
    row: usize,
    request: &NewStaff,
    valid: Option<&ValidStaff>,
    team_names: &[String],
    media: MediaDefaults,
) -> PreviewRow {
    if let Some(v) = valid {
        return PreviewRow {
            row,
            valid: true,
            username: v.username.clone(),
            display_name: v.display_name.clone(),
            role: v.role.as_str().to_owned(),
            skills: v
                .skills
                .iter()
                .map(|s| PreviewSkill {
                    name: s.name.clone(),
                    level: i64::from(s.level),
                })
                .collect(),
            languages: v.languages.iter().map(|l| l.as_str().to_owned()).collect(),
            capacity: PreviewCapacity {
                chat: Some(i64::from(v.capacity)),
                voice: Some(i64::from(v.voice_capacity.unwrap_or(media.voice))),
                ticket: Some(i64::from(v.ticket_capacity.unwrap_or(media.ticket))),
            },
            teams: team_names.to_vec(),
            extension: v.extension.clone(),
        };
    }
    let role = request.role.clone().unwrap_or_default();
    let capacity = request.capacity.clone().unwrap_or_default();
    let default_chats = match Role::parse(&role) {
        Ok(Role::Agent) => Some(i64::from(DEFAULT_CHATS)),
        Ok(_) => Some(0),
        Err(_) => None,
    };
    PreviewRow {
        row,
        valid: false,
        username: request.username.clone().unwrap_or_default(),
        display_name: request.display_name.clone().unwrap_or_default(),
        role,
        skills: request
            .skills
            .iter()
            .flatten()
            .map(|s| PreviewSkill {
                name: s.name.clone(),
                level: s.level,
            })
            .collect(),
        languages: request
            .languages
            .iter()
            .flatten()
            .map(|l| Language::parse(l).map_or_else(|_| l.clone(), |l| l.as_str().to_owned()))
            .collect(),
        capacity: PreviewCapacity {
            chat: capacity.chat.or(default_chats),
            voice: capacity.voice.or(Some(i64::from(media.voice))),
            ticket: capacity.ticket.or(Some(i64::from(media.ticket))),
        },
        teams: team_names.to_vec(),
        extension: request.extension.clone(),
    }
}

fn csv_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "a long secret phrase";
    const MEDIA: MediaDefaults = MediaDefaults {
        voice: 1,
        ticket: 5,
    };

    fn teams() -> Vec<(TeamId, String)> {
        vec![
            (TeamId::from_trusted("team_blue"), "Blue".to_owned()),
            (
                TeamId::from_trusted("team_refunds"),
                "Refunds 2F".to_owned(),
            ),
        ]
    }

    fn check(text: &str, taken: &[&str]) -> ImportCheck {
        let teams = teams();
        let taken: BTreeSet<String> = taken.iter().map(|u| (*u).to_owned()).collect();
        check_import(
            text,
            &ImportContext {
                teams: &teams,
                taken: &taken,
                media: MEDIA,
            },
        )
    }

    fn at(check: &ImportCheck) -> Vec<(usize, &str)> {
        check
            .problems
            .iter()
            .map(|p| (p.row, p.field.as_str()))
            .collect()
    }

    #[test]
    fn a_valid_file_reads_every_column_in_any_order_with_a_bom_and_quotes() {
        let text = format!(
            "\u{feff}Display_Name , username,role,password,skills,languages,chat_capacity,voice_capacity,ticket_capacity,teams,extension\n\
             \"Li, Wei\",li.wei,Agent,{PASSWORD},Billing:4; refunds:2,zh-CN;en,5,,,blue;Refunds 2F,4021\n\
             \n\
             Dora,dora,team_lead,\"{PASSWORD}\",,,,,,Blue,\n\
             ,,,,,,,,,,\n"
        );
        let checked = check(&text, &["alice"]);
        assert_eq!(checked.problems, Vec::new());
        assert_eq!((checked.rows, checked.valid), (2, 2));
        let li = &checked.accounts[0];
        assert_eq!(li.username, "li.wei");
        assert_eq!(li.display_name, "Li, Wei");
        assert_eq!(li.role, Role::Agent);
        assert_eq!(li.password, PASSWORD);
        assert_eq!(
            li.skills
                .iter()
                .map(|s| (s.name.as_str(), s.level))
                .collect::<Vec<_>>(),
            [("billing", 4), ("refunds", 2)]
        );
        assert_eq!(li.languages, [Language::Zh, Language::En]);
        assert_eq!((li.capacity, li.voice_capacity), (5, None));
        assert_eq!(
            li.teams,
            [
                TeamId::from_trusted("team_blue"),
                TeamId::from_trusted("team_refunds")
            ]
        );
        assert_eq!(li.extension.as_deref(), Some("4021"));
        let dora = &checked.accounts[1];
        assert_eq!((dora.role, dora.capacity), (Role::TeamLead, 0));
        // The preview shows what will be stored, defaults included, and no password.
        let preview = &checked.preview;
        assert_eq!(preview.len(), 2);
        assert_eq!((preview[0].row, preview[1].row), (2, 4));
        assert_eq!(preview[0].languages, ["zh", "en"]);
        assert_eq!(
            preview[0].capacity,
            PreviewCapacity {
                chat: Some(5),
                voice: Some(1),
                ticket: Some(5)
            }
        );
        assert_eq!(preview[0].teams, ["blue", "Refunds 2F"]);
        assert!(preview.iter().all(|p| p.valid));
        let shown = serde_json::to_string(preview).expect("json");
        assert!(!shown.contains(PASSWORD), "{shown}");
    }

    #[test]
    fn every_problem_of_every_row_is_listed_by_row_then_column() {
        let text = format!(
            "username,display_name,role,password,skills,languages,chat_capacity,voice_capacity,teams,extension\n\
             ok.one,One,agent,{PASSWORD},billing:3,zh,,,,\n\
             bad user!,,boss,short,billing;tech:x;Tech:9;vip:2;vip:3,fr,many,9,Green;blue;Blue,12a\n\
             Alice,Alice,agent,{PASSWORD},,,,,,\n\
             OK.ONE,Twin,agent,{PASSWORD},,,,,,\n\
             extra,Extra,agent,{PASSWORD},,,,,,,,surprise\n"
        );
        let checked = check(&text, &["alice"]);
        assert_eq!(
            at(&checked),
            [
                (3, "username"),
                (3, "display_name"),
                (3, "role"),
                (3, "password"),
                (3, "skills"),
                (3, "skills"),
                (3, "skills"),
                (3, "skills"),
                (3, "languages"),
                (3, "chat_capacity"),
                (3, "voice_capacity"),
                (3, "teams"),
                (3, "teams"),
                (3, "extension"),
                (4, "username"),
                (5, "username"),
                (6, "row"),
            ],
            "{:#?}",
            checked.problems
        );
        let messages: Vec<&str> = checked
            .problems
            .iter()
            .map(|p| p.message.as_str())
            .collect();
        assert!(messages[4].contains("'billing'") && messages[4].contains("name:level"));
        assert!(messages[5].contains("'tech:x'"));
        assert!(messages[6].contains("'Tech:9'") && messages[6].contains("not 9"));
        assert!(messages[7].contains("'vip:3'") && messages[7].contains("twice"));
        assert!(messages[11].contains("Green"));
        assert!(messages[12].contains("twice"));
        assert!(messages[14].contains("taken"));
        assert!(messages[15].contains("row 2"));
        assert_eq!((checked.rows, checked.valid), (5, 1));
        assert!(checked.accounts.is_empty(), "all or nothing");
        // The preview shows the rows with problems as far as they could be read.
        let bad = &checked.preview[1];
        assert!(!bad.valid);
        assert_eq!(bad.role, "boss");
        assert_eq!(bad.capacity.chat, None);
        assert_eq!(bad.capacity.voice, Some(9));
        assert_eq!(bad.skills.len(), 3);
    }

    #[test]
    fn the_header_must_name_known_columns_once_and_the_required_ones() {
        let checked = check("username,name,username,Role,,\nx,y,z,agent\n", &[]);
        assert_eq!(
            at(&checked),
            [
                (1, "name"),
                (1, "username"),
                (1, "display_name"),
                (1, "password")
            ],
            "{:#?}",
            checked.problems
        );
        assert_eq!((checked.rows, checked.valid), (1, 0));
        assert!(checked.preview.is_empty());
        let gap = check("username,,display_name,role,password\n", &[]);
        assert_eq!(at(&gap), [(1, "header")]);
        assert_eq!(at(&check("", &[])), [(1, "header")]);
        assert_eq!(at(&check("\u{feff}", &[])), [(1, "header")]);
        let none = check("username,display_name,role,password\n\n", &[]);
        assert_eq!(at(&none), [(2, "row")]);
    }

    #[test]
    fn a_file_holds_at_most_the_limit_of_rows_and_bytes() {
        let mut text = String::from("username,display_name,role,password\n");
        for i in 0..=MAX_IMPORT_ROWS {
            text.push_str(&format!("user{i},User {i},agent,{PASSWORD}\n"));
        }
        let checked = check(&text, &[]);
        assert_eq!(checked.rows, MAX_IMPORT_ROWS);
        assert_eq!(at(&checked), [(MAX_IMPORT_ROWS + 2, "row")]);
        assert_eq!(checked.preview.len(), PREVIEW_ROWS);
        assert!(checked.accounts.is_empty());
        let huge = "x".repeat(MAX_IMPORT_BYTES + 1);
        assert_eq!(at(&check(&huge, &[])), [(1, "header")]);
    }

    #[test]
    fn rows_are_numbered_by_the_line_they_start_on() {
        let text = format!(
            "username,display_name,role,password\n\
             \n\
             one,\"Two\nlines\",agent,{PASSWORD}\n\
             two,Two,agent,short\n"
        );
        let checked = check(&text, &[]);
        assert_eq!(
            at(&checked),
            [(3, "display_name"), (5, "password")],
            "{:#?}",
            checked.problems
        );
        assert_eq!(checked.rows, 2);
    }

    #[test]
    fn a_thousand_valid_rows_are_every_account() {
        let mut text = String::from("username,display_name,role,password,teams\n");
        for i in 0..MAX_IMPORT_ROWS {
            text.push_str(&format!("user{i},User {i},agent,{PASSWORD},Blue\n"));
        }
        let checked = check(&text, &[]);
        assert_eq!(checked.problems, Vec::new());
        assert_eq!(checked.accounts.len(), MAX_IMPORT_ROWS);
        assert_eq!(checked.valid, MAX_IMPORT_ROWS);
    }
}
