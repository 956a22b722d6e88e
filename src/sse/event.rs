use std::time::Duration;

use serde::Deserialize;

use super::parser::RawEvent;

/// One server-sent event: its type, data, last event ID and retry time.
///
/// Text that is not UTF-8 is decoded with replacement characters, as the
/// standard says.
///
/// ```
/// use std::time::Duration;
/// use tower_tencentcloud::sse::Event;
///
/// #[derive(serde::Deserialize)]
/// struct Chunk {
///     #[serde(rename = "Id")]
///     id: String,
/// }
///
/// let event = Event::new(r#"{"Id":"6f0c5d7e","Choices":[]}"#)
///     .with_id("42")
///     .with_retry(Duration::from_secs(3));
/// assert_eq!(event.event(), "message");
/// assert_eq!(event.id(), Some("42"));
/// assert_eq!(event.retry(), Some(Duration::from_secs(3)));
/// let chunk: Chunk = event.json().unwrap();
/// assert_eq!(chunk.id, "6f0c5d7e");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    event: Option<Box<str>>,
    data: String,
    id: Option<Box<str>>,
    retry: Option<Duration>,
}

impl Event {
    /// An event of type `message` with this data, no ID and no retry time.
    ///
    /// Useful for tests of code that handles events.
    pub fn new(data: impl Into<String>) -> Self {
        Self {
            event: None,
            data: data.into(),
            id: None,
            retry: None,
        }
    }

    /// Sets the event type; an empty one means `message`.
    pub fn with_event(mut self, event: impl Into<Box<str>>) -> Self {
        let event = event.into();
        self.event = (!event.is_empty()).then_some(event);
        self
    }

    /// Sets the last event ID; an empty one means none.
    pub fn with_id(mut self, id: impl Into<Box<str>>) -> Self {
        let id = id.into();
        self.id = (!id.is_empty()).then_some(id);
        self
    }

    /// Sets the retry time.
    pub fn with_retry(mut self, retry: Duration) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The `event` field: the event's type, `message` when it has none.
    pub fn event(&self) -> &str {
        self.event.as_deref().unwrap_or("message")
    }

    /// The `data` lines, joined by `\n`.
    pub fn data(&self) -> &str {
        &self.data
    }

    /// Takes the data.
    pub fn into_data(self) -> String {
        self.data
    }

    /// The last event ID: the value of the latest `id` field, of this event
    /// or an earlier one of the stream (as `EventSource.lastEventId`).
    /// `None` while it is empty.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The `retry` field of this event: how long a client should wait
    /// before it reconnects.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Deserializes the data as JSON into a type of yours; borrowing from
    /// the event works, as with `serde_json::from_str`.
    pub fn json<'a, T: Deserialize<'a>>(&'a self) -> serde_json::Result<T> {
        serde_json::from_str(&self.data)
    }
}

impl From<RawEvent> for Event {
    fn from(raw: RawEvent) -> Self {
        let text = |bytes: &[u8]| Box::<str>::from(String::from_utf8_lossy(bytes));
        Self {
            event: raw.event.as_deref().map(text),
            data: String::from_utf8_lossy(&raw.data).into_owned(),
            id: raw.id.as_deref().map(text),
            retry: raw.retry.map(Duration::from_millis),
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn text_that_is_not_utf8_is_replaced() {
        let event = Event::from(RawEvent {
            start: 0,
            event: Some(Bytes::from_static(b"t\xff")),
            data: Bytes::from_static(b"a\xffb"),
            id: Some(Bytes::from_static(b"\xff")),
            retry: Some(250),
        });
        assert_eq!(event.event(), "t\u{fffd}");
        assert_eq!(event.data(), "a\u{fffd}b");
        assert_eq!(event.id(), Some("\u{fffd}"));
        assert_eq!(event.retry(), Some(Duration::from_millis(250)));
    }

    #[test]
    fn empty_types_and_ids_mean_none() {
        let event = Event::new("x").with_event("").with_id("");
        assert_eq!(event.event(), "message");
        assert_eq!(event.id(), None);
        assert_eq!(event.clone().with_event("done").event(), "done");
        assert_eq!(event.into_data(), "x");
    }

    #[test]
    fn json_borrows_from_the_event() {
        #[derive(Deserialize)]
        struct Delta<'a> {
            #[serde(rename = "Content")]
            content: &'a str,
        }
        let event = Event::new(r#"{"Content":"hello"}"#);
        assert_eq!(event.json::<Delta<'_>>().unwrap().content, "hello");
        assert!(Event::new("[DONE]").json::<Delta<'_>>().is_err());
    }
}
