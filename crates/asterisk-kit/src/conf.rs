//! The operator's Asterisk kit (`deploy/asterisk/*.conf`) as data: each
//! file read into sections (name, templates, `key = value` lines), and
//! edited in place where a private instance must differ from it —
//! addresses, ports, paths and secrets only ([`EDITABLE`]); [`Conf::drift`]
//! says what else differs, so a copy cannot drift from the kit.

use crate::KitError;
use std::path::PathBuf;

/// The keys a copy of the kit may change: where things are and the
/// secrets, nothing about how calls are handled.
pub const EDITABLE: &[&str] = &[
    "bind",
    "bindaddr",
    "bindport",
    "contact",
    "match",
    "password",
    "from_domain",
    "media_address",
    "directory",
    "rtpstart",
    "rtpend",
];

/// The kit's folder.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/asterisk")
}

/// The kit's file names, sorted.
pub fn files() -> Result<Vec<String>, KitError> {
    let kit = dir();
    let entries = std::fs::read_dir(&kit).map_err(|e| KitError::io(&kit, e))?;
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    Ok(names)
}

/// Every file of the kit, read.
pub fn load_all() -> Result<Vec<Conf>, KitError> {
    files()?.iter().map(|f| Conf::load(f)).collect()
}

/// A section of an Asterisk `.conf` file: its name, templates it uses, and
/// its lines as (key, value), in order (`exten =>` gives key `exten`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub is_template: bool,
    pub parents: Vec<String>,
    pub lines: Vec<(String, String)>,
    /// Where the section's header is in the file's lines.
    header: usize,
    /// Where each of `lines` is.
    at: Vec<usize>,
}

impl Section {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.lines
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// One file of the kit, editable line by line.
#[derive(Debug, Clone)]
pub struct Conf {
    pub file: String,
    lines: Vec<String>,
}

impl Conf {
    /// The kit's file `file`.
    pub fn load(file: &str) -> Result<Conf, KitError> {
        let path = dir().join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| KitError::io(&path, e))?;
        Conf::parse(file, &text)
    }

    /// `text` as the file `file`, if every line is a section header,
    /// `key = value` (or `key => value`) or a comment.
    pub fn parse(file: &str, text: &str) -> Result<Conf, KitError> {
        let conf = Conf {
            file: file.to_string(),
            lines: text.lines().map(str::to_string).collect(),
        };
        conf.try_sections()?;
        Ok(conf)
    }

