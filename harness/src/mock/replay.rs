//! Replay of one recording on a wiremock server taken from wiremock's pool.
//!
//! A single catch-all responder matches each incoming request against the recording itself,
//! rather than mounting one wiremock matcher per exchange, so a request that matches nothing
//! can be explained (closest exchange, differing fields) instead of ending in a bare 404.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::record::Recording;
use crate::record::matching::{Incoming, Miss, find};

/// What the mock saw during one trial.
#[derive(Debug, Default, Clone)]
pub struct Witness {
    /// Exchange index served for each request, in arrival order, with arrival time.
    pub served: Vec<(usize, Duration)>,
    /// Requests that matched nothing.
    pub misses: Vec<Miss>,
}

struct State {
    used: Vec<bool>,
    witness: Witness,
}

struct Responder {
    recording: Arc<Recording>,
    state: Arc<Mutex<State>>,
    started: Instant,
}

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let incoming = Incoming {
            method: request.method.as_str(),
            path: request.url.path(),
            headers,
            body: serde_json::from_slice::<Value>(&request.body).ok(),
        };
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match find(&self.recording, &incoming, &state.used) {
            Ok(i) => {
                state.used[i] = true;
                state.witness.served.push((i, self.started.elapsed()));
                drop(state);
                let prepared = &self.recording.exchanges[i];
                let resp = &prepared.exchange.response;
                let mut t = ResponseTemplate::new(resp.status);
                for (k, v) in &resp.headers {
                    t = t.insert_header(k.as_str(), v.as_str());
                }
                let mime = resp
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.as_str())
                    .unwrap_or(if resp.body.is_some() {
                        "application/json"
                    } else {
                        "text/plain"
                    });
                t = t.set_body_raw(prepared.response_body.clone(), mime);
                if let Some(ms) = resp.delay_ms {
                    t = t.set_delay(Duration::from_millis(ms));
                }
                t
            }
            Err(miss) => {
                let body = serde_json::json!({"error": {"message": format!("provcheck replay: {}", miss.explanation), "type": "provcheck_no_recording"}});
                state.witness.misses.push(miss);
                ResponseTemplate::new(404).set_body_json(body)
            }
        }
    }
}

/// A running replay of one recording.
pub struct ReplayMock {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl ReplayMock {
    /// Takes a server from wiremock's pool and mounts the recording on it.
    pub async fn start(recording: Arc<Recording>) -> ReplayMock {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            used: vec![false; recording.exchanges.len()],
            witness: Witness::default(),
        }));
        let responder = Responder {
            recording,
            state: state.clone(),
            started: Instant::now(),
        };
        Mock::given(any())
            .respond_with(responder)
            .mount(&server)
            .await;
        ReplayMock { server, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// What the mock has seen so far.
    pub fn witness(&self) -> Witness {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .witness
            .clone()
    }

    /// Indices of exchanges never served.
    pub fn unused(&self) -> Vec<usize> {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.used
            .iter()
            .enumerate()
            .filter(|(_, u)| !**u)
            .map(|(i, _)| i)
            .collect()
    }
}
