//! Deliveries over real loopback HTTP against a scripted server.

mod server;

use std::time::Duration;

use serde_json::json;
use server::{Reply, Server};
use shareguard_webhook::{
    validate, validate_bot_token, DeliveryOk, Event, GenericHook, Notifier, Retry, Target,
    TelegramHook, WebhookConfig, WebhookError,
};

const TOKEN: &str = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11";
const TELEGRAM_OK: &str = r#"{"ok":true,"result":{"message_id":1}}"#;

/// Short pauses so the retry tests stay fast.
fn quick(attempts: u32) -> Retry {
    Retry {
        attempts,
        first_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
    }
}

fn event() -> Event {
    Event {
        title: "Account shared by 3 devices".into(),
        subscriber: Some("alice".into()),
        router: Some("core-1".into()),
        severity: "high".into(),
        kind: "shared_account".into(),
        details: "3 devices within 10 minutes".into(),
        action: Some("disconnected".into()),
        at: "2024-05-01T10:00:00Z".into(),
    }
}

fn generic(url: String) -> WebhookConfig {
    WebhookConfig {
        generic: Some(GenericHook { url }),
        telegram: None,
    }
}

fn telegram(server: &Server, chat_id: &str) -> WebhookConfig {
    WebhookConfig {
        generic: None,
        telegram: Some(TelegramHook {
            chat_id: chat_id.into(),
            api_base: Some(server.base()),
        }),
    }
}

/// The only delivery's error.
fn only_error(mut deliveries: Vec<shareguard_webhook::Delivery>) -> WebhookError {
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    match deliveries.remove(0).result {
        Err(e) => e,
        Ok(ok) => panic!("expected a failure, got {ok:?}"),
    }
}

/// The only delivery's success.
fn only_success(mut deliveries: Vec<shareguard_webhook::Delivery>) -> DeliveryOk {
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    match deliveries.remove(0).result {
        Ok(ok) => ok,
        Err(e) => panic!("expected success, got {e}"),
    }
}

/// A port on which nothing listens: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn generic_post_is_the_event_as_json_with_source() {
    let server = Server::start(vec![Reply::status(202)]).await;
    let notifier = Notifier::new(generic(server.url("/hooks/abc?key=1")), None);

    let deliveries = notifier.send(&event()).await;

    assert_eq!(deliveries[0].target, Target::Generic);
    assert_eq!(
        only_success(deliveries),
        DeliveryOk {
            attempts: 1,
            status: 202
        }
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hooks/abc?key=1");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({
            "source": "shareguard",
            "title": "Account shared by 3 devices",
            "subscriber": "alice",
            "router": "core-1",
            "severity": "high",
            "kind": "shared_account",
            "details": "3 devices within 10 minutes",
            "action": "disconnected",
            "at": "2024-05-01T10:00:00Z",
        })
    );
}

#[tokio::test]
async fn telegram_posts_chat_id_and_text_to_the_bot_path() {
    let server = Server::start(vec![Reply::json(200, TELEGRAM_OK)]).await;
    let notifier = Notifier::new(telegram(&server, "-1001234567890"), Some(TOKEN.into()));

    let deliveries = notifier.send(&event()).await;

    assert_eq!(deliveries[0].target, Target::Telegram);
    assert_eq!(only_success(deliveries).attempts, 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, format!("/bot{TOKEN}/sendMessage"));
    let body = requests[0].json();
    assert_eq!(body["chat_id"], "-1001234567890");
    let text = body["text"].as_str().unwrap();
    assert!(text.starts_with("Account shared by 3 devices\n"), "{text}");
    assert!(text.contains("Subscriber: alice"), "{text}");
    assert!(text.contains("Action: disconnected"), "{text}");
    assert!(body.get("parse_mode").is_none(), "plain text only: {body}");
}

#[tokio::test]
async fn retries_after_503_and_succeeds() {
    let server = Server::start(vec![Reply::status(503), Reply::status(200)]).await;
    let notifier = Notifier::new(generic(server.url("/hook")), None).with_retry(quick(3));

    let ok = only_success(notifier.send(&event()).await);

    assert_eq!(
        ok,
        DeliveryOk {
            attempts: 2,
            status: 200
        }
    );
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.requests()[0].body, server.requests()[1].body);
}

