//! A bare HTTP/1.1 server on 127.0.0.1, one thread per connection, for the cases a well-behaved
//! mock cannot play: closing without an answer, answering never, answering forever. Each
//! request is handed to a closure that writes whatever it likes on the socket.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The body, as text.
    pub body: String,
}

/// What a handler does with a request: write a response (or not) on the stream.
pub type Handler = dyn Fn(&Seen, &mut TcpStream) + Send + Sync;

/// A running server; it lives as long as the test process (its threads are detached).
pub struct RawServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Requests being handled right now.
    pub in_flight: Arc<AtomicUsize>,
}

impl RawServer {
    /// Starts serving with `handler`.
    pub fn start(handler: impl Fn(&Seen, &mut TcpStream) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, f) = (seen.clone(), in_flight.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (h, s, f) = (handler.clone(), s.clone(), f.clone());
                std::thread::spawn(move || serve(conn, &*h, &s, &f));
            }
        });
        RawServer {
            addr,
            seen,
            in_flight,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request read so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, h: &Handler, seen: &Mutex<Vec<Seen>>, in_flight: &AtomicUsize) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let Some(req) = read_request(&mut reader) else {
            return;
        };
        seen.lock().unwrap().push(req.clone());
        in_flight.fetch_add(1, Ordering::SeqCst);
        h(&req, &mut conn);
        in_flight.fetch_sub(1, Ordering::SeqCst);
        let _ = conn.flush();
    }
}

fn read_request(r: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Writes a whole response with a JSON (or any) body.
pub fn respond(conn: &mut TcpStream, status: u16, content_type: &str, body: &str) {
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
}

/// An OpenAI chat completion saying `text`, finished by `stop`.
pub fn openai_reply(text: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-raw", "object": "chat.completion", "created": 1764028800,
        "model": "raw-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    })
    .to_string()
}

/// The OpenAI models list, for a preflight.
pub const MODELS: &str = r#"{"object":"list","data":[{"id":"raw-model","object":"model"}]}"#;