    pub fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }

    /// Every section, in order.
    pub fn sections(&self) -> Vec<Section> {
        self.try_sections()
            .expect("checked when parsed, and edits keep the form")
    }

    fn try_sections(&self) -> Result<Vec<Section>, KitError> {
        let bad = |number: usize, why: &'static str| KitError::Syntax {
            file: self.file.clone(),
            line: number + 1,
            why,
        };
        let mut sections: Vec<Section> = Vec::new();
        for (number, raw) in self.lines.iter().enumerate() {
            let line = raw.split(';').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let (name, after) = rest
                    .split_once(']')
                    .ok_or_else(|| bad(number, "a section header without its ]"))?;
                let options: Vec<String> = after
                    .trim()
                    .trim_start_matches('(')
                    .trim_end_matches(')')
                    .split(',')
                    .map(|o| o.trim().to_string())
                    .filter(|o| !o.is_empty())
                    .collect();
                sections.push(Section {
                    name: name.to_string(),
                    is_template: options.iter().any(|o| o == "!"),
                    parents: options.into_iter().filter(|o| o != "!").collect(),
                    lines: Vec::new(),
                    header: number,
                    at: Vec::new(),
                });
                continue;
            }
            let (key, value) = line
                .split_once("=>")
                .or_else(|| line.split_once('='))
                .ok_or_else(|| bad(number, "not key = value"))?;
            let section = sections
                .last_mut()
                .ok_or_else(|| bad(number, "a line before any section"))?;
            section
                .lines
                .push((key.trim().to_string(), value.trim().to_string()));
            section.at.push(number);
        }
        Ok(sections)
    }

    /// The sections named `name` (not templates), each with what its
    /// templates give it first.
    pub fn resolved(&self, name: &str) -> Vec<Section> {
        let sections = self.sections();
        sections
            .iter()
            .filter(|s| s.name == name && !s.is_template)
            .map(|s| with_parents(&sections, s))
            .collect()
    }

    /// The section `name` of type `kind` (pjsip's sections share names),
    /// with what its templates give it first.
    pub fn of_type(&self, name: &str, kind: &str) -> Section {
        let found = self
            .find(name, Some(kind))
            .unwrap_or_else(|| panic!("{}: no {kind} named {name}", self.file));
        with_parents(&self.sections(), &found)
    }

    fn find(&self, name: &str, kind: Option<&str>) -> Option<Section> {
        let sections = self.sections();
        let found = sections
            .iter()
            .filter(|s| s.name == name)
            .find(|s| match kind {
                None => true,
                Some(kind) => with_parents(&sections, s).get("type") == Some(kind),
            })?;
        Some(found.clone())
    }

    /// Sets `key` in the section `name` (of type `kind`, if given): the
    /// section's own line for it is changed, or a line is added under its
    /// header. Only [`EDITABLE`] keys: a private instance differs from the
    /// kit in where things are and in secrets, nothing else.
    ///
    /// Panics on another key, or a section the kit does not have: a
    /// mistake in the caller, not in the kit.
    pub fn set(&mut self, name: &str, kind: Option<&str>, key: &str, value: &str) -> &mut Conf {
        assert!(EDITABLE.contains(&key), "{key} is not for a copy to change");
        let section = self
            .find(name, kind)
            .unwrap_or_else(|| panic!("{}: no section [{name}] ({kind:?})", self.file));
        let line = format!("{key} = {value}");
        match section.lines.iter().position(|(k, _)| k == key) {
            Some(i) => self.lines[section.at[i]] = line,
            None => self.lines.insert(section.header + 1, line),
        }
        self
    }

    /// Removes the line `key = value` of section `name`: only for an
    /// instance run without something the kit needs, on purpose.
    pub fn remove(&mut self, name: &str, key: &str, value: &str) -> &mut Conf {
        let section = self
            .find(name, None)
            .unwrap_or_else(|| panic!("{}: no section [{name}]", self.file));
        let i = section
            .lines
            .iter()
            .position(|(k, v)| k == key && v == value)
            .unwrap_or_else(|| panic!("{}: [{name}] has no {key} = {value}", self.file));
        self.lines.remove(section.at[i]);
        self
    }

    /// Adds a line `key = value` to section `name` (same purpose as
    /// [`Conf::remove`]).
    pub fn add(&mut self, name: &str, line: &str) -> &mut Conf {
        assert!(line.contains('='), "{line}: not key = value");
        let section = self
            .find(name, None)
            .unwrap_or_else(|| panic!("{}: no section [{name}]", self.file));
        let after = section.at.last().copied().unwrap_or(section.header);
        self.lines.insert(after + 1, line.to_string());
        self
    }

    /// Copies every section named `from` (its endpoint, auth and AOR) as
    /// `to`, the way an operator adds one more phone after the kit's own:
    /// `from` is replaced by `to` in the headers and values.
    pub fn clone_sections(&mut self, from: &str, to: &str) -> &mut Conf {
        let sections = self.sections();
        let copied: Vec<String> = sections
            .iter()
            .filter(|s| s.name == from)
            .flat_map(|s| {
                let header =
                    self.lines[s.header].replacen(&format!("[{from}]"), &format!("[{to}]"), 1);
                std::iter::once(header).chain(
                    s.lines
                        .iter()
                        .map(|(k, v)| format!("{k} = {}", v.replace(from, to))),
                )
            })
            .collect();
        assert!(!copied.is_empty(), "{}: no [{from}] to copy", self.file);
        self.lines.push(String::new());
        self.lines.extend(copied);
        self
    }

    /// How this copy differs from `kit` other than in [`EDITABLE`] keys and
    /// in sections copied from the kit's own with [`Conf::clone_sections`]
    /// (`copies`); empty when it runs what the kit says.
    pub fn drift(&self, kit: &Conf, copies: &[String]) -> Vec<String> {
        let strip = |sections: Vec<Section>| -> Vec<(String, Vec<(String, String)>)> {
            sections
                .into_iter()
                .filter(|s| !copies.contains(&s.name))
                .map(|s| {
                    let lines = s
                        .lines
                        .into_iter()
                        .filter(|(k, _)| !EDITABLE.contains(&k.as_str()))
                        .collect();
                    (s.name, lines)
                })
                .collect()
        };
        let mine = strip(self.sections());
        let theirs = strip(kit.sections());
        let mut differences = Vec::new();
        for (i, (name, lines)) in theirs.iter().enumerate() {
            match mine.get(i) {
                Some((n, l)) if n == name && l == lines => {}
                Some((n, l)) => differences.push(format!(
                    "{}: [{name}] {lines:?} became [{n}] {l:?}",
                    self.file
                )),
                None => differences.push(format!("{}: [{name}] is missing", self.file)),
            }
        }
        for (name, _) in mine.iter().skip(theirs.len()) {
            differences.push(format!("{}: [{name}] is not the kit's", self.file));
        }
        differences
    }
}

fn with_parents(sections: &[Section], section: &Section) -> Section {
    let mut lines = Vec::new();
    for parent in &section.parents {
        let template = sections
            .iter()
            .find(|t| t.name == *parent && t.is_template)
            .unwrap_or_else(|| panic!("[{}] uses unknown template {parent}", section.name));
        lines.extend(with_parents(sections, template).lines);
    }
    lines.extend(section.lines.clone());
    Section {
        lines,
        ..section.clone()
    }
}