#[tokio::test]
async fn server_errors_on_every_attempt_are_reported() {
    let server = Server::start(vec![Reply::status(500).body("database down")]).await;
    let notifier = Notifier::new(generic(server.url("/hook")), None).with_retry(quick(3));

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "server_error");
    assert!(
        matches!(err, WebhookError::ServerError { attempts: 3, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("500 Internal Server Error: database down"),
        "{text}"
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn bad_request_is_not_retried() {
    let server = Server::start(vec![
        Reply::status(400).body("unknown field"),
        Reply::status(200),
    ])
    .await;
    let notifier = Notifier::new(generic(server.url("/hook")), None).with_retry(quick(3));

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "rejected");
    assert!(
        err.to_string().contains("400 Bad Request: unknown field"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn redirect_is_reported_not_followed() {
    let server = Server::start(vec![
        Reply::status(301).header("Location", "https://new.example.com/hook"),
        Reply::status(200),
    ])
    .await;
    let notifier = Notifier::new(generic(server.url("/hook")), None).with_retry(quick(3));

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "rejected");
    assert!(
        err.to_string().contains("https://new.example.com/hook"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn telegram_401_is_unauthorized_and_hides_the_token() {
    let server = Server::start(vec![Reply::json(
        401,
        r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
    )])
    .await;
    let notifier = Notifier::new(telegram(&server, "42"), Some(TOKEN.into())).with_retry(quick(3));

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "unauthorized");
    assert_eq!(
        err.to_string(),
        "Telegram refused the bot token (401 Unauthorized): check the token from @BotFather"
    );
    assert!(!format!("{err:?}").contains(TOKEN));
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn telegram_description_is_quoted_and_redacted() {
    let description = format!("Bad Request: can't parse request to /bot{TOKEN}/sendMessage");
    let reply = json!({ "ok": false, "error_code": 400, "description": description });
    let server = Server::start(vec![Reply::json(400, &reply.to_string())]).await;
    let notifier = Notifier::new(telegram(&server, "42"), Some(TOKEN.into()));

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "rejected");
    let text = err.to_string();
    assert!(
        text.contains("can't parse request to /bot<token>/sendMessage"),
        "{text}"
    );
    assert!(
        !text.contains(TOKEN) && !text.contains("ABC-DEF1234"),
        "{text}"
    );
    assert!(!format!("{err:?}").contains("ABC-DEF1234"));
}

#[tokio::test]
async fn telegram_chat_not_found_says_what_to_check() {
    let server = Server::start(vec![Reply::json(
        400,
        r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
    )])
    .await;
    let notifier = Notifier::new(telegram(&server, "@nosuchchannel"), Some(TOKEN.into()));

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "rejected");
    let text = err.to_string();
    assert!(text.starts_with("chat not found"), "{text}");
    assert!(
        text.contains(
            "check the chat id \"@nosuchchannel\" and that the bot was added to the chat"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn timeout_is_reported_after_every_attempt() {
    let server = Server::start(vec![Reply::Hang]).await;
    let retry = Retry {
        attempts: 2,
        first_delay: Duration::from_millis(50),
        timeout: Duration::from_millis(300),
    };
    let notifier = Notifier::new(generic(server.url("/hook")), None).with_retry(retry);

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "timeout");
    assert!(
        matches!(err, WebhookError::Timeout { attempts: 2, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("no answer from the webhook at http://127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains("after 2 attempts (timed out after 0.3 s each)"),
        "{text}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let url = format!("http://127.0.0.1:{}/secret-path", closed_port());
    let notifier = Notifier::new(generic(url), None).with_retry(quick(2));

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "unreachable");
    assert!(
        matches!(err, WebhookError::Unreachable { attempts: 2, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert!(
        !text.contains("secret-path"),
        "only the origin is named: {text}"
    );
}

#[tokio::test]
async fn unreachable_telegram_error_hides_the_token() {
    let config = WebhookConfig {
        generic: None,
        telegram: Some(TelegramHook {
            chat_id: "42".into(),
            api_base: Some(format!("http://127.0.0.1:{}", closed_port())),
        }),
    };
    let notifier = Notifier::new(config, Some(TOKEN.into())).with_retry(quick(1));

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "unreachable");
    assert!(!err.to_string().contains("ABC-DEF1234"), "{err}");
    assert!(!format!("{err:?}").contains("ABC-DEF1234"), "{err:?}");
}

#[tokio::test]
async fn rate_limit_waits_as_long_as_the_header_says() {
    // The back-off would be ten minutes; only honouring "Retry-After: 1"
    // lets the delivery finish within the guard below.
    let server = Server::start(vec![
        Reply::status(429).header("Retry-After", "1"),
        Reply::status(200),
    ])
    .await;
    let retry = Retry {
        attempts: 2,
        first_delay: Duration::from_secs(600),
        timeout: Duration::from_secs(5),
    };
    let notifier = Notifier::new(generic(server.url("/hook")), None).with_retry(retry);

    let deliveries = tokio::time::timeout(Duration::from_secs(60), notifier.send(&event()))
        .await
        .expect("Retry-After was not honoured");

    assert_eq!(only_success(deliveries).attempts, 2);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn telegram_flood_limit_waits_as_long_as_the_json_says() {
    let server = Server::start(vec![
        Reply::json(
            429,
            r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#,
        ),
        Reply::json(200, TELEGRAM_OK),
    ])
    .await;
    let retry = Retry {
        attempts: 2,
        first_delay: Duration::from_secs(600),
        timeout: Duration::from_secs(5),
    };
    let notifier = Notifier::new(telegram(&server, "42"), Some(TOKEN.into())).with_retry(retry);

    let deliveries = tokio::time::timeout(Duration::from_secs(60), notifier.send(&event()))
        .await
        .expect("parameters.retry_after was not honoured");

    assert_eq!(only_success(deliveries).attempts, 2);
}

#[tokio::test]
async fn rate_limit_on_every_attempt_is_reported() {
    let server = Server::start(vec![Reply::status(429).header("Retry-After", "0")]).await;
    let notifier = Notifier::new(generic(server.url("/hook")), None).with_retry(quick(2));

    let err = only_error(notifier.send(&event()).await);

    assert_eq!(err.kind(), "rate_limited");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn both_channels_get_the_event() {
    let server = Server::start(vec![Reply::json(200, TELEGRAM_OK)]).await;
    let config = WebhookConfig {
        generic: Some(GenericHook {
            url: server.url("/hook"),
        }),
        telegram: Some(TelegramHook {
            chat_id: "42".into(),
            api_base: Some(server.base()),
        }),
    };
    let notifier = Notifier::new(config, Some(TOKEN.into()));

    let deliveries = notifier.send(&event()).await;

    let targets: Vec<Target> = deliveries.iter().map(|d| d.target).collect();
    assert_eq!(targets, [Target::Generic, Target::Telegram]);
    assert!(
        deliveries.iter().all(|d| d.result.is_ok()),
        "{deliveries:?}"
    );
    let mut paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/sendMessage",
            "/hook"
        ]
    );
}

#[tokio::test]
async fn nothing_configured_sends_nothing() {
    let notifier = Notifier::new(WebhookConfig::default(), Some(TOKEN.into()));
    assert!(notifier.send(&event()).await.is_empty());
}

#[tokio::test]
async fn test_sends_an_event_labelled_as_a_test() {
    let server = Server::start(vec![Reply::json(200, TELEGRAM_OK)]).await;
    let config = WebhookConfig {
        generic: Some(GenericHook {
            url: server.url("/hook"),
        }),
        telegram: Some(TelegramHook {
            chat_id: "42".into(),
            api_base: Some(server.base()),
        }),
    };
    let notifier = Notifier::new(config, Some(TOKEN.into()));

    let deliveries = notifier.test().await;

    assert_eq!(deliveries.len(), 2);
    assert!(
        deliveries.iter().all(|d| d.result.is_ok()),
        "{deliveries:?}"
    );
    let requests = server.requests();
    let generic = requests.iter().find(|r| r.path == "/hook").unwrap().json();
    assert_eq!(generic["source"], "shareguard");
    assert_eq!(generic["kind"], "test");
    assert!(
        generic["title"].as_str().unwrap().contains("test"),
        "{generic}"
    );
    let at = generic["at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    let telegram = requests.iter().find(|r| r.path != "/hook").unwrap().json();
    let text = telegram["text"].as_str().unwrap();
    assert!(text.starts_with("ShareGuard test notification"), "{text}");
}

#[tokio::test]
async fn missing_token_is_reported_without_sending() {
    let server = Server::start(vec![Reply::json(200, TELEGRAM_OK)]).await;
    let notifier = Notifier::new(telegram(&server, "42"), None);

    let err = only_error(notifier.send(&event()).await);

    assert!(matches!(err, WebhookError::MissingBotToken), "{err:?}");
    assert_eq!(err.kind(), "invalid_config");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn invalid_config_is_reported_without_sending() {
    let notifier = Notifier::new(generic("ftp://x".into()), None);
    let err = only_error(notifier.send(&event()).await);
    assert_eq!(err.kind(), "invalid_config");

    let server = Server::start(vec![Reply::json(200, TELEGRAM_OK)]).await;
    let notifier = Notifier::new(telegram(&server, "42"), Some("not/a:token".into()));
    let err = only_error(notifier.send(&event()).await);
    assert!(matches!(err, WebhookError::InvalidBotToken), "{err:?}");
    assert!(server.requests().is_empty());
}

#[test]
fn validate_rejects_bad_addresses_and_chat_ids() {
    for url in ["ftp://x", "not a url", "", "http://"] {
        let err = validate(&generic(url.into())).unwrap_err();
        assert_eq!(err.kind(), "invalid_config", "{url:?}");
        assert!(
            err.to_string().contains("is not a valid http(s) address"),
            "{url:?}: {err}"
        );
    }
    let err = validate(&generic("ftp://x".into())).unwrap_err();
    assert!(
        err.to_string().starts_with("the webhook URL \"ftp://x\""),
        "{err}"
    );

    let no_chat = WebhookConfig {
        generic: None,
        telegram: Some(TelegramHook {
            chat_id: "".into(),
            api_base: None,
        }),
    };
    assert!(matches!(
        validate(&no_chat),
        Err(WebhookError::InvalidChatId { .. })
    ));

    let bad_base = WebhookConfig {
        generic: None,
        telegram: Some(TelegramHook {
            chat_id: "42".into(),
            api_base: Some("api.telegram.org".into()),
        }),
    };
    assert_eq!(validate(&bad_base).unwrap_err().kind(), "invalid_config");
}

#[test]
fn validate_accepts_a_good_config() {
    assert!(validate(&WebhookConfig::default()).is_ok());
    let config = WebhookConfig {
        generic: Some(GenericHook {
            url: "https://hooks.example.com/shareguard?key=abc".into(),
        }),
        telegram: Some(TelegramHook {
            chat_id: "@isp_alerts".into(),
            api_base: None,
        }),
    };
    assert!(validate(&config).is_ok());
}

#[test]
fn bot_token_format() {
    assert!(validate_bot_token(TOKEN).is_ok());
    assert!(validate_bot_token("1:a").is_ok(), "length is not checked");
    assert!(validate_bot_token(&format!(" {TOKEN}\n")).is_ok());
    for bad in [
        "", "123456", ":abc", "123456:", "abc:def", "12 3:abc", "123:ab/c", "123:ab?c",
    ] {
        assert!(
            matches!(validate_bot_token(bad), Err(WebhookError::InvalidBotToken)),
            "{bad:?}"
        );
    }
    assert!(!WebhookError::InvalidBotToken.to_string().contains(TOKEN));
}

#[test]
fn debug_hides_the_token() {
    let config = WebhookConfig {
        generic: None,
        telegram: Some(TelegramHook {
            chat_id: "42".into(),
            api_base: None,
        }),
    };
    let notifier = Notifier::new(config, Some(TOKEN.into()));
    let debug = format!("{notifier:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(!debug.contains("ABC-DEF1234"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(
        debug.contains("chat_id"),
        "the rest is still shown: {debug}"
    );
}
