//! Page data the server may draw into the page's markup instead of sending
//! it along for hydration.
//!
//! A big run's graph and steps are most of its page. Sent twice, as markup
//! and again as hydration data, they doubled it; a page load now gets them
//! once, as markup the browser keeps as it is. The value stays whole on the
//! server (which draws from it) and serialises as `null` when the server
//! drew it. Data fetched by the browser itself (after a navigation, or a
//! reload at a run's end) serialises whole: the browser draws it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq)]
pub struct DrawnOnServer<T> {
    value: Option<T>,
    /// Left out when serialised: the server drew it into the markup.
    drawn: bool,
}

impl<T> DrawnOnServer<T> {
    /// `value`, sent along whole.
    pub fn sent(value: T) -> Self {
        DrawnOnServer {
            value: Some(value),
            drawn: false,
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
        self.value.as_ref()
    }
}

impl<T: Serialize> Serialize for DrawnOnServer<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (&self.value, self.drawn) {
            (Some(value), false) => serializer.serialize_some(value),
            _ => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for DrawnOnServer<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Option::<T>::deserialize(deserializer)?;
        Ok(DrawnOnServer {
            drawn: value.is_none(),
            value,
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
    }
}
