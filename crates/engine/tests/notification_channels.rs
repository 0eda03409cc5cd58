//! The notification channels against a real SQLite file: where the bot token
//! and the webhook's address are kept (the secret source, never the store),
//! what staff and the audit log see of them, the steps that refuse with the
//! fix, an older database's address moved on its first read, and a failed
//! delivery recorded. The secret source is a map: the keyring one is the
//! app's and is exercised by its keyring tests.

mod common;

use std::sync::{Arc, Mutex};

use common::MapSecrets;
use shareguard_engine::notification_channels::{Channels, SECRETS_OWNER, WEBHOOKS_KEY};
use shareguard_engine::secrets::Secret;
use shareguard_engine::ErrorKind;
use shareguard_store::{AuditFilter, Store};
use shareguard_webhook::{Event, GenericHook, TelegramHook, WebhookConfig};

const URL: &str = "https://hooks.example.com/T0/B1/s3cret?key=abc";
const TOKEN: &str = "123456789:AAfakeTokenForTests";

fn store() -> (tempfile::TempDir, Arc<Mutex<Store>>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("sg.db")).unwrap();
    (dir, Arc::new(Mutex::new(store)))
}

fn config(url: &str, chat: bool) -> WebhookConfig {
    WebhookConfig {
        generic: Some(GenericHook { url: url.into() }),
        telegram: chat.then(|| TelegramHook {
            chat_id: "-1001".into(),
            api_base: None,
        }),
    }
}

fn stored(store: &Arc<Mutex<Store>>) -> WebhookConfig {
    store
        .lock()
        .unwrap()
        .get_setting(WEBHOOKS_KEY)
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn secrets_go_to_the_secret_source_and_staff_see_only_scheme_and_host() {
    let (_dir, store) = store();
    let secrets = Arc::new(MapSecrets::default());
    let channels = Channels::new(store.clone(), secrets.clone());

    channels
        .save("owner", config(URL, true), Some(format!(" {TOKEN} ")))
        .await
        .unwrap();
    assert_eq!(
        secrets.get(Secret::WebhookUrl, SECRETS_OWNER).as_deref(),
        Some(URL)
    );
    assert_eq!(
        secrets.get(Secret::TelegramToken, SECRETS_OWNER).as_deref(),
        Some(TOKEN),
        "the token is kept trimmed"
    );
    let kept = stored(&store).generic.unwrap().url;
    assert!(!kept.contains("s3cret"), "the store keeps {kept}");

    let audit = store
        .lock()
        .unwrap()
        .audit_log(&AuditFilter {
            action: Some("settings_changed".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].operator, "owner");
    let details = audit[0].details.to_string();
    assert!(details.contains("hooks.example.com"), "{details}");
    assert!(
        !details.contains("s3cret") && !details.contains(TOKEN),
        "{details}"
    );

    let staff = channels.settings(false).await.unwrap();
    assert!(!staff.config.generic.unwrap().url.contains("s3cret"));
    assert!(staff.has_telegram_token);
    assert_eq!(staff.keyring, None);
    let owner = channels.settings(true).await.unwrap();
    assert_eq!(owner.config.generic.unwrap().url, URL);

    // Saving the cut form (as the settings show it to staff) keeps the address.
    channels
        .save("owner", config(&kept, true), None)
        .await
        .unwrap();
    assert_eq!(
        secrets.get(Secret::WebhookUrl, SECRETS_OWNER).as_deref(),
        Some(URL)
    );

    // Turning both channels off forgets both secrets.
    channels
        .save("owner", WebhookConfig::default(), None)
        .await
        .unwrap();
    assert!(secrets.is_empty());
}

#[tokio::test]
async fn a_channel_without_its_secret_is_refused_with_the_fix() {
    let (_dir, store) = store();
    let channels = Channels::new(store.clone(), Arc::new(MapSecrets::default()));

    // The address cut as staff see it, with no full address kept.
    let cut = config(URL, false).redacted();
    let e = channels.save("owner", cut, None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);
    assert!(e.message.contains("full address"), "{e}");

    let chat_only = WebhookConfig {
        generic: None,
        ..config(URL, true)
    };
    let e = channels.save("owner", chat_only, None).await.unwrap_err();
    assert!(e.message.contains("bot token"), "{e}");

    let e = channels
        .save("owner", config(URL, true), Some("not a token".into()))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput);

    let e = channels.test().await.unwrap_err();
    assert!(e.message.contains("save first"), "{e}");
    assert!(
        store
            .lock()
            .unwrap()
            .get_setting::<WebhookConfig>(WEBHOOKS_KEY)
            .unwrap()
            .is_none(),
        "nothing refused was stored"
    );
}

#[tokio::test]
async fn an_address_an_older_version_stored_moves_to_the_secrets_on_first_read() {
    let (_dir, store) = store();
    store
        .lock()
        .unwrap()
        .set_setting(WEBHOOKS_KEY, &config(URL, false))
        .unwrap();
    let secrets = Arc::new(MapSecrets::default());
    let channels = Channels::new(store.clone(), secrets.clone());

    let shown = channels.settings(true).await.unwrap();
    assert_eq!(shown.config.generic.unwrap().url, URL);
    assert_eq!(
        secrets.get(Secret::WebhookUrl, SECRETS_OWNER).as_deref(),
        Some(URL)
    );
    assert!(!stored(&store).generic.unwrap().url.contains("s3cret"));
}

#[tokio::test]
async fn a_lost_address_still_shows_the_settings_and_a_failed_delivery_is_recorded() {
    let (_dir, store) = store();
    // A port nothing listens on: every attempt is refused at once.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hook = format!("http://127.0.0.1:{port}/hook/key");
    let secrets = Arc::new(MapSecrets::default());
    let channels = Channels::new(store.clone(), secrets.clone());
    channels
        .save("owner", config(&hook, false), None)
        .await
        .unwrap();

    channels
        .deliver(&Event {
            title: "Flood from alice".into(),
            subscriber: Some("alice".into()),
            router: None,
            severity: "warning".into(),
            kind: "abuse".into(),
            details: "1,200 connections".into(),
            action: None,
            at: "2026-12-06T20:00:00Z".into(),
        })
        .await;
    let failed = store
        .lock()
        .unwrap()
        .audit_log(&AuditFilter {
            action: Some("notification_failed".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(failed.len(), 1, "one entry for the failed delivery");
    assert_eq!(failed[0].details["title"], "Flood from alice");

    // The keyring lost the address: the owner still sees scheme and host.
    secrets.delete_for_test(Secret::WebhookUrl, SECRETS_OWNER);
    let shown = channels.settings(true).await.unwrap();
    let url = shown.config.generic.unwrap().url;
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{port}")),
        "{url}"
    );
    assert!(!url.contains("key"), "{url}");
    let e = channels.test().await.unwrap_err();
    assert!(e.message.contains("enter it again"), "{e}");
}
