//! `/metrics`: a plain HTTP/1.1 GET over a tokio `TcpStream`, and quantiles
//! of a Prometheus histogram.
//!
//! Quantiles are computed like PromQL's `histogram_quantile`: find the
//! bucket the rank falls in and interpolate linearly between its lower and
//! upper bound (the first bucket's lower bound is 0). A rank that falls in
//! the `+Inf` bucket reports the highest finite bound. So the figures are
//! estimates whose resolution is the bucket layout of the server.

use super::{LoadgenError, Result};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response read (a /metrics page is a few KiB to a few hundred).
const MAX_RESPONSE: u64 = 16 << 20;

/// The sum of a counter's samples over every label set in `/metrics` text.
pub fn counter(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// GETs `path` from `addr` and returns the body of a 200 response.
pub async fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> Result<String> {
    tokio::time::timeout(timeout, async {
        let mut stream = TcpStream::connect(addr).await?;
        let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.take(MAX_RESPONSE).read_to_end(&mut raw).await?;
        parse_response(&raw)
    })
    .await
    .map_err(|_| LoadgenError::Timeout(format!("GET http://{addr}{path}")))?
}

/// Splits a whole HTTP/1.1 response, checks for 200, undoes chunking.
fn parse_response(raw: &[u8]) -> Result<String> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) =
        text.split_once("\r\n\r\n").ok_or_else(|| LoadgenError::Metrics("response without a header end".into()))?;
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(LoadgenError::Metrics(format!("status line {status:?}")));
    }
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        dechunk(body)
    } else {
        Ok(body.to_string())
    }
}

fn dechunk(mut body: &str) -> Result<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").ok_or_else(|| LoadgenError::Metrics("truncated chunk".into()))?;
        let size = size.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|e| LoadgenError::Metrics(format!("chunk size {size:?}: {e}")))?;
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest.get(..size).ok_or_else(|| LoadgenError::Metrics("truncated chunk".into()))?;
        out.push_str(chunk);
        body = rest.get(size..).unwrap_or_default().trim_start_matches("\r\n");
    }
}

/// A histogram's cumulative buckets `(le, count)`, sorted by `le`, summed
/// over every label set (e.g. every `room_type`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Buckets(pub Vec<(f64, f64)>);

impl Buckets {
    /// Reads the `<name>_bucket` lines of a Prometheus / OpenMetrics text.
    pub fn parse(text: &str, name: &str) -> Buckets {
        let prefix = format!("{name}_bucket");
        let mut out: Vec<(f64, f64)> = Vec::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix(&prefix) else {
                continue;
            };
            let Some((labels, value)) = split_labels(rest) else {
                continue;
            };
            let (Some(le), Some(count)) =
                (label(labels, "le").and_then(parse_f64), value.split_whitespace().next().and_then(parse_f64))
            else {
                continue;
            };
            match out.iter_mut().find(|(b, _)| *b == le) {
                Some((_, c)) => *c += count,
                None => out.push((le, count)),
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        Buckets(out)
    }

    /// The observations made between `before` and `self` (counts are
    /// cumulative since the server started).
    pub fn since(&self, before: &Buckets) -> Buckets {
        Buckets(
            self.0
                .iter()
                .map(|&(le, c)| {
                    let old = before.0.iter().find(|(b, _)| *b == le).map_or(0.0, |(_, c)| *c);
                    (le, (c - old).max(0.0))
                })
                .collect(),
        )
    }

    /// Number of observations (the `+Inf` bucket, or the largest count).
    pub fn count(&self) -> f64 {
        self.0.iter().map(|(_, c)| *c).fold(0.0, f64::max)
    }

    /// The `q` quantile (0..=1), interpolated within its bucket; `None`
    /// without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total <= 0.0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * total;
        let (mut lower, mut below) = (0.0, 0.0);
        for &(le, cum) in &self.0 {
            if cum >= rank && cum > below {
                if le.is_infinite() {
                    return Some(lower); // the highest finite bound
                }
                return Some(lower + (le - lower) * (rank - below) / (cum - below));
            }
            lower = if le.is_finite() { le } else { lower };
            below = cum;
        }
        Some(lower)
    }
}

