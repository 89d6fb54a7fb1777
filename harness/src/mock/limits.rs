//! How much of a request the mock reads. The client or gateway under test is as untrusted as
//! a provider: one that sends a gigabyte, or a chunked body that never ends, must get a clear
//! error while the mock holds no more than [`MAX_REQUEST_BODY_BYTES`], not an out-of-memory.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

/// The most of one request body the mock reads: 64 MiB, the default `max_body_bytes` a
/// reply may have, and far above any chat request.
pub(crate) const MAX_REQUEST_BODY_BYTES: usize = 64 << 20;

/// A request body past [`MAX_REQUEST_BODY_BYTES`], declared or sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "provcheck mock: the request body passed {0} bytes (the mock's limit); reading stopped there"
)]
pub(crate) struct TooLarge(pub(crate) usize);

/// Reads a request body of at most `max` bytes: a declared `Content-Length` past it is
/// refused before reading, a body (chunked or not) that passes it is cut there. A body the
/// client broke off reads as what arrived before the break, as before this limit existed.
pub(crate) async fn read_body<B>(
    headers: &hyper::HeaderMap,
    body: B,
    max: usize,
) -> Result<Bytes, TooLarge>
where
    B: hyper::body::Body<Data = Bytes>,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let declared = headers
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(TooLarge(max));
    }
    match Limited::new(body, max).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(TooLarge(max)),
        Err(_) => Ok(Bytes::new()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::dialect::DialectKind;
    use crate::mock::ReplayMock;
    use crate::record::Recording;

    /// A trial's mock on the shared server: its address and the request path for it.
    fn mock() -> (ReplayMock, String, String) {
        let rt = crate::runtime::runtime();
        let m = rt
            .block_on(ReplayMock::start(
                Arc::new(Recording::empty()),
                &[],
                DialectKind::Openai,
                0.0,
                None,
                None,
            ))
            .unwrap();
        let uri = m.uri();
        let rest = uri.strip_prefix("http://").unwrap();
        let (addr, prefix) = rest.split_at(rest.find('/').unwrap());
        let path = format!("{prefix}/v1/chat/completions");
        (m, addr.to_string(), path)
    }

    fn response_of(conn: &mut TcpStream) -> String {
        conn.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = conn.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if got.windows(4).any(|w| w == b"\r\n\r\n") && got.ends_with(b"}") {
                break;
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    #[test]
    fn a_declared_gigabyte_is_refused_before_a_byte_of_it_is_read() {
        let (_m, addr, path) = mock();
        let mut conn = TcpStream::connect(&addr).unwrap();
        write!(
            conn,
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1073741824\r\n\r\n{{\"model\":"
        )
        .unwrap();
        let got = response_of(&mut conn);
        assert!(got.starts_with("HTTP/1.1 413"), "{got}");
        assert!(
            got.contains("the request body passed 67108864 bytes (the mock's limit)"),
            "{got}"
        );
    }

    #[test]
    fn an_endless_chunked_body_is_cut_at_the_limit_and_answered() {
        let (_m, addr, path) = mock();
        let mut conn = TcpStream::connect(&addr).unwrap();
        let mut writer = conn.try_clone().unwrap();
        write!(
            writer,
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        .unwrap();
        // Sends 1 MiB chunks until the mock stops reading and closes: never ending by itself.
        let sender = std::thread::spawn(move || {
            let chunk = [b' '; 1 << 20];
            let mut sent = 0usize;
            loop {
                let head = format!("{:x}\r\n", chunk.len());
                let ok = writer.write_all(head.as_bytes()).is_ok()
                    && writer.write_all(&chunk).is_ok()
                    && writer.write_all(b"\r\n").is_ok();
                if !ok {
                    return sent;
                }
                sent += chunk.len();
                // Far past the limit: the mock kept reading.
                if sent > 4 * MAX_REQUEST_BODY_BYTES {
                    return sent;
                }
            }
        });
        let got = response_of(&mut conn);
        assert!(got.starts_with("HTTP/1.1 413"), "{got}");
        assert!(got.contains("reading stopped there"), "{got}");
        drop(conn);
        let sent = sender.join().unwrap();
        assert!(
            sent <= 2 * MAX_REQUEST_BODY_BYTES,
            "the client could send {sent} bytes"
        );
    }

    #[test]
    fn a_body_within_the_limit_is_read_whole() {
        let rt = crate::runtime::runtime();
        let body = http_body_util::Full::new(Bytes::from_static(b"{\"a\":1}"));
        let got = rt.block_on(read_body(&hyper::HeaderMap::new(), body, 7));
        assert_eq!(got, Ok(Bytes::from_static(b"{\"a\":1}")));
        let body = http_body_util::Full::new(Bytes::from_static(b"{\"a\":12}"));
        let got = rt.block_on(read_body(&hyper::HeaderMap::new(), body, 7));
        assert_eq!(got, Err(TooLarge(7)));
    }
}
