//! Page data the server may draw into the page's markup instead of sending
//! it along for hydration.
//!
//! A big run's graph and steps are most of its page. Sent twice, as markup
//! and again as hydration data, they doubled it; a page load now gets them
//! once, as markup the browser keeps as it is. The value stays whole on the
//! server (which draws from it) and serialises as `null` when the server
//! drew it. Data fetched by the browser itself (after a navigation, or a
//! reload at a run's end) serialises whole: the browser draws it.
//!
//! The markup drawn from a value is kept with it, so a value the server
//! keeps (a finished run's, see the server's run page cache) is drawn once
//! for every page that shows it.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Most markups kept per value (one per drawn part and variant).
const MARKUPS: usize = 8;

/// Markups drawn from a value, by key.
type Markups = Vec<(String, Arc<str>)>;

#[derive(Debug, Clone)]
pub struct DrawnOnServer<T> {
    value: Option<Arc<T>>,
    /// Left out when serialised: the server drew it into the markup.
    drawn: bool,
    /// What was drawn from `value`, by key; shared by its clones.
    markups: Arc<Mutex<Markups>>,
}

impl<T: PartialEq> PartialEq for DrawnOnServer<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value && self.drawn == other.drawn
    }
}

impl<T> DrawnOnServer<T> {
    /// `value`, sent along whole.
    pub fn sent(value: T) -> Self {
        DrawnOnServer {
            value: Some(Arc::new(value)),
            drawn: false,
            markups: Arc::default(),
        }
    }

    /// The same value, marked as drawn by the server: it is left out when
    /// serialised.
    pub fn drawn_on_server(self) -> Self {
        DrawnOnServer {
            drawn: true,
            ..self
        }
    }

    /// The value to draw from: `None` in the browser when the server drew it
    /// (the markup is already there).
    pub fn get(&self) -> Option<&T> {
        self.value.as_deref()
    }

    /// The markup `draw` makes of the value for `key`, drawn once per value
    /// and key; `None` without a value (the server drew it).
    pub fn markup(&self, key: &str, draw: impl FnOnce(&T) -> String) -> Option<Arc<str>> {
        let value = self.value.as_deref()?;
        let kept = |markups: &Markups| {
            markups
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, m)| m.clone())
        };
        // A poisoned lock only loses the memo: draw without it.
        if let Some(markup) = self.markups.lock().ok().and_then(|m| kept(&m)) {
            return Some(markup);
        }
        let markup: Arc<str> = draw(value).into();
        if let Ok(mut markups) = self.markups.lock()
            && kept(&markups).is_none()
            && markups.len() < MARKUPS
        {
            markups.push((key.to_owned(), markup.clone()));
        }
        Some(markup)
    }
}

impl<T: Serialize> Serialize for DrawnOnServer<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (&self.value, self.drawn) {
            (Some(value), false) => serializer.serialize_some(value.as_ref()),
            _ => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for DrawnOnServer<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Option::<T>::deserialize(deserializer)?;
        Ok(DrawnOnServer {
            drawn: value.is_none(),
            value: value.map(Arc::new),
            markups: Arc::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sent_values_travel_whole_and_drawn_ones_as_null() {
        let sent = DrawnOnServer::sent(vec![1, 2, 3]);
        let json = serde_json::to_string(&sent).unwrap();
        assert_eq!(json, "[1,2,3]");
        let back: DrawnOnServer<Vec<i32>> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.get(), Some(&vec![1, 2, 3]));

        let drawn = sent.drawn_on_server();
        // The server still draws from it…
        assert_eq!(drawn.get(), Some(&vec![1, 2, 3]));
        // …and the browser gets nothing of it.
        let json = serde_json::to_string(&drawn).unwrap();
        assert_eq!(json, "null");
        let back: DrawnOnServer<Vec<i32>> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.get(), None);
        assert_eq!(back.markup("part", |_| unreachable!()), None);
    }

    #[test]
    fn a_values_markup_is_drawn_once_per_key_and_shared_by_its_clones() {
        let value = DrawnOnServer::sent(7);
        let copy = value.clone();
        let drawn = std::cell::Cell::new(0);
        let draw = |n: &i32| {
            drawn.set(drawn.get() + 1);
            format!("<b>{n}</b>")
        };
        assert_eq!(value.markup("a", draw).as_deref(), Some("<b>7</b>"));
        assert_eq!(copy.markup("a", draw).as_deref(), Some("<b>7</b>"));
        assert_eq!(drawn.get(), 1);
        copy.markup("b", draw);
        assert_eq!(drawn.get(), 2);
        // Past the cap, markups are drawn each time and not kept.
        for key in 0..20 {
            value.markup(&key.to_string(), draw);
        }
        let before = drawn.get();
        value.markup("19", draw);
        assert_eq!(drawn.get(), before + 1);
        // Another value of the same content has its own.
        DrawnOnServer::sent(7).markup("a", draw);
        assert_eq!(drawn.get(), before + 2);
    }
}
