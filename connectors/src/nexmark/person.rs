//! Person events, drawn in the reference's order: name, email, credit card,
//! city, state, then `extra` padding up to `person.avg-size`.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::DataType;
use sluice_engine::Result;

use super::columns::{StrCol, int64, row, string, timestamp_ms};
use super::java_random::JavaRandom;
use super::model::{FIRST_PERSON_ID, Model};
use super::strings::{push_next_extra, push_next_string};

const US_STATES: [&str; 6] = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const US_CITIES: [&str; 10] = [
    "Phoenix",
    "Los Angeles",
    "San Francisco",
    "Boise",
    "Portland",
    "Bend",
    "Redmond",
    "Seattle",
    "Kent",
    "Cheyenne",
];
const FIRST_NAMES: [&str; 11] = [
    "Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter",
];
const LAST_NAMES: [&str; 9] = [
    "Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris",
];

/// The `person` ROW's fields under construction.
pub(crate) struct PersonCols {
    id: Vec<i64>,
    name: StrCol,
    email: StrCol,
    credit_card: StrCol,
    city: StrCol,
    state: StrCol,
    date_time: Vec<i64>,
    extra: StrCol,
}

impl PersonCols {
    pub(crate) fn with_capacity(rows: usize, avg_size: usize) -> Self {
        PersonCols {
            id: Vec::with_capacity(rows),
            name: StrCol::with_capacity(rows, 12),
            email: StrCol::with_capacity(rows, 12),
            credit_card: StrCol::with_capacity(rows, 19),
            city: StrCol::with_capacity(rows, 8),
            state: StrCol::with_capacity(rows, 2),
            date_time: Vec::with_capacity(rows),
            extra: StrCol::with_capacity(rows, avg_size),
        }
    }

    /// A row that is not a person: placeholders under a NULL row.
    pub(crate) fn push_absent(&mut self) {
        self.id.push(0);
        self.name.commit();
        self.email.commit();
        self.credit_card.commit();
        self.city.commit();
        self.state.commit();
        self.date_time.push(0);
        self.extra.commit();
    }

    /// Generates the person of event `event_id` at `timestamp`.
    pub(crate) fn push(&mut self, model: &Model, event_id: i64, timestamp: i64) {
        let rng = &mut JavaRandom::new(event_id);
        self.id
            .push(model.last_base0_person_id(event_id) + FIRST_PERSON_ID);

        let first = FIRST_NAMES[rng.next_int_bounded(FIRST_NAMES.len() as i32) as usize];
        let last = LAST_NAMES[rng.next_int_bounded(LAST_NAMES.len() as i32) as usize];
        let b = &mut self.name.bytes;
        b.extend_from_slice(first.as_bytes());
        b.push(b' ');
        b.extend_from_slice(last.as_bytes());
        self.name.commit();
        let name_len = first.len() + 1 + last.len();

        let b = &mut self.email.bytes;
        let mut email_len = push_next_string(rng, 7, b' ', b);
        b.push(b'@');
        email_len += 1 + push_next_string(rng, 5, b' ', b);
        b.extend_from_slice(b".com");
        email_len += 4;
        self.email.commit();

        let b = &mut self.credit_card.bytes;
        for i in 0..4 {
            if i > 0 {
                b.push(b' ');
            }
            let n = rng.next_int_bounded(10_000);
            b.extend_from_slice(&[
                b'0' + (n / 1000) as u8,
                b'0' + (n / 100 % 10) as u8,
                b'0' + (n / 10 % 10) as u8,
                b'0' + (n % 10) as u8,
            ]);
        }
        self.credit_card.commit();
        let card_len = 19;

        let city = US_CITIES[rng.next_int_bounded(US_CITIES.len() as i32) as usize];
        self.city.push(city.as_bytes());
        let state = US_STATES[rng.next_int_bounded(US_STATES.len() as i32) as usize];
        self.state.push(state.as_bytes());
        self.date_time.push(timestamp);

        let current = 8 + name_len + email_len + card_len + city.len() + state.len();
        push_next_extra(
            rng,
            current as i32,
            model.avg_person_size,
            &mut self.extra.bytes,
        );
        self.extra.commit();
    }

    /// The `person` column; `nulls` marks the rows that are persons.
    pub(crate) fn finish(
        self,
        data_type: &DataType,
        nulls: Option<NullBuffer>,
    ) -> Result<ArrayRef> {
        let children = vec![
            int64(self.id, nulls.clone()),
            string(self.name, nulls.clone())?,
            string(self.email, nulls.clone())?,
            string(self.credit_card, nulls.clone())?,
            string(self.city, nulls.clone())?,
            string(self.state, nulls.clone())?,
            timestamp_ms(self.date_time, nulls.clone()),
            string(self.extra, nulls.clone())?,
        ];
        row(data_type, children, nulls)
    }
}
