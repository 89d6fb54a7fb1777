//! A gzip bomb is not a danger, because provcheck never decompresses: reqwest is built without
//! its gzip, brotli, deflate and zstd features, so no `Accept-Encoding` is sent and a reply
//! with `Content-Encoding: gzip` is read as the bytes on the wire. `max_body_bytes` therefore
//! counts what the server sent. This test serves 66 KB of gzip that would inflate to 10 MB,
//! ten times the target's 1 MiB limit: the trial must end on the body not being JSON (the
//! compressed bytes), not on the limit, which only inflating could reach.

use std::io::Write;

use provcheck::outcome::Status;

use crate::common;
use crate::raw_server::{MODELS, RawServer, respond};

/// Back-references of 258 bytes at distance 1 that the bomb repeats.
const REPEATS: usize = 40_000;

/// Writes bits least significant first, as deflate packs them.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, which deflate stores most significant bit first.
    fn code(&mut self, code: u64, len: u32) {
        let reversed = (0..len).fold(0, |r, i| (r << 1) | ((code >> i) & 1));
        self.put(reversed, len);
    }
}

fn crc32(bytes: impl Iterator<Item = u8>) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A gzip member whose deflate block (fixed Huffman codes) is one zero byte, then
/// [`REPEATS`] copies of "258 bytes from 1 back": 13 bits for every 258 zeros.
fn bomb() -> (Vec<u8>, usize) {
    let inflated = 1 + REPEATS * 258;
    let mut bits = Bits {
        out: vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // BFINAL
    bits.put(1, 2); // BTYPE 01: fixed Huffman codes
    bits.code(0x30, 8); // literal 0
    for _ in 0..REPEATS {
        bits.code(0xC5, 8); // length code 285: 258 bytes
        bits.code(0, 5); // distance code 0: 1 byte back
    }
    bits.code(0, 7); // end of block
    if bits.n > 0 {
        bits.put(0, 8 - bits.n);
    }
    let crc = crc32(std::iter::repeat_n(0u8, inflated));
    bits.out.extend_from_slice(&crc.to_le_bytes());
    bits.out.extend_from_slice(&(inflated as u32).to_le_bytes());
    (bits.out, inflated)
}

#[test]
fn a_gzip_bomb_is_read_as_its_bytes_on_the_wire_and_never_inflated() {
    let (gz, inflated) = bomb();
    assert!(
        gz.len() < 70_000 && inflated > 10_000_000,
        "{} {inflated}",
        gz.len()
    );
    let server = RawServer::start(move |req, conn| {
        if req.method == "GET" {
            return respond(conn, 200, "application/json", MODELS);
        }
        let _ = write!(
            conn,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\n\r\n",
            gz.len()
        );
        let _ = conn.write_all(&gz);
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::write(
        dir.path().join("suites/bomb.yaml"),
        "suite: bomb\ncategory: messages\nscenarios:\n  - id: gzip\n    title: gzip\n    \
         request:\n      messages:\n        - user: hi\n      max_tokens: 5\n    \
         expect:\n      status: 200\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("targets.yaml"),
        format!(
            "targets:\n  t:\n    dialect: openai\n    base_url: {}/v1\n    models: {{ small: m }}\n    \
             resilience: {{ max_retries: 0 }}\n    limits: {{ max_body_bytes: 1048576 }}\n",
            server.url()
        ),
    )
    .unwrap();
    let out = common::command(dir.path())
        .args(["--mode", "live", "--target", "t"])
        .output()
        .unwrap();
    let (stdout, stderr) = common::text(&out);
    let record = common::run_record(&dir.path().join("reports/run.json"));
    let o = &record.outcomes[0];
    assert!(o.error.is_none(), "{o:?}\n{stdout}\n{stderr}");
    assert_eq!(o.status, Status::Fail, "{o:?}");
    let first = &o.findings[0].message;
    assert!(first.contains("not JSON"), "{first}");
    assert!(!first.contains("max_body_bytes"), "{first}");
}
