//! A small HTTP/1.1 responder (hyper) for streamed replies: each recorded event is written as
//! its own chunk at its recorded offset (scaled by the replay speed), so chunk boundaries,
//! time to first token and the gaps between tokens are real on the wire, and a recorded cut
//! drops the connection mid-body. It serves non-streamed exchanges, fault scripts and misses
//! too: every replay trial is answered here, on the one server of [`super::shared`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming as HyperBody};
use hyper::{Request, Response};
use serde_json::Value;
use tokio::sync::mpsc;

use super::script::{Action, Replay, content_type, miss_body};
use crate::record::format::{RecordedResponse, RecordedStream, StreamEndSpec};
use crate::record::matching::Incoming;
use crate::suite::model::MockStep;

type Body = BoxBody<Bytes, std::io::Error>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

fn with_headers(
    mut resp: Response<Body>,
    headers: &std::collections::BTreeMap<String, String>,
    ct: &str,
) -> Response<Body> {
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(k.as_bytes()),
            hyper::header::HeaderValue::from_str(v),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
    if let Ok(v) = hyper::header::HeaderValue::from_str(ct) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

/// Expands `{{http_date+Ns}}` in a scripted header to the HTTP date N seconds from now, so a
/// script can send a Retry-After date that is always in the future.
fn render(value: &str) -> String {
    let Some(start) = value.find("{{http_date+") else {
        return value.to_string();
    };
    let rest = &value[start + "{{http_date+".len()..];
    let Some(end) = rest.find("s}}") else {
        return value.to_string();
    };
    let Ok(secs) = rest[..end].parse::<u64>() else {
        return value.to_string();
    };
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(secs));
    format!("{}{date}{}", &value[..start], &rest[end + 3..])
}

fn status(code: u16) -> hyper::StatusCode {
    hyper::StatusCode::from_u16(code).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR)
}

/// The answer to a request that names no trial being replayed (a trial that already ended,
/// or a URL that was never a replay's).
pub(crate) fn not_addressed(path: &str) -> Response<Body> {
    let body = serde_json::json!({"error": {
        "message": format!("provcheck replay: {path} is not addressed to a trial being replayed"),
        "type": "provcheck_no_recording"}});
    let mut resp = Response::new(full(body.to_string()));
    *resp.status_mut() = hyper::StatusCode::NOT_FOUND;
    with_headers(resp, &Default::default(), "application/json")
}

/// Answers one request of `replay`'s trial: a scripted fault, the matching recorded exchange
/// (streamed event by event at its recorded offsets scaled by `speed`) or, in live and record
/// modes, the target's own reply, either reshaped by the script; or a miss explained.
pub(crate) async fn handle(
    replay: Arc<Replay>,
    speed: f64,
    req: Request<HyperBody>,
) -> Result<Response<Body>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let max = super::limits::MAX_REQUEST_BODY_BYTES;
    let bytes = match super::limits::read_body(&parts.headers, body, max).await {
        Ok(b) => b,
        Err(e) => return Ok(too_large(&replay, &e)),
    };
    replay.note_request(parts.uri.path(), &bytes);
    let step = match replay.next_action() {
        // Returning an error makes hyper close the connection without a response.
        Action::Drop(m) => {
            if let Some(ms) = m.delay_ms {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            return Err(std::io::Error::other("scripted drop"));
        }
        Action::Status(m) => return Ok(scripted_status(&replay, &m).await),
        Action::Recorded(step) => step,
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    if let Some(up) = &replay.upstream {
        let received = super::forward::Received {
            method: parts.method.as_str(),
            path_and_query: parts.uri.path_and_query().map_or("/", |p| p.as_str()),
            headers: &headers,
            body: &bytes,
        };
        return Ok(forwarded(&replay, up, &received, step).await);
    }
    let incoming = Incoming {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        headers,
        body: serde_json::from_slice::<Value>(&bytes).ok(),
    };
    let i = match replay.pick(&incoming) {
        Ok(i) => i,
        Err(miss) => {
            let mut resp = Response::new(full(miss_body(&miss).to_string()));
            *resp.status_mut() = hyper::StatusCode::NOT_FOUND;
            return Ok(with_headers(resp, &Default::default(), "application/json"));
        }
    };
    let prepared = &replay.recording.exchanges[i];
    Ok(serve(
        &replay,
        &prepared.exchange.response,
        &prepared.response_body,
        step,
        speed,
    )
    .await)
}

/// The target's own reply to a `recorded` step (live and record modes), reshaped by the step;
/// a 502 when the target could not be reached.
async fn forwarded(
    replay: &Replay,
    up: &super::forward::Upstream,
    received: &super::forward::Received<'_>,
    step: Option<MockStep>,
) -> Response<Body> {
    match super::forward::forward(up, replay.dialect, received).await {
        Ok((response, whole)) => {
            replay.note_forwarded();
            // The target's own timing was spent reaching it; only the script's faults are
            // replayed.
            serve(replay, &response, &whole, step, 0.0).await
        }
        Err(e) => {
            // A request that timed out was sent: the target saw it.
            if matches!(e, crate::client::TransportError::Timeout(_)) {
                replay.note_forwarded();
            }
            let body = super::forward::unreachable_body(replay.dialect, &e);
            let mut resp = Response::new(full(body.to_string()));
            *resp.status_mut() = hyper::StatusCode::BAD_GATEWAY;
            with_headers(resp, &Default::default(), "application/json")
        }
    }
}

/// The answer to a request body past the mock's limit: 413 with the dialect's error shape,
/// and the connection closed, since the rest of the body is never read.
fn too_large(replay: &Replay, e: &super::limits::TooLarge) -> Response<Body> {
    let mut body = replay.dialect.error_body(413);
    if let Some(msg) = body.pointer_mut("/error/message") {
        *msg = Value::String(e.to_string());
    } else {
        body = serde_json::json!({"error": {"message": e.to_string(), "type": "provcheck_request_too_large"}});
    }
    let mut resp = Response::new(full(body.to_string()));
    *resp.status_mut() = hyper::StatusCode::PAYLOAD_TOO_LARGE;
    resp.headers_mut().insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("close"),
    );
    with_headers(resp, &Default::default(), "application/json")
}

