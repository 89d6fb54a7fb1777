//! Record mode: turning what a live trial sent and received into a recording file, redacted
//! (see [`super::redact`]) and scanned for secrets before it is written.
//!
//! The recorder sees attempts as the transport made them (retries included, in the order
//! their responses completed) and never the key: the transport hands over the auth header's
//! name only. Each attempt becomes one exchange, so a replay serves the same sequence (a 429,
//! then the 200 of the retry) to the same client.

use std::time::Duration;

use serde_json::Value;

use super::format::{
    Exchange, Provenance, RecordedEvent, RecordedRequest, RecordedResponse, RecordedStream, Source,
    StreamEndSpec, StreamFormat,
};
use super::redact::{self, RedactSpec};
use crate::dialect::DialectKind;
use crate::dialect::stream::{Frame, StreamEnd, TimedFrame};

/// Which trials `--mode record` sends to the real API and records, as VCR libraries name it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum RecordPolicy {
    /// Only trials with no recording yet; the others replay theirs (VCR's "once").
    #[default]
    Missing,
    /// Every trial, rewriting existing recordings.
    All,
}

/// One attempt as the transport made it.
#[derive(Debug, Clone)]
pub(crate) struct Captured {
    /// HTTP method.
    pub method: String,
    /// The full URL sent to (only its path is stored).
    pub url: String,
    /// The headers provcheck set, without auth.
    pub headers: Vec<(String, String)>,
    /// The auth header's name, if one was sent.
    pub auth_header: Option<String>,
    /// The JSON body (`Null` for none).
    pub body: Value,
    /// The response, or why there was none.
    pub response: Result<CapturedResponse, String>,
}

/// A response as read by the transport.
#[derive(Debug, Clone)]
pub(crate) struct CapturedResponse {
    /// HTTP status.
    pub status: u16,
    /// All headers (filtered when stored).
    pub headers: Vec<(String, String)>,
    /// The body, for a response not read as a stream.
    pub body: Vec<u8>,
    /// A streamed body: frames with their offsets from sending, and how it ended.
    pub stream: Option<(Vec<TimedFrame>, StreamEnd)>,
}

/// The path of a URL, without scheme, host or query (`https://h/v1/x?k=v` -> `/v1/x`).
pub(crate) fn url_path(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    path.split(['?', '#']).next().unwrap_or(path).to_string()
}

/// Why a trial's exchanges cannot be a recording: one attempt got no response.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("request {request} of {of} got no response ({why}); a recording needs one")]
pub(crate) struct NoResponse {
    /// Which request, from 1.
    pub request: usize,
    /// Of how many.
    pub of: usize,
    /// The transport's account of the failure.
    pub why: String,
}

