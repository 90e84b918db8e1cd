//! Finding the token in an upgrade request.

use actix_web::http::header;
use actix_web::HttpRequest;

/// The token of `req`: the `token` query parameter, else an
/// `Authorization: Bearer` header, else the cookie named `cookie`.
///
/// A query parameter ends up in access logs; prefer the header (native
/// clients) or first-message auth (browsers cannot set WebSocket headers).
pub fn token_from_request(req: &HttpRequest, cookie: Option<&str>) -> Option<String> {
    let from_query = req.query_string().split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "token" && !v.is_empty()).then(|| percent_decode(v))
    });
    if from_query.is_some() {
        return from_query;
    }
    let from_header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    if from_header.is_some() {
        return from_header;
    }
    let name = cookie?;
    // Parsed by hand: actix-web's cookie support is an optional feature
    // this crate does not otherwise need.
    req.headers().get_all(header::COOKIE).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.trim_matches('"').to_string())
    })
}

/// `%XX` and `+` decoding of a query value (JWTs need none, but a client
/// library may encode anyway). Invalid escapes are kept as they are.
fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn query_then_header_then_cookie() {
        let req = TestRequest::with_uri("/ws?a=1&token=abc%2Ed").to_http_request();
        assert_eq!(token_from_request(&req, None).as_deref(), Some("abc.d"));
        let req = TestRequest::with_uri("/ws").insert_header(("Authorization", "Bearer xyz")).to_http_request();
        assert_eq!(token_from_request(&req, None).as_deref(), Some("xyz"));
        let req = TestRequest::with_uri("/ws").insert_header(("Cookie", "other=1; pt=ck")).to_http_request();
        assert_eq!(token_from_request(&req, Some("pt")).as_deref(), Some("ck"));
        assert_eq!(token_from_request(&req, None), None);
        let req = TestRequest::with_uri("/ws?token=").insert_header(("Authorization", "Basic x")).to_http_request();
        assert_eq!(token_from_request(&req, None), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
