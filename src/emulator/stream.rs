//! hunyuan 2023-09-01 ChatCompletions: the streaming action, answered as
//! server-sent events when `Stream` is true.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use super::params::{Params, RawParams};
use super::reply::{ApiFailure, success_envelope};
use crate::RequestId;

/// The service of the streaming action.
pub(crate) const SERVICE: &str = "hunyuan";
/// Its version.
pub(crate) const VERSION: &str = "2023-09-01";
/// The streaming action.
pub(crate) const ACTION: &str = "ChatCompletions";

const KNOWN: &[&str] = &[
    "Model",
    "Messages",
    "Stream",
    "StreamModeration",
    "TopP",
    "Temperature",
    "EnableEnhancement",
];

const NOTE: &str = "以上内容为AI生成，不代表开发者立场，请勿删除或修改本标记";

/// Hunyuan's code for an internal failure in a stream (4001 is a model
/// timeout), and a message for it.
const STREAM_INTERNAL_ERROR: (i64, &str) = (4000, "Internal service error.");

/// A parsed ChatCompletions call. The answer echoes the words of the last
/// message, one event per word, so that a test chooses how many events a
/// stream has by what it sends.
pub(crate) struct Chat {
    words: Vec<String>,
    stream: bool,
    prompt_tokens: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Usage {
    prompt_tokens: usize,
    completion_tokens: usize,
    total_tokens: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Message<'a> {
    role: &'static str,
    content: &'a str,
}

impl Chat {
    pub(crate) fn parse(raw: &RawParams) -> Result<Self, ApiFailure> {
        let params = Params::parse(raw, KNOWN)?;
        params.required_string("Model")?;
        let messages = params
            .get("Messages")
            .ok_or_else(|| ApiFailure::missing_parameter("Messages"))?
            .as_array()
            .filter(|messages| !messages.is_empty())
            .ok_or_else(|| {
                ApiFailure::invalid_parameter_value("Messages", "not a list of messages")
            })?;
        let content = |message: &Value| {
            message
                .get("Content")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    ApiFailure::invalid_parameter_value("Messages", "a message without Content")
                })
        };
        let last = content(messages.last().expect("not empty"))?;
        let prompt_tokens = messages
            .iter()
            .map(|message| content(message).map(|content| content.split_whitespace().count()))
            .sum::<Result<usize, _>>()?;
        let stream = params.boolean("Stream")?.unwrap_or(false);
        Ok(Self {
            words: last.split_whitespace().map(str::to_owned).collect(),
            stream,
            prompt_tokens,
        })
    }

    pub(crate) fn streaming(&self) -> bool {
        self.stream
    }

    fn usage(&self, completion_tokens: usize) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens,
            total_tokens: self.prompt_tokens + completion_tokens,
        }
    }

    /// The answer of a call without `Stream`: one envelope.
    pub(crate) fn envelope(&self, request_id: &RequestId, now: u64) -> Bytes {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Choice<'a> {
            message: Message<'a>,
            finish_reason: &'static str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Answer<'a> {
            note: &'static str,
            choices: [Choice<'a>; 1],
            created: u64,
            id: &'a str,
            usage: Usage,
        }
        let content = self.words.join(" ");
        success_envelope(
            request_id,
            &Answer {
                note: NOTE,
                choices: [Choice {
                    message: Message {
                        role: "assistant",
                        content: &content,
                    },
                    finish_reason: "stop",
                }],
                created: now,
                id: request_id.as_str(),
                usage: self.usage(self.words.len()),
            },
        )
    }

    /// The events of a streamed answer: one per word, then one that
    /// finishes. With `error_after`, that many events, then one that
    /// reports an error as Hunyuan does, in the event's `ErrorMsg`
    /// (`{"Code": 4000, "Msg": ...}`, the code an integer), and nothing more.
    pub(crate) fn events(
        &self,
        request_id: &RequestId,
        now: u64,
        error_after: Option<usize>,
    ) -> Vec<Bytes> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Choice<'a> {
            delta: Message<'a>,
            finish_reason: &'static str,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Event<'a> {
            note: &'static str,
            choices: [Choice<'a>; 1],
            created: u64,
            id: &'a str,
            usage: Usage,
        }
        let last = self.words.len();
        let mut events: Vec<Bytes> = (0..=last)
            .map(|index| {
                let content = match self.words.get(index) {
                    Some(word) if index + 1 < last => format!("{word} "),
                    Some(word) => word.clone(),
                    None => String::new(),
                };
                let event = Event {
                    note: NOTE,
                    choices: [Choice {
                        delta: Message {
                            role: "assistant",
                            content: &content,
                        },
                        finish_reason: if index == last { "stop" } else { "" },
                    }],
                    created: now,
                    id: request_id.as_str(),
                    usage: self.usage(index.min(last)),
                };
                let json = serde_json::to_string(&event).expect("events serialize");
                Bytes::from(format!("data: {json}\n\n"))
            })
            .collect();
        if let Some(after) = error_after {
            #[derive(Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct ErrorMsg {
                code: i64,
                msg: &'static str,
            }
            #[derive(Serialize)]
            #[serde(rename_all = "PascalCase")]
            struct ErrorEvent<'a> {
                note: &'static str,
                choices: [(); 0],
                created: u64,
                id: &'a str,
                error_msg: ErrorMsg,
            }
            let (code, msg) = STREAM_INTERNAL_ERROR;
            let event = ErrorEvent {
                note: NOTE,
                choices: [],
                created: now,
                id: request_id.as_str(),
                error_msg: ErrorMsg { code, msg },
            };
            let json = serde_json::to_string(&event).expect("events serialize");
            events.truncate(after);
            events.push(Bytes::from(format!("data: {json}\n\n")));
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(stream: bool, content: &str) -> Chat {
        let body = serde_json::json!({
            "Model": "hunyuan-lite",
            "Messages": [{"Role": "user", "Content": content}],
            "Stream": stream,
        });
        Chat::parse(&RawParams::json(body.to_string().as_bytes())).unwrap()
    }

    #[test]
    fn one_event_per_word_then_stop() {
        let id = RequestId::new("r");
        let events = chat(true, "one two three").events(&id, 1, None);
        assert_eq!(events.len(), 4);
        assert!(
            events
                .iter()
                .all(|event| event.starts_with(b"data: {") && event.ends_with(b"}\n\n"))
        );
        let text = String::from_utf8(events[1].to_vec()).unwrap();
        assert!(text.contains(r#""Content":"two ""#), "{text}");
        let last = String::from_utf8(events[3].to_vec()).unwrap();
        assert!(last.contains(r#""FinishReason":"stop""#), "{last}");
    }

    #[test]
    fn an_error_event_after_n_events_ends_the_stream() {
        let id = RequestId::new("r");
        let events = chat(true, "one two three").events(&id, 1, Some(2));
        assert_eq!(events.len(), 3);
        let error = std::str::from_utf8(&events[2]).unwrap();
        let data: Value = serde_json::from_str(error.strip_prefix("data: ").unwrap()).unwrap();
        assert_eq!(data["ErrorMsg"]["Code"], 4000);
        assert_eq!(data["ErrorMsg"]["Msg"], "Internal service error.");
        assert_eq!(data["Id"], "r");
        assert!(error.ends_with("}\n\n"));
    }

    #[test]
    fn messages_and_model_are_required() {
        let err = Chat::parse(&RawParams::json(br#"{"Model":"hunyuan-lite"}"#))
            .err()
            .unwrap();
        assert_eq!(err.code, "MissingParameter");
        let err = Chat::parse(&RawParams::json(
            br#"{"Messages":[{"Role":"user","Content":"hi"}]}"#,
        ))
        .err()
        .unwrap();
        assert_eq!(err.code, "MissingParameter");
    }
}
