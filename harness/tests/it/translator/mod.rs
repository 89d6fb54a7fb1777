//! A translating gateway for the cross-dialect gateway tests, on 127.0.0.1: it speaks the
//! Responses API to its callers and chat completions to its upstream, or the reverse, as
//! LiteLLM and most gateways do. Requests, whole replies and streams are translated
//! (chat chunks to `response.*` events with `sequence_number` and `output_index`, and back),
//! tool calls and their arguments included; a reply cut at the token limit stays cut
//! (`incomplete` / `length`); upstream errors keep their status and OpenAI's envelope (both
//! APIs share it), and an upstream stream that is cut is cut for the caller too.
//!
//! It is the conformant case the tests judge green, so it follows the spec: `spec.rs` checks
//! what it writes for every `openai` and `openai-responses` recording against
//! `tests/spec/openai-openapi.yaml`. A [`Flaw`] breaks one thing, for the tests that show
//! provcheck names the rule a broken translator breaks.

pub(crate) mod chat_front;
pub(crate) mod responses_front;
#[cfg(test)]
mod spec;
pub(crate) mod sse;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use serde_json::Value;

use sse::Event;

/// The API a translator speaks to its callers; its upstream speaks the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Front {
    /// `POST /v1/responses` in front of `/v1/chat/completions`.
    Responses,
    /// `POST /v1/chat/completions` in front of `/v1/responses`.
    Chat,
}

impl Front {
    /// The path callers use and the path the upstream is sent.
    fn paths(self) -> (&'static str, &'static str) {
        match self {
            Front::Responses => ("/v1/responses", "/v1/chat/completions"),
            Front::Chat => ("/v1/chat/completions", "/v1/responses"),
        }
    }
}

/// One thing a broken translator gets wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flaw {
    /// None: the conformant translator.
    None,
    /// The stream's terminal event (`response.completed` / `[DONE]`) is never sent.
    DroppedTerminal,
    /// A reply cut at the token limit, or a stream cut upstream, is reported complete.
    CompletedWhenCut,
    /// A streamed tool call's argument deltas are not forwarded.
    LostArguments,
    /// Delta events repeat the `sequence_number` of the event before them.
    StuckSequence,
    /// The caller's request goes upstream as it came, untranslated.
    Untranslated,
}

/// A translator: what it speaks in front and what it gets wrong.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Translator {
    pub(crate) front: Front,
    pub(crate) flaw: Flaw,
}

type Body = BoxBody<Bytes, std::io::Error>;

/// Starts `t` on its own thread and runtime, forwarding to `upstream`; returns its address.
/// Its base URL is `http://ADDR/v1` for either API.
pub(crate) fn start(upstream: SocketAddr, t: Translator) -> SocketAddr {
    crate::common::serve(move |client, req| handle(client, upstream, t, req))
}

fn full(status: u16, content_type: &str, body: impl Into<Bytes>) -> hyper::Response<Body> {
    let body = Full::new(body.into())
        .map_err(|never| match never {})
        .boxed();
    let mut resp = hyper::Response::new(body);
    *resp.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
    resp.headers_mut()
        .insert("content-type", content_type.try_into().unwrap());
    resp
}

/// An error in OpenAI's envelope, which both APIs use.
fn error(status: u16, kind: &str, message: &str) -> hyper::Response<Body> {
    let body = serde_json::json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    full(status, "application/json", body.to_string())
}

async fn handle(
    client: Arc<reqwest::Client>,
    upstream: SocketAddr,
    t: Translator,
    req: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<Body>, Infallible> {
    let (front_path, up_path) = t.front.paths();
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let Ok(body) = body else {
        return Ok(error(
            400,
            "invalid_request_error",
            "could not read the body",
        ));
    };
    if path != front_path || method != hyper::Method::POST {
        return Ok(passthrough(&client, upstream, method, &path, body).await);
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            let msg = "We could not parse the JSON body of your request.";
            return Ok(error(400, "invalid_request_error", msg));
        }
    };
    let up_body = match t.front {
        _ if t.flaw == Flaw::Untranslated => parsed.clone(),
        Front::Responses => responses_front::request(&parsed),
        Front::Chat => chat_front::request(&parsed),
    };
    let sent = client
        .post(format!("http://{upstream}{up_path}"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer gateway-upstream")
        .body(up_body.to_string())
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(_) => return Ok(error(502, "api_error", "upstream unreachable")),
    };
    Ok(translate(resp, &parsed, t).await)
}

/// Any other route goes upstream as it came (the models list a preflight asks for).
async fn passthrough(
    client: &reqwest::Client,
    upstream: SocketAddr,
    method: hyper::Method,
    path: &str,
    body: Bytes,
) -> hyper::Response<Body> {
    let sent = client
        .request(method, format!("http://{upstream}{path}"))
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) => {
            let status = r.status().as_u16();
            let bytes = r.bytes().await.unwrap_or_default();
            full(status, "application/json", bytes)
        }
        Err(_) => error(502, "api_error", "upstream unreachable"),
    }
}

