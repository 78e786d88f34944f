//! Which channels a message tries, in which order.

use crate::channels::ChannelKind;
use crate::config::Route;
use crate::incidents::model::{Environment, Severity};

/// The order channels are tried in when no route matches.
pub const DEFAULT_ORDER: [ChannelKind; 4] = [
    ChannelKind::Slack,
    ChannelKind::Telegram,
    ChannelKind::WhatsApp,
    ChannelKind::Console,
];

/// The ordered channel list for a message of `severity` in `environment`: the first matching
/// route's channels that are configured, or every configured channel in the default order.
pub fn order(
    routes: &[Route],
    configured: &[ChannelKind],
    severity: Severity,
    environment: Environment,
) -> Vec<ChannelKind> {
    let matches = |route: &&Route| {
        route.severity.is_none_or(|s| s == severity)
            && route.environment.is_none_or(|e| e == environment)
    };
    let wanted: Vec<ChannelKind> = match routes.iter().find(matches) {
        Some(route) => route.channels.clone(),
        None => DEFAULT_ORDER.to_vec(),
    };
    let mut order = Vec::new();
    for kind in wanted {
        if configured.contains(&kind) && !order.contains(&kind) {
            order.push(kind);
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChannelKind::*;

    fn route(
        severity: Option<Severity>,
        env: Option<Environment>,
        channels: &[ChannelKind],
    ) -> Route {
        Route {
            severity,
            environment: env,
            channels: channels.to_vec(),
        }
    }

    #[test]
    fn the_first_matching_route_decides_and_unconfigured_channels_are_left_out() {
        let routes = [
            route(
                Some(Severity::Critical),
                Some(Environment::Production),
                &[WhatsApp, Slack],
            ),
            route(Some(Severity::Critical), None, &[Telegram, Slack]),
        ];
        let configured = [Slack, Telegram];
        let prod = order(
            &routes,
            &configured,
            Severity::Critical,
            Environment::Production,
        );
        assert_eq!(prod, [Slack]);
        let staging = order(
            &routes,
            &configured,
            Severity::Critical,
            Environment::Staging,
        );
        assert_eq!(staging, [Telegram, Slack]);
    }

    #[test]
    fn without_a_matching_route_every_configured_channel_is_tried_in_the_default_order() {
        let routes = [route(Some(Severity::Critical), None, &[Telegram])];
        let configured = [WhatsApp, Telegram, Slack];
        let order = order(&routes, &configured, Severity::Warning, Environment::Demo);
        assert_eq!(order, [Slack, Telegram, WhatsApp]);
    }
}
