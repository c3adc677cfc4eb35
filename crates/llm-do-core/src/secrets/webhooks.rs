//! Webhook URLs: a Slack or Discord incoming webhook's URL is its own credential (whoever has
//! it can post to the channel), with no prefix or key name to recognise it by — only its host
//! and the fixed path before the secret. The scheme, host and that path stay visible
//! (`https://hooks.slack.com/services/[redacted]`), so a reader still sees where it pointed.

use super::{REDACTED, token_len};

/// Slack's webhook host, and the paths after which a webhook's secret starts.
const SLACK_HOST: &str = "hooks.slack.com";
const SLACK_PATHS: &[&str] = &["/services/", "/workflows/", "/triggers/"];

/// Discord's hosts; a webhook's path is `/api/webhooks/` or `/api/vN/webhooks/`.
const DISCORD_HOSTS: &[&str] = &[
    "discord.com",
    "discordapp.com",
    "ptb.discord.com",
    "canary.discord.com",
    "ptb.discordapp.com",
    "canary.discordapp.com",
];

/// At a Slack or Discord webhook URL (`http://` or `https://`, any case): writes it with the
/// part after its fixed path redacted and returns the bytes consumed. `None` when `rest` does
/// not start one, or when nothing follows the fixed path (the bare endpoint names no webhook).
pub(super) fn webhook_at(rest: &str, out: &mut String) -> Option<usize> {
    let head = |n: usize| rest.get(..n);
    let scheme = if head(8).is_some_and(|h| h.eq_ignore_ascii_case("https://")) {
        8
    } else if head(7).is_some_and(|h| h.eq_ignore_ascii_case("http://")) {
        7
    } else {
        return None;
    };
    let after = &rest[scheme..];
    let slash = after.find('/').filter(|&i| i <= 64)?;
    let (authority, path) = after.split_at(slash);
    // A port does not change the service (`hooks.slack.com:443`).
    let host = authority.split_once(':').map_or(authority, |(host, _)| host);
    let fixed = if host.eq_ignore_ascii_case(SLACK_HOST) {
        SLACK_PATHS.iter().find(|p| path.starts_with(*p)).map(|p| p.len())?
    } else if DISCORD_HOSTS.iter().any(|h| host.eq_ignore_ascii_case(h)) {
        discord_path(path)?
    } else {
        return None;
    };
    let secret = token_len(&path[fixed..]);
    if secret == 0 {
        return None;
    }
    let kept = scheme + slash + fixed;
    out.push_str(&rest[..kept]);
    out.push_str(REDACTED);
    Some(kept + secret)
}

/// The length of `/api/webhooks/` or `/api/vN/webhooks/` at the start of `path`.
fn discord_path(path: &str) -> Option<usize> {
    let api = path.strip_prefix("/api/")?;
    let version = match api.strip_prefix('v') {
        Some(v) => {
            let digits = v.bytes().take_while(u8::is_ascii_digit).count();
            (digits > 0 && v[digits..].starts_with('/')).then_some(1 + digits + 1)?
        }
        None => 0,
    };
    api[version..].starts_with("webhooks/").then_some("/api/".len() + version + "webhooks/".len())
}
