//! The HTTP side: one hyper listener on 127.0.0.1, routing each request to its dialect.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::stream;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use hyper::{Method, Request, Response};
use serde_json::json;

use super::config::Config;
use super::errors::ApiError;
use super::ollama::Models;
use super::wire::Out;
use super::{anthropic, ollama, openai, responses};

type Body = BoxBody<Bytes, Infallible>;

/// Everything a request may read or change.
pub(super) struct State {
    /// The configuration.
    pub cfg: Config,
    seq: AtomicU64,
    models: Mutex<Models>,
}

impl State {
    /// Fresh state for `cfg`.
    pub(super) fn new(cfg: Config) -> State {
        State {
            models: Mutex::new(Models::new(&cfg)),
            cfg,
            seq: AtomicU64::new(1),
        }
    }
}

/// Serves `listener` until the task is dropped.
pub(super) async fn serve(listener: tokio::net::TcpListener, state: std::sync::Arc<State>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            let io = hyper_util::rt::TokioIo::new(tcp);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
}

async fn handle(state: &State, req: Request<hyper::body::Incoming>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let out = route(
        state,
        &parts.method,
        parts.uri.path(),
        &parts.headers,
        &bytes,
    );
    respond(out)
}

/// Answers one request.
pub(super) fn route(
    state: &State,
    method: &Method,
    path: &str,
    headers: &hyper::HeaderMap,
    body: &[u8],
) -> Out {
    let cfg = &state.cfg;
    let seq = state.seq.fetch_add(1, Ordering::Relaxed);
    let post = method == Method::POST;
    let get = method == Method::GET;
    if path.starts_with("/v1/")
        && path != "/v1/messages"
        && let Some(e) = openai_auth(headers, cfg)
    {
        return openai::error(&e, cfg);
    }
    match path {
        "/v1/chat/completions" if post => openai::chat(body, cfg, seq),
        "/v1/responses" if post => responses::create(body, cfg, seq),
        "/v1/models" if get => openai::models(cfg),
        "/v1/messages" if post => anthropic::messages(headers, body, cfg, seq),
        "/api/chat" if post => ollama::chat(body, false, cfg, &state.models, seq),
        "/api/generate" if post => ollama::chat(body, true, cfg, &state.models, seq),
        "/api/tags" if get => ollama::tags(&state.models),
        "/api/ps" if get => ollama::ps(&state.models),
        "/api/show" if post => ollama::show(body, cfg, &state.models),
        "/api/pull" if post => ollama::pull(body, cfg, &state.models),
        "/api/version" if get => Out::Json(200, json!({"version": "0.33.0"})),
        "/" if get => Out::Text(200, "Ollama is running".into()),
        _ => not_found(method, path, headers, cfg),
    }
}

/// An unknown route, answered as the API the request seems meant for answers it.
fn not_found(method: &Method, path: &str, headers: &hyper::HeaderMap, cfg: &Config) -> Out {
    if headers.contains_key("anthropic-version") {
        anthropic::error(&ApiError::not_found("Not Found"), cfg)
    } else if path.starts_with("/api/") {
        Out::Text(404, "404 page not found".into())
    } else {
        openai::error(
            &ApiError::not_found(format!("Invalid URL ({method} {path})")),
            cfg,
        )
    }
}

fn openai_auth(headers: &hyper::HeaderMap, cfg: &Config) -> Option<ApiError> {
    let key = cfg.api_key.as_ref()?;
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(k) if k == key => None,
        Some(_) => Some(ApiError::auth("Incorrect API key provided.").code("invalid_api_key")),
        None => Some(ApiError::auth(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )),
    }
}

fn respond(out: Out) -> Response<Body> {
    let (status, ct, body): (u16, &str, Body) = match out {
        Out::Json(status, v) => (status, "application/json", full(v.to_string())),
        Out::Text(status, t) => (status, "text/plain; charset=utf-8", full(t)),
        Out::Stream(ct, chunks) => {
            let frames = chunks.into_iter().map(|c| Ok(Frame::data(Bytes::from(c))));
            (200, ct, StreamBody::new(stream::iter(frames)).boxed())
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = hyper::header::HeaderValue::from_str(ct) {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp.headers_mut().insert(
        "x-request-id",
        hyper::header::HeaderValue::from_static("req_reference"),
    );
    resp.headers_mut().insert(
        "request-id",
        hyper::header::HeaderValue::from_static("req_reference"),
    );
    resp
}

fn full(s: String) -> Body {
    Full::new(Bytes::from(s)).boxed()
}

/// The address a server bound, for [`super::ReferenceProvider`].
pub(super) fn local(listener: &tokio::net::TcpListener) -> std::io::Result<SocketAddr> {
    listener.local_addr()
}