/// A scripted status, after its delay, with the dialect's error body unless the step has one.
async fn scripted_status(replay: &Replay, m: &MockStep) -> Response<Body> {
    if let Some(ms) = m.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let code = m.status.unwrap_or(500);
    let body = m
        .body
        .clone()
        .unwrap_or_else(|| replay.dialect.error_body(code));
    let mut resp = Response::new(full(body.to_string()));
    *resp.status_mut() = status(code);
    let headers = m
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), render(v)))
        .collect();
    with_headers(resp, &headers, "application/json")
}

/// Serves a reply (recorded, or the target's own) reshaped by the script `step`: its delay,
/// content faults, then the body whole or event by event.
async fn serve(
    replay: &Replay,
    response: &RecordedResponse,
    body: &[u8],
    step: Option<MockStep>,
    speed: f64,
) -> Response<Body> {
    let (recorded, whole) = super::fault::reshape(response, body, step.as_ref(), replay.dialect);
    let delay = step.as_ref().and_then(|m| m.delay_ms).or(recorded.delay_ms);
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let body = match &recorded.stream {
        None => full(whole.into_owned()),
        Some(stream) => stream_body(stream.clone(), step, speed),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status(recorded.status);
    let ct = content_type(&recorded.headers, recorded.body.is_some());
    with_headers(resp, &recorded.headers, &ct)
}

/// Frames a streamed body holds before its writer waits for hyper to take them.
const STREAM_BUFFER: usize = 16;

/// A streamed body: each event written as its own chunk at its offset (see
/// [`super::fault::event_offset`]), a scripted pause between two events, cut where the
/// recording or the script cuts it.
fn stream_body(stream: RecordedStream, step: Option<MockStep>, speed: f64) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(STREAM_BUFFER);
    let cut_after = step.as_ref().and_then(|m| m.cut_after);
    let pause = super::fault::pause(step.as_ref());
    tokio::spawn(async move {
        let mut start = tokio::time::Instant::now();
        for (n, e) in stream.events.iter().enumerate() {
            if cut_after.is_some_and(|c| n >= c) {
                break;
            }
            if let Some((_, pause)) = pause.filter(|(before, _)| *before == n) {
                // Once hyper has taken every event before the pause (all permits free), the
                // pause is all the client sees between them; later events keep their spacing.
                let paused = tokio::time::Instant::now();
                drop(tx.reserve_many(STREAM_BUFFER).await);
                tokio::time::sleep(pause).await;
                start += paused.elapsed();
            }
            let at = super::fault::event_offset(step.as_ref(), n, e.at_ms, speed);
            if !at.is_zero() {
                tokio::time::sleep_until(start + at).await;
            }
            if tx
                .send(Ok(Frame::data(Bytes::from(stream.wire(e)))))
                .await
                .is_err()
            {
                return;
            }
        }
        if stream.end == StreamEndSpec::Abort || cut_after.is_some_and(|c| c < stream.events.len())
        {
            // An error frame makes hyper abandon the body without its final chunk,
            // which the client sees as a connection closed mid-stream. The body waits a
            // moment first, so hyper flushes the events already written: a cut right behind
            // them (no recorded gaps, a forwarded reply) would close the connection on
            // unflushed bytes, even before the headers.
            tokio::time::sleep(Duration::from_millis(10)).await;
            let _ = tx.send(Err(std::io::Error::other("recorded cut"))).await;
        }
    });
    let frames =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|f| (f, rx)) });
    BodyExt::boxed(StreamBody::new(frames))
}
