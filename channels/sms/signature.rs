//! Twilio-compatible request signatures (`X-Twilio-Signature`), as Twilio documents them and
//! its helper libraries compute them: base64(HMAC-SHA1(auth token, URL ‖ the POST
//! parameters sorted by name then value, each as name ‖ value)).
//!
//! Like the official validators, a URL is accepted signed with its port and without it
//! (proxies and load balancers add or drop default ports). For JSON bodies the URL carries
//! `bodySHA256` and only the URL is signed. Pure functions.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The signature of a request to `url` with form parameters `params`.
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    // HMAC accepts keys of any length; this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// True when `signature` signs this form request, with or without the URL's port.
pub fn validate(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    url_variants(url)
        .iter()
        .any(|candidate| constant_time_eq_str(&compute(auth_token, candidate, params), signature))
}

/// True when `signature` signs this JSON request: the URL's `bodySHA256` is the body's
/// SHA-256 and the URL alone is signed.
pub fn validate_body(auth_token: &str, url: &str, body: &[u8], signature: &str) -> bool {
    let Some(expected) = query_value(url, "bodySHA256") else {
        return false;
    };
    let actual: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    constant_time_eq_str(&actual, &expected.to_ascii_lowercase())
        && validate(auth_token, url, &[], signature)
}

/// The URL with its port (the scheme's default added when absent) and without any port.
fn url_variants(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return vec![url.to_owned()];
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    // An IPv6 literal keeps its brackets; a port follows the last ':' after them.
    let split = match hostport.rfind(']') {
        Some(bracket) => hostport[bracket..].find(':').map(|i| bracket + i),
        None => hostport.rfind(':'),
    };
    let (host, port) = match split {
        Some(i) => (&hostport[..i], Some(&hostport[i + 1..])),
        None => (hostport, None),
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => Some("443"),
        "http" => Some("80"),
        _ => None,
    };
    let with_port = match (port, default_port) {
        (Some(port), _) => format!("{scheme}://{userinfo}{host}:{port}{path}"),
        (None, Some(default)) => format!("{scheme}://{userinfo}{host}:{default}{path}"),
        (None, None) => url.to_owned(),
    };
    let without_port = format!("{scheme}://{userinfo}{host}{path}");
    vec![with_port, without_port]
}

/// The (undecoded) value of `name` in the URL's query string.
fn query_value(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or_default();
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

fn constant_time_eq_str(a: &str, b: &str) -> bool {
    crate::signing::constant_time_eq(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The vectors of Twilio's own helper-library tests (twilio-python `test_request_validator`).
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    #[test]
    fn signatures_match_twilios_published_vectors() {
        assert_eq!(
            compute(TOKEN, URL, &params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(validate(
            TOKEN,
            URL,
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // Repeated names: sorted by name, then value.
        let repeated: Vec<(String, String)> = [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(
            compute(TOKEN, URL, &repeated),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn ports_are_accepted_with_and_without() {
        let with_port = URL.replace(".com", ".com:1234");
        assert!(validate(
            TOKEN,
            &with_port,
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(
            validate(TOKEN, URL, &params(), "kvajT1Ptam85bY51eRf/AJRuM3w="),
            "https:443"
        );
        let http = URL.replace("https", "http");
        assert!(
            validate(TOKEN, &http, &params(), "0ZXoZLH/DfblKGATFgpif+LLRf4="),
            "http:80"
        );
        let http_port = with_port.replace("https", "http");
        assert!(validate(
            TOKEN,
            &http_port,
            &params(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
    }

    #[test]
    fn forged_or_altered_requests_are_refused() {
        assert!(!validate(
            "54321",
            URL,
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let mut altered = params();
        altered[1].1 = "9999".to_owned();
        assert!(!validate(
            TOKEN,
            URL,
            &altered,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!validate(TOKEN, URL, &params(), ""));
        assert!(!validate(
            TOKEN,
            "not a url",
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn json_bodies_are_signed_through_their_hash() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let url = format!(
            "{URL}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        );
        assert!(validate_body(
            TOKEN,
            &url,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(!validate_body(
            TOKEN,
            &url,
            b"{}",
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(!validate_body(
            TOKEN,
            URL,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
    }
}