/// Splits `{labels} value` (or ` value` without labels); quotes respected.
fn split_labels(rest: &str) -> Option<(&str, &str)> {
    if let Some(inner) = rest.strip_prefix('{') {
        let mut quoted = false;
        let mut escaped = false;
        for (i, ch) in inner.char_indices() {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = !quoted,
                '}' if !quoted => return Some((&inner[..i], &inner[i + 1..])),
                _ => {}
            }
        }
        None
    } else if rest.starts_with(' ') {
        Some(("", rest))
    } else {
        None // another metric whose name only starts the same
    }
}

/// The value of label `key` in `a="x",le="0.5"` (no escapes inside `le`).
fn label<'a>(labels: &'a str, key: &str) -> Option<&'a str> {
    let start = labels.match_indices(&format!("{key}=\"")).find(|(i, _)| *i == 0 || labels[..*i].ends_with(','))?.0
        + key.len()
        + 2;
    let end = labels[start..].find('"')? + start;
    Some(&labels[start..end])
}

fn parse_f64(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# HELP playhouse_tick_lateness_seconds How late ticks ran.
# TYPE playhouse_tick_lateness_seconds histogram
playhouse_tick_lateness_seconds_sum{room_type=\"fanout\"} 0.5
playhouse_tick_lateness_seconds_count{room_type=\"fanout\"} 100
playhouse_tick_lateness_seconds_bucket{room_type=\"fanout\",le=\"0.001\"} 50
playhouse_tick_lateness_seconds_bucket{room_type=\"fanout\",le=\"0.01\"} 90
playhouse_tick_lateness_seconds_bucket{room_type=\"fanout\",le=\"+Inf\"} 100
playhouse_tick_lateness_seconds_bucket{le=\"0.001\",room_type=\"arena\"} 50
playhouse_tick_lateness_seconds_bucket{le=\"0.01\",room_type=\"arena\"} 50
playhouse_tick_lateness_seconds_bucket{le=\"+Inf\",room_type=\"arena\"} 100
playhouse_tick_lateness_seconds_buckets_other{le=\"1\"} 7
playhouse_tick_duration_seconds_bucket{le=\"0.001\"} 999
";

    #[test]
    fn sums_buckets_across_label_sets() {
        let b = Buckets::parse(TEXT, "playhouse_tick_lateness_seconds");
        assert_eq!(b.0, vec![(0.001, 100.0), (0.01, 140.0), (f64::INFINITY, 200.0)]);
        assert_eq!(b.count(), 200.0);
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket() {
        let b = Buckets(vec![(0.001, 100.0), (0.01, 140.0), (f64::INFINITY, 200.0)]);
        // rank 100 of 200: the end of the first bucket
        assert!((b.quantile(0.5).unwrap() - 0.001).abs() < 1e-12);
        // rank 50: half way through [0, 0.001]
        assert!((b.quantile(0.25).unwrap() - 0.0005).abs() < 1e-12);
        // rank 120: half way through (0.001, 0.01]
        assert!((b.quantile(0.6).unwrap() - 0.0055).abs() < 1e-12);
        // rank 198 falls in +Inf: the highest finite bound
        assert_eq!(b.quantile(0.99), Some(0.01));
        assert_eq!(Buckets::default().quantile(0.5), None);
    }

    #[test]
    fn since_subtracts_an_earlier_scrape() {
        let before = Buckets(vec![(0.001, 10.0), (f64::INFINITY, 10.0)]);
        let after = Buckets(vec![(0.001, 30.0), (f64::INFINITY, 40.0)]);
        assert_eq!(after.since(&before).0, vec![(0.001, 20.0), (f64::INFINITY, 30.0)]);
    }

    #[tokio::test]
    async fn gets_metrics_over_http() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.expect("accept");
            let mut req = vec![0u8; 1024];
            let n = sock.read(&mut req).await.expect("read");
            let req = String::from_utf8_lossy(&req[..n]).into_owned();
            let body = TEXT;
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                body.len()
            );
            sock.write_all(resp.as_bytes()).await.expect("write");
            req
        });
        let text = http_get(addr, "/metrics", Duration::from_secs(5)).await.expect("GET");
        assert!(server.await.expect("server task").starts_with("GET /metrics HTTP/1.1\r\n"));
        let b = Buckets::parse(&text, "playhouse_tick_lateness_seconds");
        assert_eq!(b.count(), 200.0);
    }

    #[test]
    fn parses_plain_and_chunked_responses() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
        assert_eq!(parse_response(plain).unwrap(), "hello");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), "hello world");
        assert!(parse_response(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
    }
}
