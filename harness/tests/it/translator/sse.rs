//! Server-sent events for the translating gateway: splitting an upstream body into events as
//! its bytes arrive, and writing events out.

/// One event: its `event:` name, if any, and its `data:` lines joined.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Event {
    pub(crate) name: Option<String>,
    pub(crate) data: String,
}

impl Event {
    /// An event with a name (the Responses API names each event after its `type`).
    pub(crate) fn named(name: &str, data: String) -> Event {
        Event {
            name: Some(name.to_string()),
            data,
        }
    }

    /// An unnamed `data:` event (chat completions).
    pub(crate) fn data(data: String) -> Event {
        Event { name: None, data }
    }

    /// The event as written on the wire.
    pub(crate) fn wire(&self) -> String {
        match &self.name {
            Some(n) => format!("event: {n}\ndata: {}\n\n", self.data),
            None => format!("data: {}\n\n", self.data),
        }
    }
}

/// Splits bytes into events at blank lines, keeping a partial event until its end arrives.
#[derive(Default)]
pub(crate) struct Parser {
    buf: String,
}

impl Parser {
    /// The events `chunk` completes.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<Event> {
        self.buf.push_str(&String::from_utf8_lossy(chunk));
        if self.buf.contains('\r') {
            self.buf = self.buf.replace("\r\n", "\n");
        }
        let mut out = Vec::new();
        while let Some(end) = self.buf.find("\n\n") {
            let block: String = self.buf.drain(..end + 2).collect();
            if let Some(ev) = parse_block(&block) {
                out.push(ev);
            }
        }
        out
    }
}

fn parse_block(block: &str) -> Option<Event> {
    let mut name = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push(v.strip_prefix(' ').unwrap_or(v));
        }
    }
    (!data.is_empty()).then(|| Event {
        name,
        data: data.join("\n"),
    })
}

#[test]
fn events_split_across_chunks_and_crlf() {
    let mut p = Parser::default();
    assert!(p.push(b"event: a\ndata: {\"x\"").is_empty());
    let evs = p.push(b":1}\r\n\r\ndata: [DONE]\n\n: comment\n\n");
    assert_eq!(
        evs,
        vec![
            Event::named("a", "{\"x\":1}".into()),
            Event::data("[DONE]".into())
        ]
    );
}
