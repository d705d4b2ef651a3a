//! The one route decision: does a connection to a URL go direct, or through which proxy?
//! Flags, environment and OS settings are gathered once in [`ProxySettings`]; every outgoing
//! connection (endpoint steps, redirect hops, the direct look, CRL and CA downloads,
//! `fetch-ca`, `--login`) asks here, and `reqwest` clients get the same answer through
//! [`reqwest_proxy`].

pub use super::proxy::{Direct, Proxy, ProxySettings, Route};

/// The route for a connection to `host` with URL scheme `scheme`.
pub fn decide(settings: &ProxySettings, scheme: &str, host: &str) -> Route {
    let route = settings.route(scheme, host);
    match &route {
        Route::Via(p) => {
            tracing::info!(%scheme, %host, proxy = %p.url, source = %p.source, "route: via proxy")
        }
        Route::Direct(d) => tracing::info!(%scheme, %host, why = ?d, "route: direct"),
    }
    route
}

/// The route for a URL.
pub fn for_url(settings: &ProxySettings, url: &url::Url) -> Route {
    let host = url.host_str().unwrap_or("");
    let host = host.trim_start_matches('[').trim_end_matches(']');
    decide(settings, url.scheme(), host)
}

/// A `reqwest` proxy rule that asks [`for_url`] for every request: reqwest then tunnels
/// https through CONNECT and sends http in absolute form to the same proxy our own connector
/// would use. With this rule set, reqwest reads no proxy settings of its own.
pub fn reqwest_proxy(settings: ProxySettings) -> reqwest::Proxy {
    reqwest::Proxy::custom(move |url| match for_url(&settings, url) {
        Route::Via(p) => url::Url::parse(&p.url.with_credentials()).ok(),
        Route::Direct(_) => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::proxy::{Bypass, ProxyUrl, Source};

    fn settings() -> ProxySettings {
        let p = Proxy {
            url: ProxyUrl::parse("http://u:p%40ss@127.0.0.1:3128").unwrap(),
            source: Source::Flag,
        };
        ProxySettings {
            https: Some(p.clone()),
            http: Some(p),
            bypass: vec![Bypass::Domain("inside.example".into())],
            ..ProxySettings::default()
        }
    }

    #[test]
    fn urls_route_by_scheme_host_and_bypass() {
        let s = settings();
        let via = |u: &str| matches!(for_url(&s, &url::Url::parse(u).unwrap()), Route::Via(_));
        assert!(via("https://ds.e-kakushin.com/login"));
        assert!(via("http://crl.example/ca.crl"));
        assert!(via("http://localhost:8080/"));
        assert!(!via("https://a.inside.example/"));
        let off = ProxySettings {
            disabled: true,
            ..settings()
        };
        assert_eq!(
            for_url(&off, &url::Url::parse("https://x.example/").unwrap()),
            Route::Direct(Direct::Disabled)
        );
    }

    #[test]
    fn proxy_credentials_reach_reqwest_and_only_it() {
        let s = settings();
        let Route::Via(p) = s.route("https", "x.example") else {
            panic!("not proxied")
        };
        assert_eq!(p.url.to_string(), "http://***@127.0.0.1:3128");
        let u = url::Url::parse(&p.url.with_credentials()).unwrap();
        assert_eq!((u.username(), u.password()), ("u", Some("p%40ss")));
    }
}
