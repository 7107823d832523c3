//! Contact rules without I/O.
//!
//! What a contact is ([`NewContact`]), how its phone number is read and
//! masked ([`Phone`]), how CSV and spreadsheet rows become contacts
//! ([`CsvContacts`], [`SheetContacts`]), and when
//! a contact is due ([`ContactRules`]): calling windows in local time, retry
//! rules per outcome, daily follow-up and the unreachable-high-risk alert.
//! The store applies these rules; nothing here touches a file, socket or clock.

mod csv_rows;
mod phone;
mod record;
mod schedule;
mod sheet_rows;

/// One row's fields as read, before they are checked.
pub use csv::ByteRecord;
pub use csv_rows::{
    ColumnMapping, CsvContacts, CsvError, FilePreview, Row, RowError, RowParser, ValueMapping,
    FIELDS,
};
pub use phone::{mask_str, Phone, PhoneError, Region};
pub use record::{risk_to_text, Category, FollowUp, NewContact, RiskFlag};
pub use schedule::{
    start_of_day, AlwaysOpen, AttemptOutcome, CallingWindow, ContactFacts, ContactRules, Decision,
    Finish, Next, Progress, RetryRules,
};
pub use sheet_rows::{SheetContacts, SheetFormat};