/// The upstream's answer in the caller's API: errors as they came (status and envelope),
/// streams event by event, whole replies at once.
async fn translate(resp: reqwest::Response, req: &Value, t: Translator) -> hyper::Response<Body> {
    let status = resp.status().as_u16();
    let request_id = resp.headers().get("x-request-id").cloned();
    let streamed = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/event-stream"));
    let mut out = if !(200..300).contains(&status) {
        let bytes = resp.bytes().await.unwrap_or_default();
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) if v.get("error").is_some() => full(status, "application/json", bytes),
            _ => error(status, "api_error", &String::from_utf8_lossy(&bytes)),
        }
    } else if streamed {
        stream(resp, req, t)
    } else {
        whole(resp, req, t).await
    };
    if let Some(id) = request_id {
        out.headers_mut().insert("x-request-id", id);
    }
    out
}

async fn whole(resp: reqwest::Response, req: &Value, t: Translator) -> hyper::Response<Body> {
    let Ok(v) = resp.json::<Value>().await else {
        return error(502, "api_error", "the upstream reply is not JSON");
    };
    match t.front {
        Front::Responses => {
            let r = responses_front::reply(req, &v, t.flaw);
            full(200, "application/json", r.to_string())
        }
        Front::Chat => match chat_front::reply(&v, t.flaw) {
            Ok(c) => full(200, "application/json", c.to_string()),
            Err(e) => full(500, "application/json", e.to_string()),
        },
    }
}

/// Either direction's stream state.
enum State {
    Responses(responses_front::Stream),
    Chat(chat_front::Stream),
}

impl State {
    fn event(&mut self, ev: &Event) -> Vec<Event> {
        match self {
            State::Responses(s) => s.event(ev),
            State::Chat(s) => s.event(ev),
        }
    }

    fn ended(&self) -> bool {
        match self {
            State::Responses(s) => s.ended,
            State::Chat(s) => s.ended,
        }
    }

    fn cut(&mut self) -> Option<Vec<Event>> {
        match self {
            State::Responses(s) => s.cut(),
            State::Chat(s) => s.cut(),
        }
    }
}

type Sent = Result<Frame<Bytes>, std::io::Error>;

/// Translates the upstream stream as it arrives. An upstream stream that breaks off, or ends
/// before its terminal event, breaks off the caller's too (an aborted body): a gateway must
/// not pass a cut reply off as whole.
fn stream(resp: reqwest::Response, req: &Value, t: Translator) -> hyper::Response<Body> {
    let mut state = match t.front {
        Front::Responses => State::Responses(responses_front::Stream::new(req, t.flaw)),
        Front::Chat => State::Chat(chat_front::Stream::new(req, t.flaw)),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Sent>(64);
    tokio::spawn(async move {
        let mut parser = sse::Parser::default();
        let mut upstream = resp.bytes_stream();
        let send = |evs: Vec<Event>| {
            let tx = tx.clone();
            async move {
                for e in evs {
                    if tx
                        .send(Ok(Frame::data(Bytes::from(e.wire()))))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        };
        loop {
            match upstream.next().await {
                Some(Ok(chunk)) => {
                    for ev in parser.push(&chunk) {
                        send(state.event(&ev)).await;
                    }
                }
                _ => {
                    if !state.ended() {
                        match state.cut() {
                            Some(evs) => send(evs).await,
                            None => {
                                let cut = std::io::Error::other("upstream stream cut");
                                let _ = tx.send(Err(cut)).await;
                            }
                        }
                    }
                    return;
                }
            }
        }
    });
    let frames =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
    let mut resp = hyper::Response::new(BodyExt::boxed(StreamBody::new(frames)));
    resp.headers_mut()
        .insert("content-type", "text/event-stream".try_into().unwrap());
    resp
}