/// The exchanges of a recording, redacted. An attempt that got no response (a timeout, a
/// refused connection) cannot be replayed as recorded, so it makes the whole recording
/// impossible: the error says which attempt and why.
pub(crate) fn exchanges(
    captured: &[Captured],
    dialect: DialectKind,
    spec: &RedactSpec,
) -> Result<Vec<Exchange>, NoResponse> {
    let mut out = Vec::with_capacity(captured.len());
    for (i, c) in captured.iter().enumerate() {
        let response = match &c.response {
            Ok(r) => response(r, dialect, spec),
            Err(e) => {
                return Err(NoResponse {
                    request: i + 1,
                    of: captured.len(),
                    why: e.clone(),
                });
            }
        };
        let mut body = (!c.body.is_null()).then(|| c.body.clone());
        let ignore = match &mut body {
            Some(b) => redact::redact_json(b, &spec.json),
            None => Vec::new(),
        };
        out.push(Exchange {
            request: RecordedRequest {
                method: c.method.clone(),
                path: url_path(&c.url),
                headers: redact::request_headers(&c.headers, c.auth_header.as_deref(), spec),
                body,
                ignore,
            },
            response,
        });
    }
    Ok(out)
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

/// A response as a recording holds it: a stream as timed events, a JSON body parsed, and the
/// `spec`'s headers and pointers redacted.
pub(crate) fn response(
    r: &CapturedResponse,
    dialect: DialectKind,
    spec: &RedactSpec,
) -> RecordedResponse {
    let mut out = RecordedResponse {
        status: r.status,
        headers: redact::response_headers(&r.headers, spec),
        body: None,
        body_text: None,
        delay_ms: None,
        stream: None,
    };
    let whole_body = match &r.stream {
        None => Some(r.body.clone()),
        // An SSE dialect's reader hands a body that is not SSE at all (a JSON error to a
        // streaming request) over as one line: it is a plain body, stored as one.
        Some((frames, _))
            if dialect != DialectKind::Ollama
                && frames.iter().any(|f| matches!(f.frame, Frame::Line(_))) =>
        {
            let text: Vec<&str> = frames.iter().map(|f| f.frame.text()).collect();
            Some(text.join("\n").into_bytes())
        }
        Some((frames, end)) => {
            let format = if dialect == DialectKind::Ollama {
                StreamFormat::Ndjson
            } else {
                StreamFormat::Sse
            };
            let events = frames
                .iter()
                .map(|f| {
                    let data = f.frame.text();
                    RecordedEvent {
                        at_ms: ms(f.at),
                        event: f.frame.event().map(str::to_string),
                        data: redact::redact_event_data(data, &spec.json)
                            .unwrap_or_else(|| data.to_string()),
                    }
                })
                .collect();
            out.stream = Some(RecordedStream {
                format,
                end: match end {
                    StreamEnd::Clean => StreamEndSpec::Clean,
                    StreamEnd::Cut(_) => StreamEndSpec::Abort,
                },
                events,
            });
            None
        }
    };
    if let Some(bytes) = whole_body
        && !bytes.is_empty()
    {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(mut v) => {
                redact::redact_json(&mut v, &spec.json);
                out.body = Some(v);
            }
            Err(_) => out.body_text = Some(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }
    out
}

/// Provenance of a live recording made today from `reference` (the base URL, credentials
/// stripped), naming the model the provider reported.
pub(crate) fn provenance(date: &str, model: Option<String>, reference: String) -> Provenance {
    Provenance {
        source: Source::Live,
        date: date.to_string(),
        model,
        reference: Some(reference),
        note: Some(format!(
            "recorded by provcheck {} (--mode record)",
            env!("CARGO_PKG_VERSION")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::format::{REDACTED, RecordingFile};
    use crate::record::redact::Secrets;
    use crate::record::write::write_checked;
    use serde_json::json;

    fn attempt(response: Result<CapturedResponse, String>) -> Captured {
        Captured {
            method: "POST".into(),
            url: "https://api.example/v1/chat/completions?key=q".into(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-stainless-retry-count".into(), "0".into()),
            ],
            auth_header: Some("authorization".into()),
            body: json!({"model": "m", "user": "u-42", "messages": []}),
            response,
        }
    }

    fn ok(body: &[u8], stream: Option<(Vec<TimedFrame>, StreamEnd)>) -> CapturedResponse {
        CapturedResponse {
            status: 200,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("set-cookie".into(), "s=1".into()),
                ("x-request-id".into(), "req_1".into()),
            ],
            body: body.to_vec(),
            stream,
        }
    }

    #[test]
    fn a_plain_exchange_is_stored_redacted_and_still_matches() {
        let spec = RedactSpec {
            json: vec!["/user".into(), "/id".into()],
            ..RedactSpec::default()
        };
        let ex = exchanges(
            &[attempt(Ok(ok(
                br#"{"id":"chatcmpl-1","model":"m-2024"}"#,
                None,
            )))],
            DialectKind::Openai,
            &spec,
        )
        .unwrap();
        let q = &ex[0].request;
        assert_eq!(q.path, "/v1/chat/completions");
        assert_eq!(q.headers["authorization"], REDACTED);
        assert_eq!(q.headers["x-stainless-retry-count"], "0");
        assert_eq!(q.body.as_ref().unwrap()["user"], REDACTED);
        assert_eq!(q.ignore, ["/user"]);
        let r = &ex[0].response;
        assert_eq!(r.body.as_ref().unwrap()["id"], REDACTED);
        assert!(!r.headers.contains_key("set-cookie"));
        assert_eq!(r.headers["x-request-id"], "req_1");
        // Matching compares the sent body with the redacted field ignored.
        let sent = json!({"model": "m", "user": "u-42", "messages": []});
        assert_eq!(
            crate::record::format::canonical(q.body.as_ref().unwrap(), &q.ignore),
            crate::record::format::canonical(&sent, &q.ignore)
        );
    }

    #[test]
    fn streams_keep_events_offsets_and_cuts() {
        let frames = vec![
            TimedFrame {
                at: Duration::from_millis(120),
                frame: Frame::Sse {
                    event: Some("message_start".into()),
                    data: r#"{"type":"message_start"}"#.into(),
                },
            },
            TimedFrame {
                at: Duration::from_millis(180),
                frame: Frame::Sse {
                    event: None,
                    data: "[DONE]".into(),
                },
            },
        ];
        let ex = exchanges(
            &[attempt(Ok(ok(
                b"",
                Some((frames, StreamEnd::Cut("reset".into()))),
            )))],
            DialectKind::Anthropic,
            &RedactSpec::default(),
        )
        .unwrap();
        let st = ex[0].response.stream.as_ref().unwrap();
        assert_eq!(st.format, StreamFormat::Sse);
        assert_eq!(st.end, StreamEndSpec::Abort);
        assert_eq!(
            (st.events[0].at_ms, st.events[0].event.as_deref()),
            (120, Some("message_start"))
        );
        assert_eq!(st.events[1].data, "[DONE]");
        assert!(ex[0].response.body.is_none());
    }

    #[test]
    fn a_non_sse_body_to_a_stream_request_is_a_plain_body() {
        let frames = vec![TimedFrame {
            at: Duration::from_millis(5),
            frame: Frame::Line(
                r#"{"error":{"message":"bad","type":"invalid_request_error"}}"#.into(),
            ),
        }];
        let ex = exchanges(
            &[attempt(Ok(ok(b"", Some((frames, StreamEnd::Clean)))))],
            DialectKind::Openai,
            &RedactSpec::default(),
        )
        .unwrap();
        assert!(ex[0].response.stream.is_none());
        assert_eq!(
            ex[0].response.body.as_ref().unwrap()["error"]["message"],
            "bad"
        );
    }

    #[test]
    fn an_attempt_without_response_makes_the_recording_impossible() {
        let e = exchanges(
            &[attempt(Err("timed out after 300 ms".into()))],
            DialectKind::Openai,
            &RedactSpec::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("request 1 of 1 got no response (timed out after 300 ms)"),
            "{e}"
        );
    }

    #[test]
    fn a_recording_holding_a_secret_is_never_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x/y.yaml");
        let secrets = Secrets::from_env(["MY_KEY"], [], &|k: &str| {
            (k == "MY_KEY").then(|| "sk-planted-0001".to_string())
        });
        let ex = exchanges(
            &[attempt(Ok(ok(
                br#"{"echo":"Bearer sk-planted-0001"}"#,
                None,
            )))],
            DialectKind::Openai,
            &RedactSpec::default(),
        )
        .unwrap();
        let rec = RecordingFile {
            provenance: provenance("2026-01-01", None, "https://api.example/v1".into()),
            exchanges: ex,
        };
        let e = write_checked(&path, &rec, false, &secrets)
            .unwrap_err()
            .to_string();
        assert!(e.contains("contains the value of MY_KEY"), "{e}");
        assert!(!e.contains("sk-planted"), "{e}");
        assert!(!path.exists() && !path.parent().unwrap().exists());
        let clean = RecordingFile {
            provenance: rec.provenance.clone(),
            exchanges: exchanges(
                &[attempt(Ok(ok(br#"{"ok":true}"#, None)))],
                DialectKind::Openai,
                &RedactSpec::default(),
            )
            .unwrap(),
        };
        let sha = write_checked(&path, &clean, false, &secrets).unwrap();
        assert_eq!(sha.len(), 64);
        assert!(
            write_checked(&path, &clean, false, &secrets)
                .unwrap_err()
                .to_string()
                .contains("exists")
        );
        write_checked(&path, &clean, true, &secrets).unwrap();
        crate::record::Recording::load(&path).unwrap();
    }

    #[test]
    fn url_paths_lose_host_and_query() {
        assert_eq!(
            url_path("http://127.0.0.1:4000/v1/chat/completions?k=1"),
            "/v1/chat/completions"
        );
        assert_eq!(
            url_path("https://api.anthropic.com/v1/messages"),
            "/v1/messages"
        );
        assert_eq!(url_path("http://h:1"), "/");
    }
}
