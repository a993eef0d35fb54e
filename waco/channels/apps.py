from django.apps import AppConfig

# Expiry is warned 14 days ahead, so four checks a day are plenty; an invalid token is caught
# sooner by the first send that gets a 190.
CHECK_TOKENS_EVERY_SECONDS = 6 * 60 * 60


class ChannelsConfig(AppConfig):
    """Business accounts and their phone numbers: tokens, limits, quality, throughput."""

    name = "waco.channels"
    label = "channels"
    verbose_name = "Channels"

    def ready(self):
        from waco import periodic

        periodic.register(
            periodic.PeriodicJob(
                name="channels.check_tokens", task="channels.check_tokens", every_seconds=CHECK_TOKENS_EVERY_SECONDS
            )
        )
